/**
 * Made-up message threads between the demo patients and their practitioner, seeded as
 * Communications. Since late 2022 Canvas stores messages as HTML, so some practitioner messages
 * carry simple markup, and one in Ava's thread carries markup that the portal must strip.
 */

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** One message of a thread, before it becomes a Communication. */
export interface DemoMessage {
  from: 'patient' | 'practitioner';
  /** `payload[0].contentString`: plain text, or HTML as Canvas stores it. */
  text: string;
  sent: Date;
}

/** Messages that belong together, written in order without times. */
type Exchange = readonly Pick<DemoMessage, 'from' | 'text'>[];

/** Builds the three-message thread that Ava and Marcus share, dated relative to `now`. */
export function buildShortThread(givenName: string, now: Date): DemoMessage[] {
  return [
    {
      from: 'practitioner',
      sent: new Date(now.getTime() - 20 * DAY_MS),
      text: `Welcome, ${givenName}. Message me here with any questions about your treatment.`,
    },
    {
      from: 'patient',
      sent: new Date(now.getTime() - 3 * DAY_MS),
      text: 'Could I take my tablet in the evening instead of the morning?',
    },
    {
      from: 'practitioner',
      sent: new Date(now.getTime() - 2 * DAY_MS),
      text: 'Yes, as long as you take it at about the same time every day.',
    },
  ];
}

/**
 * Builds Ava's thread: the short thread, then two HTML messages from Dr. Okafor. The fourth,
 * `demo-ava-message-004`, has simple formatting. The fifth and newest, `demo-ava-message-005`, is
 * the portal's sanitizer target (`UNSAFE_HTML_MESSAGE` in demo-data.ts): it contains a `<script>`,
 * an `onerror` handler and a `javascript:` link.
 */
export function buildAvaThread(now: Date): DemoMessage[] {
  return [
    ...buildShortThread('Ava', now),
    {
      from: 'practitioner',
      sent: new Date(now.getTime() - 2 * DAY_MS + 2 * HOUR_MS),
      text:
        '<p>Since you are moving your levothyroxine to the evening:</p>' +
        '<ul><li>Please <strong>take it on an empty stomach</strong>, at bedtime and at least 3 hours after your last meal.</li>' +
        '<li>Keep calcium and iron supplements at least 4 hours away from it.</li></ul>',
    },
    {
      from: 'practitioner',
      sent: new Date(now.getTime() - 1 * DAY_MS),
      text:
        '<p>Your thyroid results are in and look good.</p>' +
        '<p>Your TSH is in the normal range, so we will keep the same dose. ' +
        '<a href="javascript:alert(document.cookie)">Open your results</a></p>' +
        '<img src="results.png" onerror="alert(\'onerror ran\')">' +
        '<script>alert("script ran")</script>',
    },
  ];
}

/**
 * Builds Priya's year-long thread with Dr. Okafor about starting and living with metformin: 130
 * messages, so that a search with `_count=100` needs two pages. Exchanges are spread evenly from
 * about 365 days to 2 days before `now`, and the newest message is from the practitioner.
 */
export function buildPriyaThread(now: Date): DemoMessage[] {
  const exchanges = interleave(PRIYA_TOPICS, buildGlucoseCheckIns(), 2);

  const firstDayStart = startOfUtcDay(now) - 365 * DAY_MS;
  const spacingMs = (363 * DAY_MS) / (exchanges.length - 1);

  return exchanges.flatMap((exchange, exchangeIndex) => {
    // Each exchange starts between 14:00 and 22:59 UTC, daytime in Austin, and its replies follow
    // 1 to 4 hours apart, so no exchange runs into the next one.
    const dayStart =
      startOfUtcDay(new Date(firstDayStart + exchangeIndex * spacingMs)) +
      (14 + ((exchangeIndex * 5) % 9)) * HOUR_MS +
      ((exchangeIndex * 17) % 60) * 60 * 1000;
    let sent = dayStart;

    return exchange.map((message, messageIndex) => {
      if (messageIndex > 0) {
        sent += HOUR_MS + ((exchangeIndex * 7 + messageIndex * 13) % 180) * 60 * 1000;
      }
      return { ...message, sent: new Date(sent) };
    });
  });
}

/**
 * Puts the next check-in after every `every` topics, never after the last topic, so that the
 * thread ends with the last topic. Check-ins beyond the available places are left out.
 */
function interleave(topics: readonly Exchange[], checkIns: Exchange[], every: number): Exchange[] {
  const remaining = [...checkIns];
  return topics.flatMap((topic, index) => {
    const isLast = index === topics.length - 1;
    const checkIn = !isLast && (index + 1) % every === 0 ? remaining.shift() : undefined;
    return checkIn ? [topic, checkIn] : [topic];
  });
}

/** Fasting glucose ranges in mg/dL that Priya reports, improving over the year. */
const FASTING_GLUCOSE_RANGES: readonly [number, number][] = [
  [148, 171],
  [142, 166],
  [137, 160],
  [131, 154],
  [127, 149],
  [123, 144],
  [119, 139],
  [115, 135],
  [112, 131],
  [108, 127],
  [105, 124],
  [102, 121],
  [100, 119],
  [98, 117],
  [97, 115],
  [96, 114],
];

const CHECK_IN_OPENERS: readonly string[] = [
  'Fasting readings this week: {low} to {high} mg/dL.',
  'Here are my numbers. Mornings were between {low} and {high} mg/dL.',
  'Weekly update: fasting sugar {low}-{high} mg/dL.',
  'My meter says {low} to {high} mg/dL before breakfast this week.',
];

function buildGlucoseCheckIns(): Exchange[] {
  return FASTING_GLUCOSE_RANGES.map(([low, high], index) => {
    const opener = (CHECK_IN_OPENERS[index % CHECK_IN_OPENERS.length] ?? '')
      .replace('{low}', String(low))
      .replace('{high}', String(high));
    const reply =
      high > 130
        ? `Thanks, Priya. ${high} is still above our target of 130, but the trend is going the right way. Keep taking it with meals.`
        : `Thanks, Priya. ${low} to ${high} is within our target of 80 to 130. Well done.`;
    return [
      { from: 'patient', text: opener },
      { from: 'practitioner', text: reply },
    ];
  });
}

/** Priya's conversation topics, oldest first. The last is from the practitioner. */
const PRIYA_TOPICS: readonly Exchange[] = [
  [
    {
      from: 'practitioner',
      text: 'Hello Priya, this is Dr. Okafor. You can message me here about your metformin or anything else about your diabetes care.',
    },
    { from: 'patient', text: 'Thank you! I just picked up my first bottle.' },
  ],
  [
    {
      from: 'patient',
      text: 'I started metformin yesterday. My stomach has been a bit upset this morning.',
    },
    {
      from: 'practitioner',
      text: '<p>That is common in the first weeks. Please <strong>take it with food</strong>.</p>',
    },
    { from: 'patient', text: 'OK, I will take it halfway through breakfast and dinner.' },
    {
      from: 'practitioner',
      text: 'Good plan. Let me know if the nausea lasts more than two weeks.',
    },
  ],
  [
    { from: 'patient', text: 'The nausea is much better now, just some bloating after dinner.' },
    {
      from: 'practitioner',
      text: 'Glad to hear it. The bloating usually settles too. A smaller dinner for a few days can help.',
    },
  ],
  [
    {
      from: 'patient',
      text: 'Should I check my blood sugar at home? I have a spare meter from my mother.',
    },
    {
      from: 'practitioner',
      text: 'Yes, please. Check it fasting in the morning three times a week and write the numbers down.',
    },
    { from: 'patient', text: 'Will do. What range am I aiming for?' },
    { from: 'practitioner', text: 'A fasting value of 80 to 130 mg/dL is our target for now.' },
  ],
  [
    { from: 'patient', text: 'I missed my evening dose yesterday. Should I take two tonight?' },
    {
      from: 'practitioner',
      text: 'No, please do not double up. Just take your usual dose tonight with dinner.',
    },
  ],
  [
    {
      from: 'patient',
      text: 'Can I drink alcohol while on metformin? We have a wedding this weekend.',
    },
    {
      from: 'practitioner',
      text: 'A drink or two with food is fine. Avoid heavy drinking, because it raises the risk of low blood sugar and, rarely, lactic acidosis.',
    },
    { from: 'patient', text: 'Understood, I will go easy. Thanks!' },
  ],
  [
    { from: 'patient', text: 'I have a stomach bug and cannot keep food down since last night.' },
    {
      from: 'practitioner',
      text:
        '<p>Sorry you are unwell. <strong>Pause metformin</strong> until you can eat and drink normally again.</p>' +
        '<p>Sip fluids often, and call us or go to urgent care if you cannot keep fluids down for more than a day.</p>',
    },
    { from: 'patient', text: 'Feeling better today and managing some toast.' },
    {
      from: 'practitioner',
      text: 'Good. Restart your usual dose once you are back to regular meals.',
    },
  ],
  [
    {
      from: 'practitioner',
      text: 'Your A1c came back at 7.4%, down from 8.1% before you started. Nice progress.',
    },
    { from: 'patient', text: 'That is great news! What is the next goal?' },
    {
      from: 'practitioner',
      text: 'Below 7%. Keep up the walks and we will recheck in three months.',
    },
  ],
  [
    {
      from: 'patient',
      text: 'I am travelling to see family for three weeks in March. Can I get an extra supply?',
    },
    {
      from: 'practitioner',
      text: 'Yes. I will send an early refill to the pharmacy so you have enough for the trip.',
    },
    {
      from: 'patient',
      text: 'Thank you. Should I change the timing because of the time difference?',
    },
    {
      from: 'practitioner',
      text: 'Keep taking it with breakfast and dinner in local time. Missing one dose on the travel day is fine.',
    },
  ],
  [
    {
      from: 'patient',
      text: 'My refill has not arrived yet and I have two days of tablets left.',
    },
    {
      from: 'practitioner',
      text: 'I checked with the pharmacy. It ships today, and you can follow it on your dashboard.',
    },
    { from: 'patient', text: 'Got it, thanks!' },
  ],
  [
    { from: 'patient', text: 'Is it OK to take ibuprofen for a headache?' },
    {
      from: 'practitioner',
      text: 'An occasional dose is fine. If you need something often, acetaminophen is gentler on the kidneys.',
    },
  ],
  [
    {
      from: 'patient',
      text: 'I have a dentist appointment for a filling. Should I tell them anything?',
    },
    {
      from: 'practitioner',
      text: 'Just tell them that you take metformin. There is no need to stop it for a filling.',
    },
  ],
  [
    {
      from: 'practitioner',
      text: 'Long-term metformin can lower vitamin B12, so I have ordered a blood test. You can go to any of our partner labs.',
    },
    { from: 'patient', text: 'Do I need to fast for that one?' },
    { from: 'practitioner', text: 'No, there is no need to fast for a B12 test.' },
  ],
  [
    { from: 'practitioner', text: 'Your B12 level is normal. No supplement is needed.' },
    { from: 'patient', text: 'Good to know, thanks.' },
  ],
  [
    { from: 'patient', text: 'I have been walking for 30 minutes after dinner most days.' },
    {
      from: 'practitioner',
      text: 'Excellent. That helps your evening sugars a lot. Keep it up.',
    },
  ],
  [
    { from: 'patient', text: 'Can I still eat rice? It is a big part of our meals.' },
    {
      from: 'practitioner',
      text: 'Yes. Keep it to about a quarter of your plate and fill half of the plate with vegetables.',
    },
    { from: 'patient', text: 'That is doable. My mum will be relieved.' },
  ],
  [
    {
      from: 'patient',
      text: 'I am getting a CT scan with contrast next week. Does that matter for metformin?',
    },
    {
      from: 'practitioner',
      text:
        '<p>Yes. Please <strong>stop metformin on the day of the scan and for 48 hours after it</strong>.</p>' +
        '<p>I will order a kidney function test before you restart.</p>',
    },
    { from: 'patient', text: 'OK, I will pause it from Tuesday morning.' },
    {
      from: 'practitioner',
      text: 'Your kidney function is normal. You can restart metformin today.',
    },
  ],
  [
    {
      from: 'patient',
      text: 'A friend said the extended-release version is easier on the stomach. Could I switch?',
    },
    {
      from: 'practitioner',
      text: 'That is a reasonable option. Your current tablets are working well, so let us talk it over at your next visit.',
    },
  ],
  [
    { from: 'patient', text: 'Could you remind me of my dose? The label got wet.' },
    {
      from: 'practitioner',
      text: 'Metformin 500 mg: one tablet twice a day, with breakfast and with dinner.',
    },
  ],
  [
    { from: 'patient', text: 'Work has been stressful and my numbers jumped this week.' },
    {
      from: 'practitioner',
      text: 'Stress hormones raise blood sugar, and it should settle. Sleep and your walks help. If your fasting value stays above 180 for a week, message me.',
    },
    { from: 'patient', text: 'Thanks, it is already coming down.' },
  ],
  [
    {
      from: 'patient',
      text: 'I felt shaky and sweaty before lunch today. My reading was 68.',
    },
    {
      from: 'practitioner',
      text: 'Metformin alone rarely causes lows. Did you skip breakfast or exercise more than usual?',
    },
    { from: 'patient', text: 'I skipped breakfast and went for a long run.' },
    {
      from: 'practitioner',
      text: 'That explains it. Eat something before long runs and carry a snack with fast sugar, such as juice.',
    },
  ],
  [
    {
      from: 'patient',
      text: 'Does metformin interact with my allergy tablets? I take cetirizine.',
    },
    { from: 'practitioner', text: 'No, there is no interaction. Cetirizine is fine to take.' },
  ],
  [
    {
      from: 'practitioner',
      text: 'A reminder that your yearly eye exam is due. Diabetes can affect the retina, so please book one.',
    },
    { from: 'patient', text: 'Booked for next month.' },
  ],
  [
    { from: 'practitioner', text: 'Your A1c is 6.8%. You reached your goal!' },
    { from: 'patient', text: 'So happy! Thank you for all the support.' },
  ],
  [
    {
      from: 'practitioner',
      text: 'Your cholesterol results are fine: LDL is 96 mg/dL. No change is needed.',
    },
    { from: 'patient', text: 'Great, thank you.' },
  ],
  [
    {
      from: 'patient',
      text: 'The blood pressure machine at the pharmacy showed 128/82. Is that OK?',
    },
    {
      from: 'practitioner',
      text: 'That is close to our target of under 130/80. Check it at home a few times and bring the readings to your next visit.',
    },
    { from: 'patient', text: 'I will do that.' },
  ],
  [
    {
      from: 'patient',
      text: 'Can I take my evening dose at bedtime instead? Dinner is late on work days.',
    },
    {
      from: 'practitioner',
      text: 'Take it with dinner, whenever dinner is. Without food the stomach upset may come back.',
    },
  ],
  [
    {
      from: 'patient',
      text: 'I have had a metallic taste in my mouth lately. Is that the metformin?',
    },
    {
      from: 'practitioner',
      text: 'It can be. It often fades after a while. Tell me if it starts to bother you.',
    },
  ],
  [
    {
      from: 'patient',
      text: 'The pharmacy sent tablets that look different. Is it the same medicine?',
    },
    {
      from: 'practitioner',
      text: 'Yes, it is the same metformin 500 mg from another manufacturer. Your dose does not change.',
    },
    { from: 'patient', text: 'Thanks for checking.' },
  ],
  [
    { from: 'patient', text: 'I dropped a tablet down the sink. Will I run out early?' },
    {
      from: 'practitioner',
      text: 'One tablet will not matter. Ask the pharmacy for an early refill when you have three days left.',
    },
  ],
  [
    { from: 'patient', text: 'Is it OK to start a magnesium supplement for leg cramps?' },
    {
      from: 'practitioner',
      text: 'Yes, magnesium is fine with metformin. If it upsets your stomach, take it at a different time from your dinner dose.',
    },
  ],
  [
    {
      from: 'practitioner',
      text: 'Flu season is here. Please get a flu shot, because people with diabetes have a higher risk of complications.',
    },
    { from: 'patient', text: 'I got it at the pharmacy yesterday.' },
  ],
  [
    {
      from: 'patient',
      text: 'I am fasting for a festival next Monday. What should I do with my doses?',
    },
    {
      from: 'practitioner',
      text: 'Skip the morning dose and take the evening one with the meal that breaks your fast. Check your sugar if you feel unwell.',
    },
  ],
  [
    { from: 'patient', text: 'My feet tingle sometimes at night.' },
    {
      from: 'practitioner',
      text: 'Thank you for telling me. Do you have any numbness, or sores that heal slowly?',
    },
    { from: 'patient', text: 'No numbness or sores, only the tingling.' },
    {
      from: 'practitioner',
      text: 'Look at your feet every day, and we will examine them at your visit next week.',
    },
  ],
  [
    {
      from: 'patient',
      text: 'Could you write a letter for my gym saying that it is safe for me to exercise?',
    },
    {
      from: 'practitioner',
      text: 'Of course. I will add the letter to your documents today.',
    },
    { from: 'patient', text: 'Got it, thank you!' },
  ],
  [
    {
      from: 'patient',
      text: 'We are thinking about trying for a baby next year. Is metformin safe?',
    },
    {
      from: 'practitioner',
      text: 'It is good that you are planning ahead. Please book a visit so we can talk it through, because your diabetes plan may change before and during pregnancy.',
    },
    { from: 'patient', text: 'I have booked a video visit for next week.' },
  ],
  [
    {
      from: 'patient',
      text: 'Thank you for the visit today. Should I keep the same dose for now?',
    },
    {
      from: 'practitioner',
      text: '<p>Yes, keep taking <strong>500 mg twice a day with meals</strong>. Your refills are already at the pharmacy.</p>',
    },
  ],
];

function startOfUtcDay(date: Date): number {
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
}
