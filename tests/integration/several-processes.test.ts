import type { Appointment, Bundle, Communication } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { demoPatient, PatientClient, readSignInCode } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';
import { SandboxFhir } from '../support/sandbox-fhir';
import { sandboxUpstreamSettings } from '../support/sandbox-upstreams';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * Two portal processes on one PostgreSQL database, as behind a load balancer: one browser's
 * requests go to either process, and the processes must behave as one.
 *
 * The embedded database cannot be shared. PGlite runs one session, and its socket server passes
 * on the protocol messages of concurrent connections one by one, so the Parse and Bind messages
 * of two connections can mix outside a transaction. Three `pg` clients that send parameterized
 * queries at once get wrong rows and "unnamed prepared statement does not exist" within seconds.
 * These tests therefore need TEST_DATABASE_URL or DATABASE_URL, which CI's PostgreSQL pass sets.
 */
const postgresUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;

if (!postgresUrl) {
  console.warn(
    'several-processes.test.ts: skipped, because two portal processes need a shared PostgreSQL ' +
      'database. Set TEST_DATABASE_URL (for example postgres://postgres@127.0.0.1:5432/postgres) to run it.',
  );
}

/** Writes of each kind one session may make per window, on both processes. */
const WRITE_LIMIT = 3;
const MESSAGE_WINDOW_SECONDS = 60;
const JOBS_INTERVAL_SECONDS = 1;

/** Session cookie of a test server, which keeps the default SESSION_COOKIE_SECURE=true. */
const SESSION_COOKIE = '__Host-portal_session';

interface NotificationJson {
  id: string;
  type: string;
  link: string;
  readAt: string | null;
}

interface MessageJson {
  message: { id: string };
}

/** Settings both processes share: one database, low write limits and a fast notification worker. */
function sharedSettings(databaseUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    WRITE_LIMIT_PER_WINDOW: String(WRITE_LIMIT),
    // Each test signs in fresh sessions, more than the default 5 codes per email allow.
    SEND_CODE_LIMIT_PER_EMAIL: '20',
    // Both processes also run the notification jobs in the background, as `npm start` does.
    NOTIFICATION_WORKER: 'in-process',
    NOTIFICATION_JOBS_INTERVAL_SECONDS: String(JOBS_INTERVAL_SECONDS),
  };
}

describe.skipIf(!postgresUrl)('two portals on one database (needs TEST_DATABASE_URL)', () => {
  let database: TestDatabase | undefined;
  let first: PortalServer | undefined;
  let second: PortalServer | undefined;
  let fhir: SandboxFhir;

  beforeAll(async () => {
    database = await createTestDatabase();
    if (!database.url) throw new Error('TEST_DATABASE_URL or DATABASE_URL gave no database.');
    first = await startPortalServer(sharedSettings(database.url));
    // The second process uses the first one's FHIR, SendGrid, FedEx and Zoom stand-ins. Canvas
    // OAuth stays on its own sandbox, because with every upstream configured the process would
    // mount no `/sandbox` routes, and the tests need its `/sandbox/jobs/run`.
    second = await startPortalServer({
      ...sharedSettings(database.url),
      ...sandboxUpstreamSettings(first.baseUrl),
    });
    fhir = new SandboxFhir(first.baseUrl);
  }, 240_000);

  afterAll(async () => {
    await second?.stop();
    await first?.stop();
    await database?.drop();
  });

  function portals(): [PortalServer, PortalServer] {
    if (!first || !second) throw new Error('Both portals must be running.');
    return [first, second];
  }

  /** Returns a client for each process that share one cookie jar, as one browser would. */
  function newBrowser(): { onFirst: PatientClient; onSecond: PatientClient } {
    const [a, b] = portals();
    const onFirst = new PatientClient(a.baseUrl);
    return { onFirst, onSecond: onFirst.sharingCookiesWith(b.baseUrl) };
  }

  /** Reads a sign-in code from the mailbox, which is the first process's for both. */
  function readCode(email: string, since: Date): Promise<string> {
    return readSignInCode(portals()[0].baseUrl, email, since);
  }

  /** Requests a code on the first process and enters it on the second. */
  async function signIn(
    email: string,
  ): Promise<{ onFirst: PatientClient; onSecond: PatientClient }> {
    const browser = newBrowser();
    const since = new Date();
    const sent = await browser.onFirst.postJson('/api/patient/auth/send-code', { email });
    expect(sent.status).toBe(202);
    const code = await readCode(email, since);
    const verified = await browser.onSecond.postJson('/api/patient/auth/verify', { email, code });
    expect(verified.status).toBe(200);
    return browser;
  }

  async function communicationsWithText(patientId: string, text: string): Promise<Communication[]> {
    const bundle = await fhir.search<Bundle<Communication>>(
      `Communication?sender=Patient/${patientId}&_count=100`,
    );
    return (bundle.entry ?? [])
      .flatMap((entry) => (entry.resource ? [entry.resource] : []))
      .filter((communication) => communication.payload?.[0]?.contentString === text);
  }

  function sendMessage(client: PatientClient, text: string, key?: string): Promise<Response> {
    return client.postJson(
      '/api/patient/messages',
      { text },
      key ? { 'idempotency-key': key } : {},
    );
  }

  async function feed(client: PatientClient): Promise<NotificationJson[]> {
    const response = await client.request('/api/patient/notifications');
    expect(response.status).toBe(200);
    return ((await response.json()) as { notifications: NotificationJson[] }).notifications;
  }

  async function ofType(client: PatientClient, type: string): Promise<NotificationJson[]> {
    return (await feed(client)).filter((notification) => notification.type === type);
  }

  /** Runs the notification jobs twice on each process at once, as of `now` when given. */
  async function runJobsOnBoth(now?: Date): Promise<void> {
    const body = JSON.stringify(now ? { now: now.toISOString() } : {});
    const run = (portal: PortalServer) =>
      fetch(`${portal.baseUrl}/sandbox/jobs/run`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const [a, b] = portals();
    const responses = await Promise.all([run(a), run(b), run(a), run(b)]);
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200]);
  }

  describe('sign-in', () => {
    it('code from one verifies on the other', async () => {
      const patient = demoPatient(0);
      const [a, b] = portals();

      for (const [sendOn, verifyOn] of [
        [a, b],
        [b, a],
      ] as const) {
        const sender = new PatientClient(sendOn.baseUrl);
        const verifier = sender.sharingCookiesWith(verifyOn.baseUrl);
        const since = new Date();
        const sent = await sender.postJson('/api/patient/auth/send-code', { email: patient.email });
        expect(sent.status).toBe(202);
        const code = await readCode(patient.email, since);

        const verified = await verifier.postJson('/api/patient/auth/verify', {
          email: patient.email,
          code,
        });

        expect(verified.status).toBe(200);
        expect(await verified.json()).toEqual({ status: 'signed_in', patientId: patient.id });
        for (const client of [sender, verifier]) {
          const profile = await client.request('/api/patient/profile');
          expect(profile.status).toBe(200);
          expect(((await profile.json()) as { id: string }).id).toBe(patient.id);
        }
      }
    });

    it('pages sign in across processes', async () => {
      const patient = demoPatient(1);
      const { onFirst, onSecond } = newBrowser();

      const since = new Date();
      const sent = await onFirst.postForm('/login', { email: patient.email });
      expect(sent.status).toBe(302);
      expect(sent.headers.get('location')).toBe('/login/verify');
      const verifyPage = await onSecond.request('/login/verify');
      expect(verifyPage.status).toBe(200);
      expect(await verifyPage.text()).toContain('6-digit code');
      const code = await readCode(patient.email, since);
      const verified = await onSecond.postForm('/login/verify', { email: patient.email, code });
      expect(verified.status).toBe(302);
      expect(verified.headers.get('location')).toBe('/');

      for (const client of [onFirst, onSecond]) {
        const dashboard = await client.request('/');
        expect(dashboard.status).toBe(200);
        expect(await dashboard.text()).toContain(`Hello, ${patient.givenName}`);
      }
    });
  });

  describe('session', () => {
    it('API logout on one ends it on both', async () => {
      const { onFirst, onSecond } = await signIn(demoPatient(2).email);
      const token = onFirst.cookie(SESSION_COOKIE);
      if (!token) throw new Error(`Sign-in set no ${SESSION_COOKIE} cookie.`);
      const statuses: number[] = [];
      for (const client of [onFirst, onSecond, onFirst, onSecond]) {
        statuses.push((await client.request('/api/patient/profile')).status);
      }
      expect(statuses).toEqual([200, 200, 200, 200]);

      const logout = await onFirst.request('/api/patient/auth/logout', { method: 'POST' });
      expect(logout.status).toBe(204);
      // Logout cleared the shared cookie. A copy of the token must not work on either process.
      onFirst.setCookie(SESSION_COOKIE, token);

      expect((await onSecond.request('/api/patient/profile')).status).toBe(401);
      expect((await onFirst.request('/api/patient/profile')).status).toBe(401);
      const page = await onSecond.request('/prescriptions');
      expect(page.status).toBe(302);
      expect(page.headers.get('location')).toMatch(/^\/(login|session-expired)\b/);
    });

    it('page logout on one ends it on both', async () => {
      const { onFirst, onSecond } = await signIn(demoPatient(2).email);
      const token = onFirst.cookie(SESSION_COOKIE);
      if (!token) throw new Error(`Sign-in set no ${SESSION_COOKIE} cookie.`);
      expect((await onFirst.request('/')).status).toBe(200);

      const signOut = await onSecond.postForm('/logout', {});
      expect(signOut.status).toBe(302);
      expect(signOut.headers.get('location')).toBe('/login?signedOut=1');
      onFirst.setCookie(SESSION_COOKIE, token);

      expect((await onFirst.request('/api/patient/profile')).status).toBe(401);
      expect((await onFirst.request('/')).status).toBe(302);
    });
  });

  describe('write limit', () => {
    it('counts writes on both processes', { timeout: 90_000 }, async () => {
      await startEarlyInWindow(MESSAGE_WINDOW_SECONDS, 15);
      const { onFirst, onSecond } = await signIn(demoPatient(0).email);
      const texts = Array.from({ length: WRITE_LIMIT + 2 }, (_, index) =>
        uniqueText(`Alternating message ${index}`),
      );

      const statuses: number[] = [];
      for (const [index, text] of texts.entries()) {
        const client = index % 2 === 0 ? onFirst : onSecond;
        statuses.push((await sendMessage(client, text)).status);
      }

      expect(statuses).toEqual([201, 201, 201, 429, 429]);
      for (const text of texts.slice(WRITE_LIMIT)) {
        expect(await communicationsWithText('demo-ava', text)).toHaveLength(0);
      }
    });
  });

  describe('idempotency key', () => {
    it('replays on the other process', async () => {
      const { onFirst, onSecond } = await signIn(demoPatient(0).email);
      const text = uniqueText('Sent once through two processes');
      const key = crypto.randomUUID();

      const original = await sendMessage(onFirst, text, key);
      const retried = await sendMessage(onSecond, text, key);
      const reused = await sendMessage(onSecond, uniqueText('Other text, same key'), key);

      expect(original.status).toBe(201);
      expect(original.headers.get('idempotent-replayed')).toBeNull();
      expect(retried.status).toBe(201);
      expect(retried.headers.get('idempotent-replayed')).toBe('true');
      const originalId = ((await original.json()) as MessageJson).message.id;
      expect(((await retried.json()) as MessageJson).message.id).toBe(originalId);
      expect(reused.status).toBe(422);
      expect(await reused.json()).toMatchObject({ error: { code: 'idempotency_key_reused' } });
      expect(await communicationsWithText('demo-ava', text)).toHaveLength(1);
    });

    it('holds for concurrent requests to both', async () => {
      const { onFirst, onSecond } = await signIn(demoPatient(1).email);
      const text = uniqueText('Sent at once to two processes');
      const key = crypto.randomUUID();

      const responses = await Promise.all([
        sendMessage(onFirst, text, key),
        sendMessage(onSecond, text, key),
      ]);

      expect(responses.map((response) => response.status)).toEqual([201, 201]);
      const replayed = responses.map((response) => response.headers.get('idempotent-replayed'));
      expect(replayed.filter((header) => header === 'true')).toHaveLength(1);
      const ids = await Promise.all(
        responses.map(async (response) => ((await response.json()) as MessageJson).message.id),
      );
      expect(ids[0]).toBe(ids[1]);
      expect(await communicationsWithText('demo-marcus', text)).toHaveLength(1);
    });
  });

  describe('notification jobs on both', () => {
    it('remind once of a visit', async () => {
      const patient = demoPatient(0);
      const { onFirst, onSecond } = await signIn(patient.email);
      const bundle = await fhir.search<Bundle<Appointment>>(
        'Appointment?_id=demo-ava-appointment-upcoming',
      );
      const start = Date.parse(bundle.entry?.[0]?.resource?.start ?? '');
      expect(start).toBeGreaterThan(Date.now());
      const now = new Date(start - 23 * 60 * 60 * 1000);

      await runJobsOnBoth(now);
      await runJobsOnBoth(now);

      for (const client of [onFirst, onSecond]) {
        expect(await ofType(client, 'appointment_reminder')).toHaveLength(1);
      }
      const query = new URLSearchParams({ to: patient.email });
      const mailbox = await fetch(`${portals()[0].baseUrl}/sandbox/mail/messages?${query}`);
      const mails = (await mailbox.json()) as { subject: string }[];
      const reminders = mails.filter((mail) =>
        mail.subject.startsWith('Reminder: your video visit'),
      );
      expect(reminders).toHaveLength(1);
    });

    it('announce a care-team message once', { timeout: 60_000 }, async () => {
      const { onFirst, onSecond } = await signIn(demoPatient(1).email);
      const before = (await ofType(onFirst, 'message_received')).length;
      await fhir.create({
        resourceType: 'Communication',
        status: 'completed',
        sender: { reference: 'Practitioner/demo-dr-lindqvist' },
        recipient: [{ reference: 'Patient/demo-marcus' }],
        sent: new Date().toISOString(),
        payload: [{ contentString: uniqueText('Your lab results are in.') }],
      });

      // The background workers of both processes pick the message up within a few intervals.
      const deadline = Date.now() + 20_000;
      while ((await ofType(onSecond, 'message_received')).length === before) {
        if (Date.now() > deadline) throw new Error('No worker announced the message within 20 s.');
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      await runJobsOnBoth();
      await new Promise((resolve) => setTimeout(resolve, 3 * JOBS_INTERVAL_SECONDS * 1000));

      for (const client of [onFirst, onSecond]) {
        expect(await ofType(client, 'message_received')).toHaveLength(before + 1);
      }
    });

    it('notify once of a refill and a delivery', async () => {
      const ava = await signIn(demoPatient(0).email);
      const marcus = await signIn(demoPatient(1).email);

      await runJobsOnBoth();
      await runJobsOnBoth();

      // Ava's next refill is 5 days away in the demo data.
      expect(await ofType(ava.onSecond, 'refill_upcoming')).toHaveLength(1);
      // FedEx reports Marcus's 700000000005 delivered while the portal still has it shipped.
      const delivered = (await ofType(marcus.onFirst, 'shipment_delivered')).filter(
        (notification) => notification.link.endsWith('700000000005'),
      );
      expect(delivered).toHaveLength(1);
    });
  });
});

function uniqueText(label: string): string {
  return `${label} ${Math.random().toString(36).slice(2, 10)}`;
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
