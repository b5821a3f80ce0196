import type {
  CodeableConcept,
  Dosage,
  DosageDoseAndRate,
  Duration,
  Period,
  Quantity,
  Range,
  Timing,
  TimingRepeat,
} from '@medplum/fhirtypes';

import { formatCalendarDate } from '~/utils/dates';

import {
  formatNumber,
  formatQuantity,
  formatRatio,
  labelFromCodeableConcept,
  lookupOwn,
  lowerCaseWords,
  textFromCodeableConcept,
  timeUnitWords,
  unitOf,
} from './medication-name';

export const NO_DOSAGE_DETAILS = 'No dosage details were provided.';
export const NO_DOSAGE_INSTRUCTIONS = 'No dosage instructions were provided.';

const SNOMED_SYSTEM = 'http://snomed.info/sct';
const GTS_ABBREVIATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation';

type DosageVerb = 'Take' | 'Apply' | 'Inject' | 'Use';

interface RouteKind {
  /** Words that follow the dose, e.g. "by mouth". */
  phrase: string;
  verb: DosageVerb;
  /** SNOMED CT route concepts, plus the qualifier-value codes that the FHIR R4 examples use. */
  snomedCodes: string[];
  /** Matched against the lower-cased route text or display when no code matches. */
  keyword: RegExp;
}

/** Routes in match order: the specific routes come before "oral" so "oral inhalation" matches. */
const ROUTE_KINDS: RouteKind[] = [
  {
    phrase: 'under the skin',
    verb: 'Inject',
    snomedCodes: ['34206005', '263887005'],
    keyword: /\bsubcutaneous|\bsubcut\b|\bsc\b|\bsq\b/,
  },
  {
    phrase: 'into a muscle',
    verb: 'Inject',
    snomedCodes: ['78421000', '255559005'],
    keyword: /\bintramuscular|\bim\b/,
  },
  {
    phrase: 'into a vein',
    verb: 'Inject',
    snomedCodes: ['47625008', '255560000'],
    keyword: /\bintravenous|\biv\b/,
  },
  {
    phrase: 'to the skin',
    verb: 'Apply',
    snomedCodes: ['45890007'],
    keyword: /\btransdermal/,
  },
  {
    phrase: 'topically',
    verb: 'Apply',
    snomedCodes: ['6064005', '359540000'],
    keyword: /\btopical|\bcutaneous\b|\bdermal\b/,
  },
  { phrase: 'in the eye', verb: 'Use', snomedCodes: ['54485002'], keyword: /\bophthalmic|\beye/ },
  { phrase: 'in the ear', verb: 'Use', snomedCodes: ['10547007'], keyword: /\botic\b|\bear\b/ },
  {
    phrase: 'in the nose',
    verb: 'Use',
    snomedCodes: ['46713006'],
    keyword: /\bnasal|\bintranasal|\bnose\b/,
  },
  { phrase: 'rectally', verb: 'Use', snomedCodes: ['37161004'], keyword: /\brectal|\brectum\b/ },
  { phrase: 'vaginally', verb: 'Use', snomedCodes: ['16857009'], keyword: /\bvagina/ },
  {
    phrase: 'under the tongue',
    verb: 'Take',
    snomedCodes: ['37839007'],
    keyword: /\bsublingual/,
  },
  {
    phrase: 'by inhalation',
    verb: 'Use',
    snomedCodes: ['447694001'],
    keyword: /\binhal|\brespiratory/,
  },
  { phrase: 'by mouth', verb: 'Take', snomedCodes: ['26643006'], keyword: /\boral\b|\bby mouth\b/ },
];

/** Dose units that call for a verb other than "Take" when the dosage names no route. */
const VERB_FOR_DOSE_UNIT: Record<string, DosageVerb> = {
  patch: 'Apply',
  application: 'Apply',
  suppository: 'Use',
  'vaginal suppository': 'Use',
  'vaginal tablet': 'Use',
};

/** HL7 v3 GTSAbbreviation codes (Timing.code) as phrases. Q<n>H codes are matched by pattern. */
const TIMING_CODE_PHRASES: Record<string, string> = {
  QD: 'once daily',
  BID: 'twice daily',
  TID: '3 times daily',
  QID: '4 times daily',
  QOD: 'every other day',
  AM: 'every morning',
  PM: 'every evening',
  WK: 'weekly',
  MO: 'monthly',
};

type EventTiming = NonNullable<TimingRepeat['when']>[number];

interface EventPhrase {
  phrase: string;
  /** Direction of `offset` minutes. FHIR assumes "after" when the event code gives none. */
  offset?: { direction: 'before' | 'after'; anchor: string };
}

/** Timing.repeat.when codes (FHIR EventTiming and v3 TimingEvent). */
const EVENT_PHRASES: Record<EventTiming, EventPhrase> = {
  MORN: { phrase: 'in the morning' },
  'MORN.early': { phrase: 'early in the morning' },
  'MORN.late': { phrase: 'late in the morning' },
  NOON: { phrase: 'at noon' },
  AFT: { phrase: 'in the afternoon' },
  'AFT.early': { phrase: 'early in the afternoon' },
  'AFT.late': { phrase: 'late in the afternoon' },
  EVE: { phrase: 'in the evening' },
  'EVE.early': { phrase: 'early in the evening' },
  'EVE.late': { phrase: 'late in the evening' },
  NIGHT: { phrase: 'at night' },
  PHS: { phrase: 'after sleep', offset: { direction: 'after', anchor: 'sleep' } },
  HS: { phrase: 'at bedtime', offset: { direction: 'before', anchor: 'bedtime' } },
  WAKE: { phrase: 'on waking', offset: { direction: 'after', anchor: 'waking' } },
  C: { phrase: 'with meals', offset: { direction: 'after', anchor: 'the start of meals' } },
  CM: {
    phrase: 'with breakfast',
    offset: { direction: 'after', anchor: 'the start of breakfast' },
  },
  CD: { phrase: 'with lunch', offset: { direction: 'after', anchor: 'the start of lunch' } },
  CV: { phrase: 'with dinner', offset: { direction: 'after', anchor: 'the start of dinner' } },
  AC: { phrase: 'before meals', offset: { direction: 'before', anchor: 'meals' } },
  ACM: { phrase: 'before breakfast', offset: { direction: 'before', anchor: 'breakfast' } },
  ACD: { phrase: 'before lunch', offset: { direction: 'before', anchor: 'lunch' } },
  ACV: { phrase: 'before dinner', offset: { direction: 'before', anchor: 'dinner' } },
  PC: { phrase: 'after meals', offset: { direction: 'after', anchor: 'meals' } },
  PCM: { phrase: 'after breakfast', offset: { direction: 'after', anchor: 'breakfast' } },
  PCD: { phrase: 'after lunch', offset: { direction: 'after', anchor: 'lunch' } },
  PCV: { phrase: 'after dinner', offset: { direction: 'after', anchor: 'dinner' } },
};

const DAY_NAMES: Record<NonNullable<TimingRepeat['dayOfWeek']>[number], string> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};

/** Adverbs for "once daily" and "twice weekly", keyed by Timing.repeat.periodUnit. */
const PERIOD_ADVERBS: Record<NonNullable<TimingRepeat['periodUnit']>, string> = {
  s: 'a second',
  min: 'a minute',
  h: 'an hour',
  d: 'daily',
  wk: 'weekly',
  mo: 'monthly',
  a: 'yearly',
};

function nonBlank(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function isPositiveNumber(value: number | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** Joins phrases as English does: "a", "a and b", "a, b and c". */
function joinWithAnd(phrases: string[]): string {
  if (phrases.length <= 1) return phrases.join('');
  return `${phrases.slice(0, -1).join(', ')} and ${phrases.at(-1)}`;
}

/** Formats a number of time units: "1 hour", "8 hours", "4 to 6 hours". */
function formatTimeSpan(value: number, max: number | undefined, unit: string): string | undefined {
  const words = timeUnitWords(unit);
  if (!words) return undefined;

  if (isPositiveNumber(max) && max !== value) {
    return `${formatNumber(value)} to ${formatNumber(max)} ${words.plural}`;
  }
  return `${formatNumber(value)} ${value === 1 ? words.singular : words.plural}`;
}

/** Formats a Range as "1 to 2 tablets", "up to 2 tablets" or "at least 1 tablet". */
function formatRange(range: Range | undefined): string | undefined {
  const low = formatQuantity(range?.low);
  const high = formatQuantity(range?.high);
  if (low && high) {
    // "1 to 2 tablets" reads better than "1 tablet to 2 tablets", so a shared unit appears once.
    const sameUnit = unitOf(range?.low) === unitOf(range?.high);
    const lowNumber = formatQuantity({ ...range?.low, unit: undefined, code: undefined });
    return `${sameUnit && lowNumber ? lowNumber : low} to ${high}`;
  }
  if (high) return `up to ${high}`;
  if (low) return `at least ${low}`;
  return undefined;
}

/**
 * Picks the first entry typed "ordered" for which `has` is true, else the first for which it
 * is true. An entry with only a `type` never qualifies.
 */
function pickDoseAndRate(
  entries: DosageDoseAndRate[],
  has: (entry: DosageDoseAndRate) => boolean,
): DosageDoseAndRate | undefined {
  const candidates = entries.filter(has);
  const ordered = candidates.find((entry) =>
    entry.type?.coding?.some((coding) => coding.code === 'ordered'),
  );
  return ordered ?? candidates[0];
}

function pickDose(entries: DosageDoseAndRate[]): DosageDoseAndRate | undefined {
  return pickDoseAndRate(entries, (candidate) => Boolean(describeDose(candidate)));
}

/** Describes the dose, leaving out a zero or negative dose (bad data) rather than printing "Take 0 tablet". */
function describeDose(entry: DosageDoseAndRate | undefined): string | undefined {
  const quantity = entry?.doseQuantity;
  const doseQuantity = isPositiveNumber(quantity?.value) ? formatQuantity(quantity) : undefined;
  return doseQuantity ?? formatRange(entry?.doseRange);
}

/** Returns true when a Quantity's unit is a UCUM time unit, so a "rate" reads as a duration. */
function isTimeQuantity(quantity: Quantity | undefined): boolean {
  const unit = nonBlank(quantity?.unit) ?? nonBlank(quantity?.code);
  return timeUnitWords(unit) !== undefined;
}

/**
 * Describes the rate as "at 7.5 mL/h" or "at 100 mL per hour". A rate measured in time alone
 * (rateRange 2 to 5 min) is how long to give the dose over, so it reads "over 2 to 5 minutes".
 */
function describeRate(entries: DosageDoseAndRate[]): string | undefined {
  const entry = pickDoseAndRate(entries, (candidate) =>
    Boolean(
      formatRatio(candidate.rateRatio) ??
        formatRange(candidate.rateRange) ??
        formatQuantity(candidate.rateQuantity),
    ),
  );
  if (!entry) return undefined;

  const ratio = formatRatio(entry.rateRatio);
  if (ratio) return `at ${ratio}`;

  const range = formatRange(entry.rateRange);
  if (range) {
    const overTime = isTimeQuantity(entry.rateRange?.high ?? entry.rateRange?.low);
    return overTime ? `over ${range}` : `at ${range}`;
  }

  const quantity = formatQuantity(entry.rateQuantity);
  if (!quantity) return undefined;
  return isTimeQuantity(entry.rateQuantity) ? `over ${quantity}` : `at ${quantity}`;
}

function findRouteKind(route: CodeableConcept | undefined): RouteKind | undefined {
  for (const coding of route?.coding ?? []) {
    if (coding.system !== SNOMED_SYSTEM || !coding.code) continue;
    const kind = ROUTE_KINDS.find((candidate) => candidate.snomedCodes.includes(coding.code ?? ''));
    if (kind) return kind;
  }

  const labels = [route?.text, ...(route?.coding ?? []).map((coding) => coding.display)]
    .map((label) => nonBlank(label)?.toLowerCase())
    .filter((label): label is string => label !== undefined);
  return ROUTE_KINDS.find((candidate) => labels.some((label) => candidate.keyword.test(label)));
}

/** Describes the route as "by mouth", "into a vein", or "via <route>" for other routes. */
function describeRoute(route: CodeableConcept | undefined): string | undefined {
  const kind = findRouteKind(route);
  if (kind) return kind.phrase;

  const label = labelFromCodeableConcept(route);
  return label ? `via ${lowerCaseWords(label)}` : undefined;
}

function chooseVerb(
  route: CodeableConcept | undefined,
  dose: DosageDoseAndRate | undefined,
): DosageVerb {
  const kind = findRouteKind(route);
  if (kind) return kind.verb;
  if (labelFromCodeableConcept(route)) return 'Use';

  // Without a route the dose unit is the only hint: a patch or suppository is never swallowed.
  const doseUnit = unitOf(dose?.doseQuantity ?? dose?.doseRange?.high ?? dose?.doseRange?.low);
  return lookupOwn(VERB_FOR_DOSE_UNIT, doseUnit) ?? 'Take';
}

/**
 * Describes frequency per period: "once daily", "twice daily", "3 times weekly", "every 8
 * hours", "every other day", "1 to 2 times daily", "every 4 to 6 hours".
 */
function describeFrequency(repeat: TimingRepeat): string | undefined {
  const { period, periodMax, periodUnit } = repeat;
  if (!isPositiveNumber(period) || !periodUnit) {
    // A frequency without a usable period must not vanish: "Take 1 tablet." would read as one dose.
    if (!isPositiveNumber(repeat.frequency)) return undefined;
    return `${formatNumber(repeat.frequency)} ${repeat.frequency === 1 ? 'time' : 'times'} (how often was not given; ask your pharmacist)`;
  }

  const frequency = isPositiveNumber(repeat.frequency) ? repeat.frequency : 1;
  const frequencyMax =
    isPositiveNumber(repeat.frequencyMax) && repeat.frequencyMax > frequency
      ? repeat.frequencyMax
      : undefined;
  const hasPeriodMax = isPositiveNumber(periodMax) && periodMax > period;

  let times: string;
  if (frequencyMax) times = `${formatNumber(frequency)} to ${formatNumber(frequencyMax)} times`;
  else if (frequency === 1) times = 'once';
  else if (frequency === 2) times = 'twice';
  else times = `${formatNumber(frequency)} times`;

  const unitWords = timeUnitWords(periodUnit);
  const adverb = lookupOwn(PERIOD_ADVERBS, periodUnit);
  if (!unitWords || !adverb) {
    // An invalid unit is shown as it is rather than dropped.
    return `${times} every ${formatNumber(period)} ${periodUnit}`;
  }

  if (period === 1 && !hasPeriodMax) {
    const isShortUnit = ['s', 'min', 'h'].includes(periodUnit);
    return times === 'once' && isShortUnit ? `every ${unitWords.singular}` : `${times} ${adverb}`;
  }

  // "Every other day" only for one dose: "3 times every other day" could mean 3 doses on each
  // alternate day, but FHIR means 3 doses per 2 days.
  if (
    times === 'once' &&
    period === 2 &&
    !hasPeriodMax &&
    ['d', 'wk', 'mo', 'a'].includes(periodUnit)
  ) {
    return `every other ${unitWords.singular}`;
  }
  const span = formatTimeSpan(period, hasPeriodMax ? periodMax : undefined, periodUnit);
  return times === 'once' ? `every ${span}` : `${times} every ${span}`;
}

/** Describes how long each administration lasts: "over 30 minutes". */
function describeAdministrationDuration(repeat: TimingRepeat): string | undefined {
  if (!isPositiveNumber(repeat.duration) || !repeat.durationUnit) return undefined;
  const span = formatTimeSpan(repeat.duration, repeat.durationMax, repeat.durationUnit);
  return span ? `over ${span}` : undefined;
}

/**
 * Describes `when` events: "before breakfast", "10 minutes before breakfast", "at bedtime".
 * Codes outside EventTiming are shown as they are.
 */
function describeWhen(repeat: TimingRepeat): string | undefined {
  const offsetMinutes = isPositiveNumber(repeat.offset) ? repeat.offset : undefined;
  const phrases = (repeat.when ?? []).map((code) => {
    const event = lookupOwn<EventPhrase>(EVENT_PHRASES, code);
    if (!event) return code;
    // NOTE: an offset from a part of the day (MORN, EVE, ...) has no clear meaning for a
    // patient, so those events are described without it.
    if (!offsetMinutes || !event.offset) return event.phrase;
    const minutes = formatTimeSpan(offsetMinutes, undefined, 'min');
    return `${minutes} ${event.offset.direction} ${event.offset.anchor}`;
  });
  return phrases.length > 0 ? joinWithAnd(phrases) : undefined;
}

function describeDaysOfWeek(repeat: TimingRepeat): string | undefined {
  const days = (repeat.dayOfWeek ?? []).map((day) => lookupOwn(DAY_NAMES, day) ?? day);
  return days.length > 0 ? `on ${joinWithAnd(days)}` : undefined;
}

/** Describes `timeOfDay` as "at 08:00 and 20:00", dropping zero seconds. */
function describeTimesOfDay(repeat: TimingRepeat): string | undefined {
  const times = (repeat.timeOfDay ?? [])
    .map((time) => nonBlank(time)?.replace(/^(\d{2}:\d{2}):00$/, '$1'))
    .filter((time): time is string => time !== undefined);
  return times.length > 0 ? `at ${joinWithAnd(times)}` : undefined;
}

/**
 * Formats the calendar date of a FHIR date or dateTime as written, ignoring any time and zone.
 * Returns undefined for a value that is not a valid date.
 */
function formatBoundDate(value: string | undefined): string | undefined {
  const date = value?.match(/^\d{4}-\d{2}-\d{2}/)?.[0];
  if (!date || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) return undefined;
  return formatCalendarDate(date);
}

function describePeriodBounds(period: Period | undefined): string | undefined {
  const start = formatBoundDate(period?.start);
  const end = formatBoundDate(period?.end);
  if (start && end) return `from ${start} to ${end}`;
  if (end) return `until ${end}`;
  if (start) return `starting ${start}`;
  return undefined;
}

function describeDurationBounds(duration: Duration | undefined): string | undefined {
  const value = duration?.value;
  if (!isPositiveNumber(value)) return undefined;
  const unit = nonBlank(duration?.code) ?? nonBlank(duration?.unit);
  const span = unit ? formatTimeSpan(value, undefined, unit) : undefined;
  const text = span ?? formatQuantity(duration);
  return text ? `for ${text}` : undefined;
}

/** Describes the course length: "for 10 days", "for 5 to 7 days" or the boundsPeriod dates. */
function describeBounds(repeat: TimingRepeat): string | undefined {
  const duration = describeDurationBounds(repeat.boundsDuration);
  if (duration) return duration;

  const low = repeat.boundsRange?.low?.value;
  const high = repeat.boundsRange?.high?.value;
  const unit = nonBlank(repeat.boundsRange?.high?.code) ?? nonBlank(repeat.boundsRange?.low?.code);
  if (isPositiveNumber(low) && isPositiveNumber(high) && unit) {
    const span = formatTimeSpan(low, high, unit);
    if (span) return `for ${span}`;
  }
  const range = formatRange(repeat.boundsRange);
  if (range) return `for ${range}`;

  return describePeriodBounds(repeat.boundsPeriod);
}

/** Describes `count`: "as a single dose", "for 6 doses", "for 6 to 8 doses". */
function describeCount(repeat: TimingRepeat): string | undefined {
  const { count, countMax } = repeat;
  if (!isPositiveNumber(count)) return undefined;
  if (isPositiveNumber(countMax) && countMax > count) {
    return `for ${formatNumber(count)} to ${formatNumber(countMax)} doses`;
  }
  return count === 1 ? 'as a single dose' : `for ${formatNumber(count)} doses`;
}

/**
 * Describes `timing.code`: its `text`, else the phrase for a known GTSAbbreviation code, else
 * the display, else the code as it is.
 */
function describeTimingCode(code: CodeableConcept | undefined): string | undefined {
  const text = nonBlank(code?.text);
  if (text) return text;

  for (const coding of code?.coding ?? []) {
    if (coding.system && coding.system !== GTS_ABBREVIATION_SYSTEM) continue;
    const abbreviation = nonBlank(coding.code)?.toUpperCase();
    if (!abbreviation) continue;

    const phrase = lookupOwn(TIMING_CODE_PHRASES, abbreviation);
    if (phrase) return phrase;

    const hours = abbreviation.match(/^Q(\d+)H$/)?.[1];
    if (hours) return hours === '1' ? 'every hour' : `every ${hours} hours`;
  }
  return labelFromCodeableConcept(code);
}

/** Describes the timing as phrases in reading order. */
function describeTiming(timing: Timing | undefined): string[] {
  const repeat = timing?.repeat ?? {};
  // timing.code is shorthand for a repeat pattern, so it is shown only when `repeat` gives no
  // frequency of its own.
  const frequency = describeFrequency(repeat) ?? describeTimingCode(timing?.code);
  return [
    frequency,
    describeAdministrationDuration(repeat),
    describeWhen(repeat),
    describeDaysOfWeek(repeat),
    describeTimesOfDay(repeat),
    describeBounds(repeat),
    describeCount(repeat),
  ].filter((phrase): phrase is string => phrase !== undefined);
}

/** Describes PRN use: "as needed" or "as needed for pain". */
function describeAsNeeded(dosage: Dosage): string | undefined {
  const concept = dosage.asNeededCodeableConcept;
  const reason = textFromCodeableConcept(concept);
  if (reason) return `as needed for ${lowerCaseWords(reason)}`;

  const code = labelFromCodeableConcept(concept);
  if (code) return `as needed for code ${code}`;

  return dosage.asNeededBoolean === true ? 'as needed' : undefined;
}

/** Describes a maximum's denominator as "day", "24 hours" or "2 weeks". */
function describeMaxDosePeriod(denominator: Quantity | undefined): string | undefined {
  const value = denominator?.value;
  const unit = nonBlank(denominator?.code) ?? nonBlank(denominator?.unit);
  if (!isPositiveNumber(value) || !unit) return undefined;

  const words = timeUnitWords(unit);
  if (words && value === 1) return words.singular;
  return formatTimeSpan(value, undefined, unit) ?? formatQuantity(denominator);
}

/** Describes the maximum doses: "no more than 4 mg per dose and 720 mg per day". */
function describeMaxDoses(dosage: Dosage): string | undefined {
  const limits: string[] = [];

  const perPeriodAmount = formatQuantity(dosage.maxDosePerPeriod?.numerator);
  const perPeriod = describeMaxDosePeriod(dosage.maxDosePerPeriod?.denominator);
  if (perPeriodAmount) {
    limits.push(perPeriod ? `${perPeriodAmount} per ${perPeriod}` : perPeriodAmount);
  }

  const perAdministration = formatQuantity(dosage.maxDosePerAdministration);
  if (perAdministration) limits.push(`${perAdministration} per dose`);

  const perLifetime = formatQuantity(dosage.maxDosePerLifetime);
  if (perLifetime) limits.push(`${perLifetime} in total`);

  return limits.length > 0 ? `no more than ${joinWithAnd(limits)}` : undefined;
}

/** Builds a sentence such as "Take 1 tablet by mouth twice daily as needed for pain." */
function buildDosageSentence(dosage: Dosage): string {
  const entries = dosage.doseAndRate ?? [];
  const dose = pickDose(entries);
  const phrases = [
    describeDose(dose),
    describeRoute(dosage.route),
    describeRate(entries),
    ...describeTiming(dosage.timing),
    describeAsNeeded(dosage),
  ].filter((phrase): phrase is string => phrase !== undefined);
  const maxDoses = describeMaxDoses(dosage);

  if (phrases.length === 0 && !maxDoses) return NO_DOSAGE_DETAILS;

  const verb = chooseVerb(dosage.route, dose);
  let sentence = [verb, ...phrases].join(' ');
  if (maxDoses) sentence = phrases.length > 0 ? `${sentence}, ${maxDoses}` : `${verb} ${maxDoses}`;
  return `${sentence.replace(/[\s.]+$/, '')}.`;
}

/**
 * Describes one Dosage for a patient: `patientInstruction` as written, else `text` as written,
 * else a sentence built from the structured fields. Never returns an empty string.
 */
export function describeDosage(dosage: Dosage): string {
  return (
    nonBlank(dosage.patientInstruction) ?? nonBlank(dosage.text) ?? buildDosageSentence(dosage)
  );
}

/**
 * Describes each Dosage in `sequence` order; entries without a sequence keep their place after
 * the sequenced ones. Returns one placeholder line when there are none.
 */
export function describeDosageInstructions(dosages: Dosage[] | undefined): string[] {
  if (!dosages || dosages.length === 0) return [NO_DOSAGE_INSTRUCTIONS];

  const ordered = dosages
    .map((dosage, index) => ({ dosage, index }))
    .sort((a, b) => {
      const aSequence = a.dosage.sequence ?? Number.POSITIVE_INFINITY;
      const bSequence = b.dosage.sequence ?? Number.POSITIVE_INFINITY;
      return aSequence === bSequence ? a.index - b.index : aSequence - bSequence;
    });
  return ordered.map(({ dosage }) => describeDosage(dosage));
}
