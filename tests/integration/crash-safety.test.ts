import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { Appointment, Bundle } from '@medplum/fhirtypes';
import pg from 'pg';
import { Temporal } from 'temporal-polyfill';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SANDBOX_CREDENTIALS } from '../../app/config/env.server';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../db/embedded';
import { demoPatient, PatientClient, readSignInCode } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';
import { setSandboxFault } from '../support/sandbox-control';
import { SandboxFhir } from '../support/sandbox-fhir';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * These tests kill a portal with SIGKILL in the middle of a booking or a jobs run and start it
 * again. FHIR, Zoom and SendGrid live on a second portal's sandbox, and the database belongs to
 * the test, so both outlive every restart, as the real upstreams and database would.
 */

interface SlotJson {
  slotId: string;
  start: string;
  end: string;
  timeZone: string;
  practitioner: { id: string; name: string };
}

interface ZoomMeetingJson {
  id: number;
  agenda?: string;
  join_url: string;
}

interface JobCountsJson {
  appointmentReminders: number;
  bookingsReconciled: number;
  failed: string[];
}

interface LedgerRow {
  id: string;
  status: string;
  appointment_id: string | null;
  zoom_meeting_id: string | null;
  join_url: string | null;
  zoom_deleted_at: Date | null;
}

interface MailJson {
  to: string;
  subject: string;
}

interface OwnDatabase {
  url: string;
  embedded: boolean;
  pool: pg.Pool;
  stop(): Promise<void>;
}

/** A portal's upstream create can take this long in these tests before the portal gives up. */
const UPSTREAM_TIMEOUT_MS = 10_000;
/** Restarts plus waits for delayed upstream writes take longer than the default 30 s. */
const CRASH_TEST_TIMEOUT_MS = 180_000;

let upstreams: PortalServer;
let database: OwnDatabase;
let portal: PortalServer;
let fhir: SandboxFhir;
const sessionCookies = new Map<string, string>();

beforeAll(async () => {
  upstreams = await startPortalServer();
  fhir = new SandboxFhir(upstreams.baseUrl);
  database = await startOwnDatabase();
  portal = await startPortalServer(portalSettings());
});

afterAll(async () => {
  await portal?.stop();
  await database?.stop();
  await upstreams?.stop();
});

/** Starts a database that outlives the portals: on TEST_DATABASE_URL's server, or embedded here. */
async function startOwnDatabase(): Promise<OwnDatabase> {
  const testDatabase: TestDatabase = await createTestDatabase();
  let embedded: EmbeddedPostgres | undefined;
  let dataDir: string | undefined;
  if (!testDatabase.url) {
    dataDir = await mkdtemp(path.join(tmpdir(), 'portal-crash-db-'));
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'pglite'),
      maxConnections: 4,
    });
  }
  const url = testDatabase.url ?? embedded?.url ?? '';
  // The embedded server can mix the messages of connections that send at once, so the test
  // queries only while the portal is dead or idle.
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  return {
    url,
    embedded: embedded !== undefined,
    pool,
    async stop() {
      await pool.end();
      await embedded?.stop();
      await testDatabase.drop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Settings of the portal under test: FHIR, Zoom and SendGrid on the upstreams' sandbox. */
function portalSettings(): Record<string, string> {
  const sandbox = `${upstreams.baseUrl}/sandbox`;
  return {
    DATABASE_URL: database.url,
    DATABASE_POOL_MAX: database.embedded ? '1' : '4',
    UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
    CANVAS_FHIR_BASE_URL: `${sandbox}/fhir`,
    CANVAS_TOKEN_URL: `${sandbox}/fhir/auth/token/`,
    CANVAS_CLIENT_ID: SANDBOX_CREDENTIALS.fhirClientId,
    CANVAS_CLIENT_SECRET: SANDBOX_CREDENTIALS.fhirClientSecret,
    SENDGRID_API_KEY: SANDBOX_CREDENTIALS.sendgridApiKey,
    SENDGRID_BASE_URL: `${sandbox}/sendgrid`,
    MAIL_FROM: 'care@example.com',
    ZOOM_API_BASE_URL: `${sandbox}/zoom/v2`,
    ZOOM_OAUTH_URL: `${sandbox}/zoom/oauth/token`,
    ZOOM_ACCOUNT_ID: SANDBOX_CREDENTIALS.zoomAccountId,
    ZOOM_CLIENT_ID: SANDBOX_CREDENTIALS.zoomClientId,
    ZOOM_CLIENT_SECRET: SANDBOX_CREDENTIALS.zoomClientSecret,
    // FedEx and Canvas sign-in stay on the portal's own sandbox, which also serves
    // POST /sandbox/jobs/run.
  };
}

/** Kills the portal as a crash would, then starts a new process on the same database. */
async function crashPortal(): Promise<void> {
  portal.kill('SIGKILL');
  expect(await portal.exited).toBeNull();
  await portal.stop();
}

async function restartPortal(): Promise<void> {
  portal = await startPortalServer(portalSettings());
}

/** Returns a client of the current portal signed in as demo patient `index`, once per test file. */
async function signedIn(index: number): Promise<PatientClient> {
  const { email } = demoPatient(index);
  const client = new PatientClient(portal.baseUrl);
  const saved = sessionCookies.get(email);
  if (saved) {
    for (const pair of saved.split('; ')) {
      const separator = pair.indexOf('=');
      client.setCookie(pair.slice(0, separator), pair.slice(separator + 1));
    }
    return client;
  }

  const since = new Date();
  await client.postJson('/api/patient/auth/send-code', { email });
  const code = await readSignInCode(upstreams.baseUrl, email, since);
  const verify = await client.postJson('/api/patient/auth/verify', { email, code });
  expect(verify.status).toBe(200);
  sessionCookies.set(email, client.cookieHeader());
  return client;
}

async function openSlotIds(client: PatientClient, date: string): Promise<string[]> {
  const response = await client.request(`/api/patient/availability?date=${date}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { slots: SlotJson[] }).slots.map((slot) => slot.slotId);
}

/** Returns the first open slot from `daysAhead` days on, looking up to two weeks further. */
async function firstOpenSlot(client: PatientClient, daysAhead: number): Promise<SlotJson> {
  const today = Temporal.Now.plainDateISO('America/Chicago');
  for (let offset = daysAhead; offset < daysAhead + 14; offset++) {
    const response = await client.request(
      `/api/patient/availability?date=${today.add({ days: offset }).toString()}`,
    );
    expect(response.status).toBe(200);
    const slot = ((await response.json()) as { slots: SlotJson[] }).slots[0];
    if (slot) return slot;
  }
  throw new Error('No open slot in two weeks.');
}

/** Starts a booking whose response never comes, because the test kills the portal. */
function startBooking(client: PatientClient, slot: SlotJson): Promise<void> {
  return client.postJson('/api/patient/appointments', slot).then(
    (response) => {
      throw new Error(`The booking finished with ${response.status} before the crash.`);
    },
    () => undefined,
  );
}

async function zoomMeetings(): Promise<ZoomMeetingJson[]> {
  const response = await fetch(`${upstreams.baseUrl}/sandbox/zoom/meetings`);
  return ((await response.json()) as { meetings: ZoomMeetingJson[] }).meetings;
}

async function zoomStats(): Promise<{ requests: number; tokenRequests: number }> {
  const stats = (await (await fetch(`${upstreams.baseUrl}/sandbox/stats`)).json()) as {
    zoom: { requests: number; tokenRequests: number };
  };
  return stats.zoom;
}

/** Polls `probe` until it returns a value, failing after `timeoutMs`. */
async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}.`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs the portal's jobs, the booking reconciler among them, as of `now`. */
async function runJobs(now: Date): Promise<JobCountsJson> {
  const response = await fetch(`${portal.baseUrl}/sandbox/jobs/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ now: now.toISOString() }),
  });
  const counts = (await response.json()) as JobCountsJson;
  expect(counts.failed).toEqual([]);
  expect(response.status).toBe(200);
  return counts;
}

/** Returns a time past the reconciler's grace period for every booking this test makes. */
function pastGracePeriod(): Date {
  return new Date(Date.now() + 60 * 60_000);
}

async function ledgerRowOf(slotId: string): Promise<LedgerRow> {
  const result = await database.pool.query<LedgerRow>(
    `SELECT id, status, appointment_id, zoom_meeting_id, join_url, zoom_deleted_at
     FROM appointment_bookings WHERE slot_id = $1`,
    [slotId],
  );
  expect(result.rows).toHaveLength(1);
  const row = result.rows[0];
  if (!row) throw new Error(`No ledger row for slot ${slotId}.`);
  return row;
}

/** Returns the portal's JSON log lines with the message `msg`. */
function logLines(output: string, msg: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === msg);
}

async function appointmentsAt(patientId: string, start: string): Promise<Appointment[]> {
  const bundle = await fhir.search<Bundle<Appointment>>(
    `Appointment?patient=Patient/${patientId}&date=eq${new Date(start).toISOString().replace(/\.\d{3}Z$/, 'Z')}`,
  );
  return (bundle.entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : []));
}

describe('booking reconciler after a crash', () => {
  it(
    'rolls back a booking killed before its Appointment',
    async () => {
      const client = await signedIn(0);
      const slot = await firstOpenSlot(client, 10);
      const meetingsBefore = new Set((await zoomMeetings()).map((meeting) => meeting.id));

      // The Appointment create waits 60 s and then fails, so FHIR never stores it.
      await setSandboxFault(upstreams.baseUrl, 'fhir', {
        latencyMs: 60_000,
        errorRate: 1,
        errorStatus: 503,
        methods: ['POST'],
      });
      const booking = startBooking(client, slot);
      const meeting = await waitFor('the Zoom meeting of the booking', async () =>
        (await zoomMeetings()).find((candidate) => !meetingsBefore.has(candidate.id)),
      );
      // Enough for the portal to record the meeting and send the Appointment create.
      await sleep(1_000);
      await crashPortal();
      await booking;
      await setSandboxFault(upstreams.baseUrl, 'fhir', null);

      const stuck = await ledgerRowOf(slot.slotId);
      expect(stuck.status).toBe('pending');
      expect(stuck.zoom_meeting_id).toBe(String(meeting.id));

      await restartPortal();
      const restarted = await signedIn(0);
      const date = slot.start.slice(0, 10);
      expect(await openSlotIds(restarted, date)).not.toContain(slot.slotId);

      // Two runs at once, as two worker processes would make them: the row is settled once.
      const counts = await Promise.all([runJobs(pastGracePeriod()), runJobs(pastGracePeriod())]);

      expect(counts.map((run) => run.bookingsReconciled).sort()).toEqual([0, 1]);
      expect((await zoomMeetings()).map((candidate) => candidate.id)).not.toContain(meeting.id);
      expect(await openSlotIds(restarted, date)).toContain(slot.slotId);
      const settled = await ledgerRowOf(slot.slotId);
      expect(settled.status).toBe('cancelled');
      expect(settled.appointment_id).toBeNull();
      expect(settled.zoom_deleted_at).not.toBeNull();
      const [line, ...more] = logLines(
        portal.output(),
        'booking reconciler rolled back a stuck booking and freed its time',
      );
      expect(more).toEqual([]);
      expect(line).toMatchObject({
        repair: 'rolled_back',
        bookingId: stuck.id,
        zoomMeetingIds: [String(meeting.id)],
      });

      const again = await runJobs(pastGracePeriod());
      expect(again.bookingsReconciled).toBe(0);
      expect(await ledgerRowOf(slot.slotId)).toEqual(settled);
    },
    CRASH_TEST_TIMEOUT_MS,
  );

  it(
    'records the Appointment of a booking killed after its create',
    async () => {
      const patient = demoPatient(1);
      const client = await signedIn(1);
      const slot = await firstOpenSlot(client, 11);
      const meetingsBefore = new Set((await zoomMeetings()).map((meeting) => meeting.id));

      // FHIR handles the Appointment create after 4 s, although the portal is gone by then.
      await setSandboxFault(upstreams.baseUrl, 'fhir', { latencyMs: 4_000, methods: ['POST'] });
      const booking = startBooking(client, slot);
      const meeting = await waitFor('the Zoom meeting of the booking', async () =>
        (await zoomMeetings()).find((candidate) => !meetingsBefore.has(candidate.id)),
      );
      await sleep(1_000);
      await crashPortal();
      await booking;
      await setSandboxFault(upstreams.baseUrl, 'fhir', null);

      const appointment = await waitFor('the Appointment that FHIR stored late', async () =>
        (await appointmentsAt(patient.id, slot.start)).find((found) => found.status === 'booked'),
      );
      const stuck = await ledgerRowOf(slot.slotId);
      expect(stuck.status).toBe('pending');
      expect(stuck.appointment_id).toBeNull();
      expect(appointment.identifier).toContainEqual({
        system: 'urn:ietf:rfc:3986',
        value: `urn:uuid:${stuck.id}`,
      });

      await restartPortal();
      const counts = await runJobs(pastGracePeriod());

      expect(counts.bookingsReconciled).toBe(1);
      const booked = await ledgerRowOf(slot.slotId);
      expect(booked.status).toBe('booked');
      expect(booked.appointment_id).toBe(appointment.id);
      expect(booked.zoom_meeting_id).toBe(String(meeting.id));
      expect((await zoomMeetings()).map((candidate) => candidate.id)).toContain(meeting.id);
      const restarted = await signedIn(1);
      expect(await openSlotIds(restarted, slot.start.slice(0, 10))).not.toContain(slot.slotId);
      const list = (await (await restarted.request('/api/patient/appointments')).json()) as {
        upcoming: { id: string; joinUrl?: string }[];
      };
      expect(list.upcoming).toContainEqual(
        expect.objectContaining({ id: appointment.id, joinUrl: meeting.join_url }),
      );
      const [line, ...more] = logLines(
        portal.output(),
        'booking reconciler recorded the Appointment of a stuck booking',
      );
      expect(more).toEqual([]);
      expect(line).toMatchObject({
        repair: 'completed',
        bookingId: stuck.id,
        appointmentId: appointment.id,
        zoomMeetingId: String(meeting.id),
      });

      const again = await runJobs(pastGracePeriod());
      expect(again.bookingsReconciled).toBe(0);
      expect(await ledgerRowOf(slot.slotId)).toEqual(booked);
      const confirmations = await database.pool.query(
        'SELECT id FROM notifications WHERE patient_id = $1 AND dedupe_key = $2',
        [patient.id, `appointment-booked:${appointment.id}:0`],
      );
      expect(confirmations.rows).toHaveLength(1);
    },
    CRASH_TEST_TIMEOUT_MS,
  );

  it(
    'deletes the meeting of a booking killed during the Zoom create',
    async () => {
      // A new process has no Zoom token, so its first Zoom request is the token request.
      await crashPortal();
      await restartPortal();
      const client = await signedIn(2);
      const slot = await firstOpenSlot(client, 12);
      const meetingsBefore = new Set((await zoomMeetings()).map((meeting) => meeting.id));
      const statsBefore = await zoomStats();

      // Zoom handles each POST after 3 s, so the meeting is made after the portal is gone.
      await setSandboxFault(upstreams.baseUrl, 'zoom', { latencyMs: 3_000, methods: ['POST'] });
      const booking = startBooking(client, slot);
      await waitFor('the Zoom token and create requests', async () =>
        (await zoomStats()).requests >= statsBefore.requests + 2 ? true : undefined,
      );
      await crashPortal();
      await booking;
      await setSandboxFault(upstreams.baseUrl, 'zoom', null);
      const meeting = await waitFor('the Zoom meeting made after the crash', async () =>
        (await zoomMeetings()).find((candidate) => !meetingsBefore.has(candidate.id)),
      );

      const stuck = await ledgerRowOf(slot.slotId);
      expect(stuck.status).toBe('pending');
      expect(stuck.zoom_meeting_id).toBeNull();
      expect(meeting.agenda).toBe(`Patient portal booking ${stuck.id}`);

      await restartPortal();
      const counts = await runJobs(pastGracePeriod());

      expect(counts.bookingsReconciled).toBe(1);
      expect((await zoomMeetings()).map((candidate) => candidate.id)).not.toContain(meeting.id);
      const restarted = await signedIn(2);
      expect(await openSlotIds(restarted, slot.start.slice(0, 10))).toContain(slot.slotId);
      const [line] = logLines(
        portal.output(),
        'booking reconciler rolled back a stuck booking and freed its time',
      );
      expect(line).toMatchObject({ bookingId: stuck.id, zoomMeetingIds: [String(meeting.id)] });

      const again = await runJobs(pastGracePeriod());
      expect(again.bookingsReconciled).toBe(0);
    },
    CRASH_TEST_TIMEOUT_MS,
  );
});

describe('notification jobs after a crash', () => {
  it(
    'make each reminder once when restarted mid-run',
    async () => {
      const upcoming = await fhir.search<Bundle<Appointment>>(
        `Appointment?status=booked&date=gt${new Date().toISOString()}&_sort=date`,
      );
      const soonest = upcoming.entry?.[0]?.resource?.start;
      if (!soonest) throw new Error('The sandbox has no upcoming appointment.');
      const now = new Date(Date.parse(soonest) - 60 * 60_000);
      const windowEnd = new Date(now.getTime() + 24 * 60 * 60_000);
      const due = await fhir.search<Bundle<Appointment>>(
        `Appointment?status=booked&date=gt${now.toISOString()}&date=le${windowEnd.toISOString()}&_count=100`,
      );
      const expectedKeys = (due.entry ?? [])
        .flatMap((entry) => (entry.resource ? [entry.resource] : []))
        .map((visit) => `appointment-reminder:${visit.id}:${Date.parse(visit.start ?? '')}`)
        .sort();
      expect(expectedKeys.length).toBeGreaterThan(1);
      const mailSince = new Date();

      // Each FHIR read takes 500 ms, so the crash lands between two reminders.
      await setSandboxFault(upstreams.baseUrl, 'fhir', { latencyMs: 500, methods: ['GET'] });
      const overlappingRuns = [1, 2].map(() =>
        fetch(`${portal.baseUrl}/sandbox/jobs/run`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ now: now.toISOString() }),
        }).then(
          () => undefined,
          () => undefined,
        ),
      );
      await waitFor('the first reminder email', async () =>
        (await reminderEmails(mailSince)).length > 0 ? true : undefined,
      );
      await crashPortal();
      await Promise.all(overlappingRuns);
      await setSandboxFault(upstreams.baseUrl, 'fhir', null);
      const sentBeforeCrash = await reminderEmails(mailSince);
      const keysBeforeCrash = await reminderKeys();
      expect(keysBeforeCrash.length).toBeLessThan(expectedKeys.length);

      await restartPortal();
      await runJobs(now);
      const second = await runJobs(now);

      expect(second.appointmentReminders).toBe(0);
      expect(await reminderKeys()).toEqual(expectedKeys);
      const sent = await reminderEmails(mailSince);
      const recipients = sent.map((mail) => mail.to.toLowerCase());
      expect(new Set(recipients).size).toBe(recipients.length);
      for (const early of sentBeforeCrash) {
        expect(recipients.filter((to) => to === early.to.toLowerCase())).toHaveLength(1);
      }
    },
    CRASH_TEST_TIMEOUT_MS,
  );
});

async function reminderKeys(): Promise<string[]> {
  const result = await database.pool.query<{ dedupe_key: string }>(
    `SELECT dedupe_key FROM notifications WHERE type = 'appointment_reminder'`,
  );
  return result.rows.map((row) => row.dedupe_key).sort();
}

async function reminderEmails(since: Date): Promise<MailJson[]> {
  const response = await fetch(`${upstreams.baseUrl}/sandbox/mail/messages`);
  const messages = (await response.json()) as (MailJson & { sentAt: string })[];
  return messages.filter(
    (message) =>
      message.subject.startsWith('Reminder: your video visit') && new Date(message.sentAt) >= since,
  );
}
