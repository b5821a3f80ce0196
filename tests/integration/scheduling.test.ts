import type { Appointment, Bundle, Endpoint, Slot } from '@medplum/fhirtypes';
import { Temporal } from 'temporal-polyfill';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  demoPatient,
  type PatientClient,
  readPageHtml,
  signInOncePerEmail,
} from '../support/patient-client';
import { FIXTURE_PATIENT } from '../../sandbox/demo-data';
import { startPortalServer, type PortalServer } from '../support/portal-server';
import { setSandboxFault } from '../support/sandbox-control';
import { SandboxFhir } from '../support/sandbox-fhir';

interface SlotJson {
  slotId: string;
  start: string;
  end: string;
  timeZone: string;
  practitioner: { id: string; name: string };
}

interface AvailabilityJson {
  date: string;
  timeZone: string;
  slots: SlotJson[];
}

interface VisitJson {
  appointmentId: string;
  start: string;
  end: string;
  joinUrl: string;
}

interface ZoomMeetingJson {
  id: number;
  start_time: string;
  duration: number;
  join_url: string;
}

interface MailJson {
  to: string;
  subject: string;
  text: string | null;
  attachments: { filename: string; type: string | null; content: string }[];
}

/** A practitioner and patient that only these tests use, in America/New_York. */
const NY_PRACTITIONER = 'test-dr-nightingale';
const NY_PATIENT = { id: 'test-patient-ny', email: 'eleanor.vance@example.com' };
const NY = 'America/New_York';

let portal: PortalServer;
let fhir: SandboxFhir;
let signIn: (email: string) => Promise<PatientClient>;

beforeAll(async () => {
  // A two-year horizon reaches the next spring-forward and fall-back days from any date.
  portal = await startPortalServer({ BOOKING_HORIZON_DAYS: '730', UPSTREAM_TIMEOUT_MS: '1500' });
  fhir = new SandboxFhir(portal.baseUrl);
  signIn = signInOncePerEmail(portal.baseUrl);
  await seedNewYorkPractice();
});

afterAll(async () => {
  await portal?.stop();
});

const ava = () => signIn(demoPatient(0).email);
const marcus = () => signIn(demoPatient(1).email);
const priya = () => signIn(demoPatient(2).email);

async function availability(client: PatientClient, date: string): Promise<AvailabilityJson> {
  const response = await client.request(`/api/patient/availability?date=${date}`);
  expect(response.status).toBe(200);
  return (await response.json()) as AvailabilityJson;
}

/** Returns the first open slot from `daysAhead` days on, looking up to two weeks further. */
async function firstOpenSlot(client: PatientClient, daysAhead: number): Promise<SlotJson> {
  const today = Temporal.Now.plainDateISO(demoPatient(0).timeZone);
  for (let offset = daysAhead; offset < daysAhead + 14; offset++) {
    const { slots } = await availability(client, today.add({ days: offset }).toString());
    const slot = slots.at(offset % Math.max(slots.length, 1)) ?? slots[0];
    if (slot) return slot;
  }
  throw new Error('No open slot in two weeks.');
}

async function book(client: PatientClient, slot: SlotJson, key?: string): Promise<Response> {
  return client.postJson('/api/patient/appointments', slot, key ? { 'idempotency-key': key } : {});
}

async function zoomMeetings(): Promise<ZoomMeetingJson[]> {
  const response = await fetch(`${portal.baseUrl}/sandbox/zoom/meetings`);
  return ((await response.json()) as { meetings: ZoomMeetingJson[] }).meetings;
}

async function readAppointment(id: string): Promise<Appointment> {
  const bundle = await fhir.search<Bundle<Appointment>>(`Appointment?_id=${id}`);
  const appointment = bundle.entry?.[0]?.resource;
  if (!appointment) throw new Error(`Appointment ${id} not found in the sandbox.`);
  return appointment;
}

async function mailsTo(email: string): Promise<MailJson[]> {
  const response = await fetch(
    `${portal.baseUrl}/sandbox/mail/messages?to=${encodeURIComponent(email)}`,
  );
  return (await response.json()) as MailJson[];
}

/** Reads the calendar file of the newest email to `email` whose subject starts with `subject`. */
async function latestCalendarFile(email: string, subject: string): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const mail = (await mailsTo(email)).find((message) => message.subject.startsWith(subject));
    const calendar = mail?.attachments.find((attachment) => attachment.filename.endsWith('.ics'));
    if (calendar) return calendar.content;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`No email "${subject}" with a calendar file to ${email}.`);
}

function calendarProperty(calendar: string, name: string): string | undefined {
  const unfolded = calendar.replace(/\r\n[ \t]/g, '');
  return new RegExp(`^${name}[;:](.*)$`, 'm').exec(unfolded)?.[1]?.replace(/\r$/, '');
}

/** Builds free Slot resources at the given instants for the New York practitioner. */
function slotsAt(instants: Temporal.Instant[]): (Slot & { id: string })[] {
  return instants.map((instant) => ({
    resourceType: 'Slot',
    id: `${NY_PRACTITIONER}-${instant.epochMilliseconds}`,
    schedule: { reference: `Schedule/Location.1-Staff.${NY_PRACTITIONER}` },
    status: 'free',
    start: instant.toString(),
    end: instant.add({ minutes: 30 }).toString(),
  }));
}

/** Returns every instant at which New York clocks read 00:00 to 03:30 on `date`, twice in a repeated hour. */
function earlyMorningInstants(date: Temporal.PlainDate): Temporal.Instant[] {
  const instants: Temporal.Instant[] = [];
  for (let minutes = 0; minutes < 240; minutes += 30) {
    const wall = date.toPlainDateTime({ hour: Math.floor(minutes / 60), minute: minutes % 60 });
    const earlier = wall.toZonedDateTime(NY, { disambiguation: 'earlier' });
    const later = wall.toZonedDateTime(NY, { disambiguation: 'later' });
    // A wall time that does not exist resolves to a different wall time: skip it.
    if (earlier.toPlainDateTime().equals(wall)) instants.push(earlier.toInstant());
    if (!later.equals(earlier) && later.toPlainDateTime().equals(wall)) {
      instants.push(later.toInstant());
    }
  }
  return instants;
}

/** Finds the next date after today on which New York's UTC offset changes. */
function nextTransition(direction: 'spring' | 'fall'): Temporal.PlainDate {
  let day = Temporal.Now.plainDateISO(NY).add({ days: 1 });
  for (let count = 0; count < 400; count++) {
    const startOffset = day.toZonedDateTime(NY).offsetNanoseconds;
    const endOffset = day.add({ days: 1 }).toZonedDateTime(NY).offsetNanoseconds;
    if ((direction === 'spring' ? endOffset > startOffset : endOffset < startOffset) && count > 0) {
      return day;
    }
    day = day.add({ days: 1 });
  }
  throw new Error(`No ${direction} transition within 400 days.`);
}

/** Seeds a New York patient and practitioner with slots on DST days and around midnight. */
async function seedNewYorkPractice(): Promise<void> {
  await fhir.put({
    resourceType: 'Practitioner',
    id: NY_PRACTITIONER,
    name: [{ given: ['Florence'], family: 'Nightingale' }],
  });
  await fhir.put({
    resourceType: 'Schedule',
    id: `Location.1-Staff.${NY_PRACTITIONER}`,
    active: true,
    actor: [{ reference: `Practitioner/${NY_PRACTITIONER}` }],
  });
  await fhir.put({
    resourceType: 'Patient',
    id: NY_PATIENT.id,
    name: [{ given: ['Eleanor'], family: 'Vance' }],
    telecom: [{ system: 'email', value: NY_PATIENT.email }],
    extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/timezone', valueCode: NY }],
    generalPractitioner: [{ reference: `Practitioner/${NY_PRACTITIONER}` }],
  });

  const nearMidnight = Temporal.Now.plainDateISO(NY).add({ days: 10 });
  const midnightInstants = [
    nearMidnight.toPlainDateTime({ hour: 23, minute: 30 }).toZonedDateTime(NY).toInstant(),
    nearMidnight.add({ days: 1 }).toZonedDateTime(NY).toInstant(),
  ];
  const slots = slotsAt([
    ...earlyMorningInstants(nextTransition('spring')),
    ...earlyMorningInstants(nextTransition('fall')),
    ...midnightInstants,
  ]);
  for (const slot of slots) await fhir.put(slot);
}

describe('availability', () => {
  it('lists open slots with offsets in the patient time zone', async () => {
    const client = await ava();
    const slot = await firstOpenSlot(client, 3);

    expect(slot.timeZone).toBe('America/Chicago');
    expect(slot.start).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00-0[56]:00$/);
    expect(Date.parse(slot.end) - Date.parse(slot.start)).toBe(30 * 60_000);
    expect(slot.practitioner).toEqual({ id: 'demo-dr-okafor', name: 'Nia Okafor' });
    // Dr. Okafor works from 09:00 New York time, which is 08:00 in Chicago.
    const hour = Number(slot.start.slice(11, 13));
    expect(hour).toBeGreaterThanOrEqual(8);
  });

  it('rejects a malformed date', async () => {
    const client = await ava();
    for (const date of ['', '2026-02-30', 'tomorrow', '2026-1-5']) {
      const response = await client.request(`/api/patient/availability?date=${date}`);
      expect(response.status, date).toBe(400);
    }
  });

  it('skips the missing hour on the spring-forward day', async () => {
    const client = await signIn(NY_PATIENT.email);
    const { slots } = await availability(client, nextTransition('spring').toString());
    const times = slots.map((slot) => slot.start.slice(11));

    expect(times).toEqual([
      '00:00:00-05:00',
      '00:30:00-05:00',
      '01:00:00-05:00',
      '01:30:00-05:00',
      '03:00:00-04:00',
      '03:30:00-04:00',
    ]);
  });

  it('lists the repeated hour twice on the fall-back day', async () => {
    const client = await signIn(NY_PATIENT.email);
    const { slots } = await availability(client, nextTransition('fall').toString());
    const times = slots.map((slot) => slot.start.slice(11));

    expect(times).toEqual([
      '00:00:00-04:00',
      '00:30:00-04:00',
      '01:00:00-04:00',
      '01:30:00-04:00',
      '01:00:00-05:00',
      '01:30:00-05:00',
      '02:00:00-05:00',
      '02:30:00-05:00',
      '03:00:00-05:00',
      '03:30:00-05:00',
    ]);
    const page = await readPageHtml(
      await client.request(`/scheduling?date=${nextTransition('fall').toString()}`),
    );
    expect(page).toContain('1:30 AM EDT');
    expect(page).toContain('1:30 AM EST');
  });

  it('assigns slots near midnight to dates', async () => {
    const client = await signIn(NY_PATIENT.email);
    const date = Temporal.Now.plainDateISO(NY).add({ days: 10 });

    const sameDay = await availability(client, date.toString());
    const nextDay = await availability(client, date.add({ days: 1 }).toString());

    expect(sameDay.slots.map((slot) => slot.start)).toEqual([
      `${date.toString()}T23:30:00${offsetOf(date)}`,
    ]);
    expect(nextDay.slots.map((slot) => slot.start.slice(11, 19))).toEqual(['00:00:00']);
  });
});

function offsetOf(date: Temporal.PlainDate): string {
  return date.toPlainDateTime({ hour: 23, minute: 30 }).toZonedDateTime(NY).offset;
}

describe('booking', () => {
  it('books a visit end to end', async () => {
    const client = await ava();
    const slot = await firstOpenSlot(client, 4);
    const meetingsBefore = await zoomMeetings();

    const response = await book(client, slot);
    expect(response.status).toBe(201);
    const { appointment: visit } = (await response.json()) as { appointment: VisitJson };
    expect(JSON.stringify(visit)).not.toContain('start_url');

    const appointment = await readAppointment(visit.appointmentId);
    expect(appointment.status).toBe('booked');
    expect(appointment.appointmentType?.coding?.[0]?.code).toBe('448337001');
    expect(Date.parse(appointment.start ?? '')).toBe(Date.parse(slot.start));
    expect(
      appointment.participant.map((participant) => [
        participant.actor?.reference,
        participant.status,
      ]),
    ).toEqual([
      ['Patient/demo-ava', 'accepted'],
      ['Practitioner/demo-dr-okafor', 'accepted'],
    ]);
    expect(appointment.supportingInformation?.map((reference) => reference.reference)).toEqual([
      'Location/1',
      '#appointment-meeting-endpoint-0',
    ]);
    const endpoint = appointment.contained?.[0] as Endpoint | undefined;
    expect(endpoint?.address).toBe(visit.joinUrl);

    const meetings = await zoomMeetings();
    expect(meetings).toHaveLength(meetingsBefore.length + 1);
    const meeting = meetings.find((candidate) => candidate.join_url === visit.joinUrl);
    expect(meeting?.start_time).toBe(new Date(slot.start).toISOString().replace('.000Z', 'Z'));
    expect(meeting?.duration).toBe(30);

    const calendar = await latestCalendarFile(demoPatient(0).email, 'Your video visit is booked');
    expect(calendarProperty(calendar, 'METHOD')).toBe('REQUEST');
    expect(calendarProperty(calendar, 'SEQUENCE')).toBe('0');
    expect(calendarProperty(calendar, 'UID')).toContain(visit.appointmentId);
    expect(calendar.replace(/\r\n[ \t]/g, '')).toContain(visit.joinUrl);

    const after = await availability(client, slot.start.slice(0, 10));
    expect(after.slots.map((open) => open.slotId)).not.toContain(slot.slotId);
    const dashboard = await readPageHtml(await client.request('/'));
    expect(dashboard).toMatch(/You have \d+ unread notifications?\./);
    expect(portal.output()).not.toContain('start_url');
    expect(portal.output()).not.toContain(visit.joinUrl);
  });

  it('lets exactly one of two patients book the same slot', async () => {
    const [first, second] = await Promise.all([ava(), priya()]);
    const slot = await firstOpenSlot(first, 6);

    const responses = await Promise.all([
      book(first, slot),
      book(second, { ...slot, timeZone: slot.timeZone }),
    ]);
    const statuses = responses.map((response) => response.status).sort();

    expect(statuses).toEqual([201, 409]);
    const loser = responses.find((response) => response.status === 409);
    const body = (await loser?.json()) as {
      error: { code: string; message: string };
      availability: AvailabilityJson | null;
    };
    expect(body.error.code).toBe('slot_taken');
    expect(body.error.message).toContain('just taken');
    expect(body.availability?.slots.map((open) => open.slotId)).not.toContain(slot.slotId);
  });

  it('answers parallel submits without a key with one booking and 409s', async () => {
    const client = await ava();
    const slot = await firstOpenSlot(client, 13);

    const responses = await Promise.all([
      book(client, slot),
      book(client, slot),
      book(client, slot),
    ]);

    expect(responses.map((response) => response.status).sort()).toEqual([201, 409, 409]);
  });

  it('answers a malformed slot on the page with 400, not an error page', async () => {
    const client = await ava();
    const form = await client.postForm('/scheduling', {
      slotId: 'a',
      start: 'garbage',
      end: 'x',
      timeZone: 'Foo/Bar',
      practitionerId: 'demo-dr-okafor',
      idempotencyKey: crypto.randomUUID(),
    });
    const page = await client.request(
      '/scheduling?slotId=a&start=garbage&end=x&timeZone=Foo/Bar&practitionerId=p&practitionerName=Dr.%20Evil',
    );

    expect(form.status).toBe(400);
    expect(page.status).toBe(200);
    expect(await readPageHtml(page)).not.toContain('Dr. Evil');
  });

  it('makes one booking from a double submit', async () => {
    const client = await marcus();
    const slot = await firstOpenSlot(client, 5);
    const key = crypto.randomUUID();
    const meetingsBefore = (await zoomMeetings()).length;

    const responses = await Promise.all([book(client, slot, key), book(client, slot, key)]);
    const bodies = (await Promise.all(responses.map((response) => response.json()))) as {
      appointment: VisitJson;
    }[];

    expect(responses.map((response) => response.status)).toEqual([201, 201]);
    expect(new Set(bodies.map((body) => body.appointment.appointmentId)).size).toBe(1);
    expect((await zoomMeetings()).length).toBe(meetingsBefore + 1);
  });

  it('rejects a slot the client made up or changed', async () => {
    const client = await ava();
    const slot = await firstOpenSlot(client, 7);
    const shifted = new Date(Date.parse(slot.start) + 15 * 60_000).toISOString();
    const cases: unknown[] = [
      { ...slot, start: shifted },
      { ...slot, slotId: 'no-such-slot' },
      { ...slot, practitioner: { id: 'demo-dr-lindqvist', name: 'Erik Lindqvist' } },
      { ...slot, extra: true },
      { slotId: slot.slotId },
    ];
    for (const body of cases) {
      const response = await client.postJson('/api/patient/appointments', body);
      expect([400, 409], JSON.stringify(body)).toContain(response.status);
    }
  });
});

describe('reschedule and cancel', () => {
  it('moves a visit, keeps the calendar UID and raises SEQUENCE', async () => {
    const client = await priya();
    const booked = (await (await book(client, await firstOpenSlot(client, 8))).json()) as {
      appointment: VisitJson;
    };
    const id = booked.appointment.appointmentId;
    const newSlot = await firstOpenSlot(client, 9);

    const response = await client.postJson(`/api/patient/appointments/${id}/reschedule`, newSlot);
    expect(response.status).toBe(200);

    const appointment = await readAppointment(id);
    expect(Date.parse(appointment.start ?? '')).toBe(Date.parse(newSlot.start));
    const meeting = (await zoomMeetings()).find(
      (candidate) => candidate.join_url === booked.appointment.joinUrl,
    );
    expect(Date.parse(meeting?.start_time ?? '')).toBe(Date.parse(newSlot.start));

    const calendar = await latestCalendarFile(demoPatient(2).email, 'Your video visit has moved');
    expect(calendarProperty(calendar, 'UID')).toContain(id);
    expect(calendarProperty(calendar, 'SEQUENCE')).toBe('1');
    expect(calendarProperty(calendar, 'METHOD')).toBe('REQUEST');

    const cancel = await client.postJson(`/api/patient/appointments/${id}/cancel`, {
      reason: 'Feeling better',
    });
    expect(cancel.status).toBe(200);
    const cancelled = await readAppointment(id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.cancelationReason?.text).toBe('Feeling better');
    expect((await zoomMeetings()).map((candidate) => candidate.join_url)).not.toContain(
      booked.appointment.joinUrl,
    );
    const cancelFile = await latestCalendarFile(
      demoPatient(2).email,
      'Your video visit is cancelled',
    );
    expect(calendarProperty(cancelFile, 'METHOD')).toBe('CANCEL');
    expect(calendarProperty(cancelFile, 'SEQUENCE')).toBe('2');
    expect(calendarProperty(cancelFile, 'UID')).toBe(calendarProperty(calendar, 'UID'));
  });

  it('answers 404 for another patient’s appointment and changes nothing', async () => {
    const owner = await ava();
    const booked = (await (await book(owner, await firstOpenSlot(owner, 10))).json()) as {
      appointment: VisitJson;
    };
    const id = booked.appointment.appointmentId;
    const intruder = await marcus();

    const reschedule = await intruder.postJson(
      `/api/patient/appointments/${id}/reschedule`,
      await firstOpenSlot(intruder, 11),
    );
    const cancel = await intruder.postJson(`/api/patient/appointments/${id}/cancel`, {});
    const unknown = await intruder.postJson('/api/patient/appointments/no-such-id/cancel', {});
    const cancelPage = await intruder.request(`/scheduling/appointments/${id}/cancel`);

    expect(reschedule.status).toBe(404);
    expect(cancel.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(cancelPage.status).toBe(404);

    // A patient with no clinician gets the same 404, not the 409 of their own missing clinician.
    const unassigned = await signIn(FIXTURE_PATIENT.email);
    const slot = await firstOpenSlot(owner, 11);
    for (const [name, response] of [
      ['cancel', await unassigned.postJson(`/api/patient/appointments/${id}/cancel`, {})],
      ['reschedule', await unassigned.postJson(`/api/patient/appointments/${id}/reschedule`, slot)],
      ['cancel page', await unassigned.request(`/scheduling/appointments/${id}/cancel`)],
      ['reschedule page', await unassigned.request(`/scheduling/appointments/${id}/reschedule`)],
    ] as const) {
      expect(response.status, name).toBe(404);
    }
    expect((await readAppointment(id)).status).toBe('booked');
  });

  it('refuses to change a past visit', async () => {
    const client = await ava();
    const response = await client.postJson(
      '/api/patient/appointments/demo-ava-appointment-past/cancel',
      {},
    );
    expect(response.status).toBe(409);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'appointment_locked',
    );
  });

  it('lists upcoming visits with join links and past ones without', async () => {
    const client = await ava();
    const response = await client.request('/api/patient/appointments');
    expect(response.status).toBe(200);
    const list = (await response.json()) as {
      upcoming: { id: string; joinUrl?: string; canChange: boolean }[];
      past: { id: string; joinUrl?: string }[];
    };

    expect(list.upcoming.length).toBeGreaterThan(0);
    expect(list.upcoming.some((appointment) => appointment.joinUrl?.startsWith('https://'))).toBe(
      true,
    );
    expect(list.past.map((appointment) => appointment.id)).toContain('demo-ava-appointment-past');
    expect(list.past.every((appointment) => appointment.joinUrl === undefined)).toBe(true);
  });
});

describe('Zoom token', () => {
  it('is requested once and reused for every meeting', async () => {
    const stats = (await (await fetch(`${portal.baseUrl}/sandbox/stats`)).json()) as {
      zoom: { requests: number; tokenRequests: number };
    };

    expect(stats.zoom.requests - stats.zoom.tokenRequests).toBeGreaterThan(3);
    expect(stats.zoom.tokenRequests).toBe(1);
  });
});

// Fault tests come last: failures open the portal's circuit breakers for a while.
describe('partial failure', () => {
  it('deletes the Zoom meeting and frees the slot when the Appointment create fails', async () => {
    const client = await marcus();
    const slot = await firstOpenSlot(client, 12);
    const meetingsBefore = (await zoomMeetings()).length;

    await setSandboxFault(portal.baseUrl, 'fhir', {
      errorRate: 1,
      errorStatus: 422,
      methods: ['POST'],
      errorBody: {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'processing', details: { text: 'Slot refused' } }],
      },
    });
    let response: Response;
    try {
      response = await book(client, slot);
    } finally {
      await setSandboxFault(portal.baseUrl, 'fhir', null);
    }

    expect(response.status).toBe(503);
    expect((await zoomMeetings()).length).toBe(meetingsBefore);
    const after = await availability(client, slot.start.slice(0, 10));
    expect(after.slots.map((open) => open.slotId)).toContain(slot.slotId);

    const retry = await book(client, slot);
    expect(retry.status).toBe(201);
  });
});
