import type { Appointment, Bundle, Communication } from '@medplum/fhirtypes';
import { Temporal } from 'temporal-polyfill';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { demoPatient, PatientClient, readPageHtml, signInByEmail } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';
import { countUpstreamRequests, type SandboxUpstream } from '../support/sandbox-control';
import { SandboxFhir } from '../support/sandbox-fhir';
import { createTestDatabase } from '../support/test-database';

interface SlotJson {
  slotId: string;
  start: string;
  end: string;
  timeZone: string;
  practitioner: { id: string; name: string };
}

interface NotificationJson {
  id: string;
  readAt: string | null;
}

interface FeedJson {
  notifications: NotificationJson[];
  unreadCount: number;
}

interface ErrorJson {
  error: { code: string; message: string };
}

/** Writes of each kind one session may make per window on the test servers. */
const LIMIT = 3;
const MESSAGE_WINDOW_SECONDS = 60;
const BOOKING_WINDOW_SECONDS = 600;
const MARK_READ_WINDOW_SECONDS = 60;

/** Session cookie of a test server, which keeps the default SESSION_COOKIE_SECURE=true. */
const SESSION_COOKIE = '__Host-portal_session';

const MESSAGE_LIMIT_TEXT =
  /You have sent many messages in a short time\. Wait \d+ seconds? and try again\./;
const BOOKING_LIMIT_TEXT =
  /You have changed your visits many times in a short time\. Wait \d+ (seconds?|minutes) and try again\./;
const MARK_READ_LIMIT_TEXT =
  /You have marked many notifications as read in a short time\. Wait \d+ seconds? and try again\./;

const UNKNOWN_NOTIFICATION_ID = '00000000-0000-4000-8000-000000000000';

let portal: PortalServer;
let fhir: SandboxFhir;

beforeAll(async () => {
  portal = await startPortalServer({
    WRITE_LIMIT_PER_WINDOW: String(LIMIT),
    // Each test signs in fresh sessions, more than the default 5 codes per email allow.
    SEND_CODE_LIMIT_PER_EMAIL: '20',
  });
  fhir = new SandboxFhir(portal.baseUrl);
});

afterAll(async () => {
  await portal?.stop();
});

/** Signs the demo patient at `index` in again. Every call starts a new session. */
function newSession(index: number): Promise<PatientClient> {
  return signInByEmail(portal.baseUrl, demoPatient(index).email);
}

/**
 * Waits until the current fixed window has at least `neededSeconds` left. Windows start at whole
 * multiples of their length since the epoch, as consumeRateLimit counts them, so a test that
 * starts early enough makes all its requests in one window.
 */
async function startEarlyInWindow(windowSeconds: number, neededSeconds: number): Promise<void> {
  const windowMs = windowSeconds * 1000;
  const leftMs = windowMs - (Date.now() % windowMs);
  if (leftMs < neededSeconds * 1000) {
    await new Promise((resolve) => setTimeout(resolve, leftMs + 100));
  }
}

/** Upstreams that a write reaches: FHIR, Zoom for visits, SendGrid for confirmation emails. */
const WRITE_UPSTREAMS: SandboxUpstream[] = ['fhir', 'zoom', 'sendgrid'];

async function upstreamCalls(): Promise<Record<string, number>> {
  const entries = await Promise.all(
    WRITE_UPSTREAMS.map(
      async (upstream) =>
        [upstream, await countUpstreamRequests(portal.baseUrl, upstream)] as const,
    ),
  );
  return Object.fromEntries(entries);
}

/** Checks a 429 with a Retry-After in whole seconds within the window, and returns the body. */
async function expectRateLimited(response: Response, windowSeconds: number): Promise<string> {
  expect(response.status).toBe(429);
  const retryAfter = response.headers.get('retry-after') ?? '';
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThan(0);
  expect(Number(retryAfter)).toBeLessThanOrEqual(windowSeconds);
  return readPageHtml(response);
}

function uniqueText(label: string): string {
  return `${label} ${Math.random().toString(36).slice(2, 10)}`;
}

async function communicationsWithText(patientId: string, text: string): Promise<Communication[]> {
  const bundle = await fhir.search<Bundle<Communication>>(
    `Communication?sender=Patient/${patientId}&_count=100`,
  );
  return (bundle.entry ?? [])
    .flatMap((entry) => (entry.resource ? [entry.resource] : []))
    .filter((communication) => communication.payload?.[0]?.contentString === text);
}

async function sendMessage(client: PatientClient, text: string, key?: string): Promise<Response> {
  return client.postJson('/api/patient/messages', { text }, key ? { 'idempotency-key': key } : {});
}

/** Returns open slots of the patient's practitioner from `daysAhead` days on, one per day. */
async function openSlots(
  client: PatientClient,
  timeZone: string,
  daysAhead: number,
  count: number,
): Promise<SlotJson[]> {
  const today = Temporal.Now.plainDateISO(timeZone);
  const found: SlotJson[] = [];
  for (let offset = daysAhead; offset < daysAhead + 30 && found.length < count; offset++) {
    const date = today.add({ days: offset }).toString();
    const response = await client.request(`/api/patient/availability?date=${date}`);
    expect(response.status).toBe(200);
    const { slots } = (await response.json()) as { slots: SlotJson[] };
    const slot = slots[0];
    if (slot) found.push(slot);
  }
  if (found.length < count) throw new Error(`Found ${found.length} open days, not ${count}.`);
  return found;
}

async function isSlotOpen(client: PatientClient, slot: SlotJson): Promise<boolean> {
  const date = Temporal.Instant.from(slot.start)
    .toZonedDateTimeISO(slot.timeZone)
    .toPlainDate()
    .toString();
  const response = await client.request(`/api/patient/availability?date=${date}`);
  const { slots } = (await response.json()) as { slots: SlotJson[] };
  return slots.some((open) => open.slotId === slot.slotId);
}

async function book(client: PatientClient, slot: SlotJson, key?: string): Promise<Response> {
  return client.postJson('/api/patient/appointments', slot, key ? { 'idempotency-key': key } : {});
}

async function bookedAppointmentId(response: Response): Promise<string> {
  expect(response.status).toBe(201);
  const body = (await response.json()) as { appointment: { appointmentId: string } };
  return body.appointment.appointmentId;
}

async function readAppointment(id: string): Promise<Appointment> {
  const bundle = await fhir.search<Bundle<Appointment>>(`Appointment?_id=${id}`);
  const appointment = bundle.entry?.[0]?.resource;
  if (!appointment) throw new Error(`Appointment ${id} not found in the sandbox.`);
  return appointment;
}

function slotFields(slot: SlotJson, idempotencyKey: string): Record<string, string> {
  return {
    slotId: slot.slotId,
    start: slot.start,
    end: slot.end,
    timeZone: slot.timeZone,
    practitionerId: slot.practitioner.id,
    practitionerName: slot.practitioner.name,
    idempotencyKey,
  };
}

/**
 * Books one visit for the session and uses up the rest of its booking limit with cancels of an
 * unknown appointment. Returns the booked visit and another open slot to choose.
 */
async function useUpBookingLimit(
  client: PatientClient,
  daysAhead: number,
): Promise<{ booked: SlotJson; appointmentId: string; chosen: SlotJson }> {
  const [booked, chosen] = await openSlots(client, demoPatient(2).timeZone, daysAhead, 2);
  if (!booked || !chosen) throw new Error('Two open slots are needed.');
  const appointmentId = await bookedAppointmentId(await book(client, booked));
  for (let count = 1; count < LIMIT; count++) {
    const response = await client.postJson('/api/patient/appointments/no-such-id/cancel', {});
    expect(response.status).toBe(404);
  }
  return { booked, appointmentId, chosen };
}

/**
 * Posts a form as the page's JavaScript does: React Router sends it to `<path>.data` and runs
 * only the action, without the loaders that render a whole page.
 */
function postFromScript(
  client: PatientClient,
  path: string,
  fields: Record<string, string>,
): Promise<Response> {
  return client.postForm(`${path}.data`, fields);
}

async function feed(client: PatientClient): Promise<FeedJson> {
  const response = await client.request('/api/patient/notifications');
  expect(response.status).toBe(200);
  return (await response.json()) as FeedJson;
}

/** Uses up the session's mark-read limit with ids that match no notification. */
async function useUpMarkReadLimit(client: PatientClient): Promise<void> {
  for (let count = 0; count < LIMIT; count++) {
    const response = await client.postJson(
      `/api/patient/notifications/${UNKNOWN_NOTIFICATION_ID}/read`,
      {},
    );
    expect(response.status).toBe(404);
  }
}

describe('message limit', () => {
  it('rejects sends over the limit', { timeout: 90_000 }, async () => {
    await startEarlyInWindow(MESSAGE_WINDOW_SECONDS, 15);
    const client = await newSession(0);
    const firstText = uniqueText('First of a quick run');
    const firstKey = crypto.randomUUID();
    expect((await sendMessage(client, firstText, firstKey)).status).toBe(201);
    for (let count = 1; count < LIMIT; count++) {
      expect((await sendMessage(client, uniqueText('Quick run'))).status).toBe(201);
    }

    const overText = uniqueText('One too many');
    const callsBefore = await upstreamCalls();
    const rejected = await sendMessage(client, overText, crypto.randomUUID());
    const retried = await sendMessage(client, firstText, firstKey);
    const callsAfter = await upstreamCalls();

    const body = JSON.parse(await expectRateLimited(rejected, MESSAGE_WINDOW_SECONDS)) as ErrorJson;
    expect(body.error.code).toBe('rate_limited');
    expect(body.error.message).toMatch(MESSAGE_LIMIT_TEXT);
    // A retry of a sent message counts too, and is rejected before its key could replay.
    await expectRateLimited(retried, MESSAGE_WINDOW_SECONDS);
    expect(callsAfter).toEqual(callsBefore);
    expect(await communicationsWithText('demo-ava', overText)).toHaveLength(0);
    expect(await communicationsWithText('demo-ava', firstText)).toHaveLength(1);

    const otherSession = await newSession(0);
    expect((await sendMessage(otherSession, overText)).status).toBe(201);
  });

  it('page keeps the typed text', { timeout: 90_000 }, async () => {
    await startEarlyInWindow(MESSAGE_WINDOW_SECONDS, 15);
    const client = await newSession(0);
    // The page and the API share one counter per session.
    for (let count = 0; count < LIMIT; count++) {
      expect((await sendMessage(client, uniqueText('From the API'))).status).toBe(201);
    }
    const text = uniqueText('Please call me about my refill.');
    const idempotencyKey = crypto.randomUUID();

    const response = await client.postForm('/messages', { text, idempotencyKey });

    const html = await expectRateLimited(response, MESSAGE_WINDOW_SECONDS);
    expect(html).toMatch(new RegExp(`<textarea[^>]*>${text}</textarea>`));
    expect(html).toContain(`value="${idempotencyKey}"`);
    expect(html).toMatch(
      new RegExp(`<p id="message-text-error"[^>]*role="alert"[^>]*>${MESSAGE_LIMIT_TEXT.source}`),
    );
    expect(await communicationsWithText('demo-ava', text)).toHaveLength(0);
  });

  it('script submission calls no upstream', { timeout: 90_000 }, async () => {
    await startEarlyInWindow(MESSAGE_WINDOW_SECONDS, 15);
    const client = await newSession(0);
    for (let count = 0; count < LIMIT; count++) {
      expect((await sendMessage(client, uniqueText('From the API'))).status).toBe(201);
    }
    const text = uniqueText('Sent with JavaScript');

    const callsBefore = await upstreamCalls();
    const response = await postFromScript(client, '/messages', {
      text,
      idempotencyKey: crypto.randomUUID(),
    });
    const callsAfter = await upstreamCalls();

    expect(await expectRateLimited(response, MESSAGE_WINDOW_SECONDS)).toContain(text);
    expect(callsAfter).toEqual(callsBefore);
  });
});

describe('booking limit', () => {
  it('rejects book, reschedule and cancel', { timeout: 90_000 }, async () => {
    const { timeZone } = demoPatient(1);
    await startEarlyInWindow(BOOKING_WINDOW_SECONDS, 30);
    const client = await newSession(1);
    const [slotA, slotB, slotC, slotD] = await openSlots(client, timeZone, 4, 4);
    if (!slotA || !slotB || !slotC || !slotD) throw new Error('Four open slots are needed.');

    const keyA = crypto.randomUUID();
    const appointmentA = await bookedAppointmentId(await book(client, slotA, keyA));
    const moved = await client.postJson(
      `/api/patient/appointments/${appointmentA}/reschedule`,
      slotB,
    );
    expect(moved.status).toBe(200);
    await bookedAppointmentId(await book(client, slotC));

    const callsBefore = await upstreamCalls();
    const responses = [
      await book(client, slotD),
      await book(client, slotA, keyA),
      await client.postJson(`/api/patient/appointments/${appointmentA}/reschedule`, slotD),
      await client.postJson(`/api/patient/appointments/${appointmentA}/cancel`, {
        reason: 'Over the limit',
      }),
    ];
    const callsAfter = await upstreamCalls();

    for (const response of responses) {
      const body = JSON.parse(
        await expectRateLimited(response, BOOKING_WINDOW_SECONDS),
      ) as ErrorJson;
      expect(body.error.code).toBe('rate_limited');
      expect(body.error.message).toMatch(BOOKING_LIMIT_TEXT);
    }
    expect(callsAfter).toEqual(callsBefore);
    const appointment = await readAppointment(appointmentA);
    expect(appointment.status).toBe('booked');
    expect(Date.parse(appointment.start ?? '')).toBe(Date.parse(slotB.start));
    expect(await isSlotOpen(client, slotD)).toBe(true);

    const otherSession = await newSession(1);
    await bookedAppointmentId(await book(otherSession, slotD));
  });

  it('pages keep slot and reason', { timeout: 90_000 }, async () => {
    await startEarlyInWindow(BOOKING_WINDOW_SECONDS, 30);
    const client = await newSession(2);
    const { booked, appointmentId, chosen } = await useUpBookingLimit(client, 12);
    const reason = uniqueText('Typed reason');
    const basePath = `/scheduling/appointments/${appointmentId}`;

    const callsBefore = await upstreamCalls();
    const bookPage = await client.postForm('/scheduling', slotFields(chosen, crypto.randomUUID()));
    const reschedulePage = await client.postForm(
      `${basePath}/reschedule`,
      slotFields(chosen, crypto.randomUUID()),
    );
    const cancelPage = await client.postForm(`${basePath}/cancel`, {
      reason,
      idempotencyKey: crypto.randomUUID(),
    });
    const callsAfter = await upstreamCalls();

    const bookHtml = await expectRateLimited(bookPage, BOOKING_WINDOW_SECONDS);
    expect(bookHtml).toContain('Confirm your visit');
    expect(bookHtml).toContain(`name="slotId" value="${chosen.slotId}"`);
    expect(bookHtml).toMatch(new RegExp(`role="alert"[^>]*><p>${BOOKING_LIMIT_TEXT.source}`));
    const rescheduleHtml = await expectRateLimited(reschedulePage, BOOKING_WINDOW_SECONDS);
    expect(rescheduleHtml).toContain('Confirm the new time');
    expect(rescheduleHtml).toContain(`name="slotId" value="${chosen.slotId}"`);
    expect(rescheduleHtml).toMatch(BOOKING_LIMIT_TEXT);
    const cancelHtml = await expectRateLimited(cancelPage, BOOKING_WINDOW_SECONDS);
    expect(cancelHtml).toMatch(new RegExp(`<textarea[^>]*>${reason}</textarea>`));
    expect(cancelHtml).toMatch(BOOKING_LIMIT_TEXT);
    // The pages read FHIR to render again, so the checks look for writes instead: no Zoom
    // meeting, no email, and no change to the visit or the slot.
    expect(callsAfter.zoom).toBe(callsBefore.zoom);
    expect(callsAfter.sendgrid).toBe(callsBefore.sendgrid);
    const appointment = await readAppointment(appointmentId);
    expect(appointment.status).toBe('booked');
    expect(Date.parse(appointment.start ?? '')).toBe(Date.parse(booked.start));
    expect(await isSlotOpen(client, chosen)).toBe(true);
  });

  it('script submission calls no upstream', { timeout: 90_000 }, async () => {
    await startEarlyInWindow(BOOKING_WINDOW_SECONDS, 30);
    const client = await newSession(2);
    const { appointmentId, chosen } = await useUpBookingLimit(client, 16);
    const basePath = `/scheduling/appointments/${appointmentId}`;

    const callsBefore = await upstreamCalls();
    const responses = [
      await postFromScript(client, '/scheduling', slotFields(chosen, crypto.randomUUID())),
      await postFromScript(
        client,
        `${basePath}/reschedule`,
        slotFields(chosen, crypto.randomUUID()),
      ),
      await postFromScript(client, `${basePath}/cancel`, {
        reason: uniqueText('Typed reason'),
        idempotencyKey: crypto.randomUUID(),
      }),
    ];
    const callsAfter = await upstreamCalls();

    const bodies = await Promise.all(
      responses.map((response) => expectRateLimited(response, BOOKING_WINDOW_SECONDS)),
    );
    // The slot comes back to the form without a FHIR read to check it.
    expect(bodies[0]).toContain(chosen.slotId);
    expect(bodies[1]).toContain(chosen.slotId);
    expect(callsAfter).toEqual(callsBefore);
  });
});

describe('mark-read limit', () => {
  it('rejects mark-read and mark-all-read', { timeout: 90_000 }, async () => {
    await startEarlyInWindow(MARK_READ_WINDOW_SECONDS, 15);
    const client = await newSession(0);
    const before = await feed(client);
    const target = before.notifications.find((notification) => notification.readAt === null);
    if (!target) throw new Error('Ava has no unread notification.');
    await useUpMarkReadLimit(client);

    const callsBefore = await upstreamCalls();
    const markOne = await client.postJson(`/api/patient/notifications/${target.id}/read`, {});
    const markAll = await client.postJson('/api/patient/notifications/read-all', {});
    const callsAfter = await upstreamCalls();

    for (const response of [markOne, markAll]) {
      const body = JSON.parse(
        await expectRateLimited(response, MARK_READ_WINDOW_SECONDS),
      ) as ErrorJson;
      expect(body.error.code).toBe('rate_limited');
      expect(body.error.message).toMatch(MARK_READ_LIMIT_TEXT);
    }
    expect(callsAfter).toEqual(callsBefore);
    const after = await feed(client);
    expect(after.unreadCount).toBe(before.unreadCount);
    expect(after.notifications.find((item) => item.id === target.id)?.readAt).toBeNull();

    const otherSession = await newSession(0);
    const marked = await otherSession.postJson(`/api/patient/notifications/${target.id}/read`, {});
    expect(marked.status).toBe(200);
  });

  it('notifications page shows the limit', { timeout: 90_000 }, async () => {
    await startEarlyInWindow(MARK_READ_WINDOW_SECONDS, 15);
    const client = await newSession(1);
    const before = await feed(client);
    const target = before.notifications.find((notification) => notification.readAt === null);
    if (!target) throw new Error('Marcus has no unread notification.');
    await useUpMarkReadLimit(client);

    const markOne = await client.postForm('/notifications', { intent: 'read', id: target.id });
    const markAll = await client.postForm('/notifications', { intent: 'read-all' });

    for (const response of [markOne, markAll]) {
      const html = await expectRateLimited(response, MARK_READ_WINDOW_SECONDS);
      expect(html).toMatch(new RegExp(`role="alert"[^>]*><p>${MARK_READ_LIMIT_TEXT.source}`));
    }
    expect((await feed(client)).unreadCount).toBe(before.unreadCount);
  });
});

describe('counters shared across processes', () => {
  const postgresUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;

  // Two processes can share a database only on a PostgreSQL server, because the embedded one
  // belongs to one process. With TEST_DATABASE_URL or DATABASE_URL set this test runs, and fails
  // if it cannot.
  it.skipIf(!postgresUrl)(
    'two portals share one count (needs TEST_DATABASE_URL)',
    { timeout: 240_000 },
    async () => {
      const database = await createTestDatabase();
      if (!database.url) throw new Error('TEST_DATABASE_URL or DATABASE_URL gave no database.');
      const settings = { DATABASE_URL: database.url, WRITE_LIMIT_PER_WINDOW: String(LIMIT) };
      const portals: PortalServer[] = [];
      try {
        portals.push(await startPortalServer(settings));
        portals.push(await startPortalServer(settings));
        const [first, second] = portals;
        if (!first || !second) throw new Error('Two portals are needed.');

        const onFirst = await signInByEmail(first.baseUrl, demoPatient(0).email);
        const onSecond = new PatientClient(second.baseUrl);
        const sessionCookie = onFirst.cookie(SESSION_COOKIE);
        if (!sessionCookie) throw new Error(`Sign-in set no ${SESSION_COOKIE} cookie.`);
        onSecond.setCookie(SESSION_COOKIE, sessionCookie);

        await startEarlyInWindow(MARK_READ_WINDOW_SECONDS, 15);
        const statuses: number[] = [];
        for (const client of [onFirst, onSecond, onFirst, onSecond, onFirst]) {
          const response = await client.postJson('/api/patient/notifications/read-all', {});
          statuses.push(response.status);
        }

        expect(statuses).toEqual([200, 200, 200, 429, 429]);
      } finally {
        for (const started of portals) await started.stop();
        await database.drop();
      }
    },
  );
});
