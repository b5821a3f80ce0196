import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../db/embedded';
import { startDatabaseProxy, type DatabaseProxy } from '../support/database-proxy';
import { demoPatient, PatientClient, readPageHtml, signInByEmail } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/** Database timeouts of the test portal, low so that a silent database fails the test fast. */
const CONNECT_TIMEOUT_MS = 1_000;
const QUERY_TIMEOUT_MS = 1_500;
/** Time a test portal may take on top of the database timeouts: rendering on a busy machine. */
const RESPONSE_MARGIN_MS = 1_500;

const UNAVAILABLE_TEXT = 'The portal is temporarily unavailable. Please try again in a minute.';

const PAGES = [
  '/',
  '/prescriptions',
  '/shipments',
  '/shipments/track/700000000022',
  '/messages',
  '/scheduling',
  '/notifications',
  '/profile',
];

const API_PATHS = [
  '/api/patient/profile',
  '/api/patient/prescriptions',
  '/api/patient/shipments',
  '/api/patient/tracking/700000000022',
  '/api/patient/messages',
  '/api/patient/appointments',
  '/api/patient/notifications',
  '/api/patient/session',
];

let dataDir: string;
let testDatabase: TestDatabase;
let embedded: EmbeddedPostgres | undefined;
let proxy: DatabaseProxy;
let portal: PortalServer;
let client: PatientClient;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'portal-outage-'));
  testDatabase = await createTestDatabase();
  if (!testDatabase.url) {
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'pglite'),
      maxConnections: 4,
    });
  }
  proxy = await startDatabaseProxy(testDatabase.url ?? embedded?.url ?? '');
  portal = await startPortalServer({
    DATABASE_URL: proxy.url,
    // The embedded server can mix the messages of connections that send at once.
    DATABASE_POOL_MAX: embedded ? '1' : '4',
    DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
    DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
  });
  // Marcus has shipments, a visit and notifications, so every page has something to show.
  client = await signInByEmail(portal.baseUrl, demoPatient(1).email);
  for (const page of PAGES) await client.request(page);
});

afterAll(async () => {
  await portal?.stop();
  await proxy?.stop();
  await embedded?.stop();
  await testDatabase?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Requests `path` and returns the response with the time it took. */
async function timedRequest(
  requester: PatientClient,
  path: string,
  init?: RequestInit,
): Promise<{ response: Response; elapsedMs: number }> {
  const startedAt = performance.now();
  const response = await requester.request(path, init);
  return { response, elapsedMs: performance.now() - startedAt };
}

/** Loads every page at once, as patients would during an outage, and checks each response. */
async function expectPagesUnavailable(boundMs: number): Promise<void> {
  const answers = await Promise.all(PAGES.map((page) => timedRequest(client, page)));
  for (const [index, { response, elapsedMs }] of answers.entries()) {
    const page = PAGES[index];
    const html = await readPageHtml(response);

    expect(response.status, page).toBe(503);
    expect(response.headers.get('retry-after'), page).toBe('30');
    expect(html, page).toContain('<h1>Temporarily unavailable</h1>');
    expect(html, page).toContain(UNAVAILABLE_TEXT);
    expect(elapsedMs, page).toBeLessThan(boundMs);
  }
}

async function expectApiUnavailable(boundMs: number): Promise<void> {
  const answers = await Promise.all(API_PATHS.map((apiPath) => timedRequest(client, apiPath)));
  for (const [index, { response, elapsedMs }] of answers.entries()) {
    const apiPath = API_PATHS[index];

    expect(response.status, apiPath).toBe(503);
    expect(response.headers.get('retry-after'), apiPath).toBe('30');
    expect(await response.json(), apiPath).toEqual({
      error: { code: 'service_unavailable', message: UNAVAILABLE_TEXT },
    });
    expect(elapsedMs, apiPath).toBeLessThan(boundMs);
  }
}

async function expectNotReady(): Promise<void> {
  const ready = await fetch(`${portal.baseUrl}/readyz`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toEqual({ status: 'not_ready' });

  const alive = await fetch(`${portal.baseUrl}/healthz`);
  expect(alive.status).toBe(200);
}

async function expectRecovered(): Promise<void> {
  const ready = await fetch(`${portal.baseUrl}/readyz`);
  expect(ready.status).toBe(200);

  const dashboard = await client.request('/');
  expect(dashboard.status).toBe(200);
  expect(await readPageHtml(dashboard)).toContain('Hello, Marcus');

  const notifications = await client.request('/api/patient/notifications');
  expect(notifications.status).toBe(200);
}

describe('database outage', () => {
  it('answers 503 at once while the database refuses connections', async () => {
    await proxy.cut('refuse');
    try {
      // A refused connect fails at once, so only rendering counts towards the bound.
      await expectPagesUnavailable(RESPONSE_MARGIN_MS);
      await expectApiUnavailable(RESPONSE_MARGIN_MS);
      await expectNotReady();
    } finally {
      await proxy.restore();
    }

    await expectRecovered();
  });

  it('answers 503 within the timeouts while the database is silent', async () => {
    await proxy.cut('silent');
    try {
      // The pool's open connection fails at the query timeout and new ones at the connect
      // timeout. The first failed query ends the request.
      const boundMs = Math.max(CONNECT_TIMEOUT_MS, QUERY_TIMEOUT_MS) + RESPONSE_MARGIN_MS;
      await expectPagesUnavailable(boundMs);
      await expectApiUnavailable(boundMs);
      await expectNotReady();
    } finally {
      await proxy.restore();
    }

    await expectRecovered();
  });

  it('keeps the sign-in form answering while the database is down', async () => {
    const visitor = new PatientClient(portal.baseUrl);
    await proxy.cut('refuse');
    try {
      const page = await visitor.request('/login');
      expect(page.status).toBe(200);

      const { response, elapsedMs } = await timedRequest(visitor, '/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email: demoPatient(2).email }).toString(),
      });
      expect(response.status).toBe(503);
      expect(await readPageHtml(response)).toContain('Sign-in is unavailable right now.');
      expect(elapsedMs).toBeLessThan(RESPONSE_MARGIN_MS);

      const api = await visitor.postJson('/api/patient/auth/send-code', {
        email: demoPatient(2).email,
      });
      expect(api.status).toBe(503);
      expect(await api.json()).toMatchObject({ error: { code: 'unavailable' } });
    } finally {
      await proxy.restore();
    }
  });
});
