import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SESSION_IDLE_SECONDS } from '../../app/auth/session-limits';

import {
  demoPatient,
  readPageHtml,
  signInByEmail,
  type PatientClient,
} from '../support/patient-client';
import {
  sessionIdOf,
  startPortalWithDatabase,
  type PortalWithDatabase,
} from '../support/portal-with-database';

const SESSION_COOKIE = '__Host-portal_session';

interface SessionTimes {
  idleSecondsRemaining: number;
  maxAgeSecondsRemaining: number;
}

let setup: PortalWithDatabase;

beforeAll(async () => {
  // Every test signs in afresh, because each one ends or ages its session.
  setup = await startPortalWithDatabase({ SEND_CODE_LIMIT_PER_EMAIL: '50' });
});

afterAll(async () => {
  await setup?.stop();
});

async function signedInClient(
  patientIndex = 0,
): Promise<{ client: PatientClient; sessionId: string }> {
  const client = await signInByEmail(setup.portal.baseUrl, demoPatient(patientIndex).email);
  return { client, sessionId: sessionIdOf(client.cookie(SESSION_COOKIE)) };
}

/** Sets how long ago the session last saw a request, in seconds. */
async function setLastSeenSecondsAgo(sessionId: string, seconds: number): Promise<void> {
  await setup.pool.query(
    'UPDATE sessions SET last_seen_at = now() - make_interval(secs => $2) WHERE id = $1',
    [sessionId, seconds],
  );
}

/** Sets the session's absolute end, in seconds from now (negative for the past). */
async function setExpiresInSeconds(sessionId: string, seconds: number): Promise<void> {
  await setup.pool.query(
    'UPDATE sessions SET expires_at = now() + make_interval(secs => $2) WHERE id = $1',
    [sessionId, seconds],
  );
}

async function readSessionRow(
  sessionId: string,
): Promise<{ lastSeenSecondsAgo: number; expiresAt: Date }> {
  const result = await setup.pool.query<{ last_seen_seconds_ago: number; expires_at: Date }>(
    `SELECT EXTRACT(EPOCH FROM now() - last_seen_at)::float8 AS last_seen_seconds_ago, expires_at
     FROM sessions WHERE id = $1`,
    [sessionId],
  );
  const row = result.rows[0];
  if (!row) throw new Error('The session row is missing.');
  return { lastSeenSecondsAgo: row.last_seen_seconds_ago, expiresAt: row.expires_at };
}

function expectCookieCleared(response: Response): void {
  const setCookie = response.headers.getSetCookie().join('\n');
  expect(setCookie).toContain(`${SESSION_COOKIE}=;`);
  expect(setCookie).toMatch(/Max-Age=0/);
}

function keepAlive(client: PatientClient): Promise<Response> {
  return client.postJson('/api/patient/session/keepalive', {});
}

describe('page requests after a session ends', () => {
  it('send an idle session to the expiry page', async () => {
    const { client, sessionId } = await signedInClient();
    await setLastSeenSecondsAgo(sessionId, SESSION_IDLE_SECONDS + 5);

    const response = await client.request('/prescriptions?status=active');
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '', setup.portal.baseUrl);
    expect(location.pathname).toBe('/session-expired');
    expect(location.searchParams.get('reason')).toBe('idle');
    expect(location.searchParams.get('redirectTo')).toBe('/prescriptions?status=active');
    expectCookieCleared(response);
    expect(client.cookie(SESSION_COOKIE)).toBeUndefined();
  });

  it('send a session past its maximum age to the expiry page', async () => {
    const { client, sessionId } = await signedInClient();
    await setExpiresInSeconds(sessionId, -1);

    const response = await client.request('/messages');
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '', setup.portal.baseUrl);
    expect(location.pathname).toBe('/session-expired');
    expect(location.searchParams.get('reason')).toBe('max_age');
    expectCookieCleared(response);
  });

  it('send a signed-out session to the sign-in page', async () => {
    const { client } = await signedInClient();
    const token = client.cookie(SESSION_COOKIE) ?? '';
    await client.request('/api/patient/auth/logout', { method: 'POST' });
    client.setCookie(SESSION_COOKIE, token);

    const response = await client.request('/prescriptions');
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/login?redirectTo=%2Fprescriptions');
  });

  it('send a request without a cookie to the sign-in page', async () => {
    const response = await fetch(`${setup.portal.baseUrl}/prescriptions`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/login?redirectTo=%2Fprescriptions');
  });

  it('reload the document after a data request', async () => {
    const { client, sessionId } = await signedInClient();
    await setLastSeenSecondsAgo(sessionId, SESSION_IDLE_SECONDS + 5);

    // React Router's client navigation fetches `<path>.data` and follows this with a page load.
    const response = await client.request('/prescriptions.data');
    expect(response.status).toBe(202);
    expect(response.headers.get('x-remix-reload-document')).toBe('true');
    expect(await response.text()).toContain('/session-expired?reason=idle');
  });
});

describe('API requests after a session ends', () => {
  it('get 401 JSON for an idle session', async () => {
    const { client, sessionId } = await signedInClient();
    await setLastSeenSecondsAgo(sessionId, SESSION_IDLE_SECONDS + 5);

    const response = await client.request('/api/patient/profile');
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'unauthenticated' } });
    expectCookieCleared(response);
  });
});

describe('background requests', () => {
  it('do not count as activity', async () => {
    const { client, sessionId } = await signedInClient();
    await setLastSeenSecondsAgo(sessionId, 20 * 60);

    const poll = await client.request('/api/patient/messages', {
      headers: { 'x-background-request': '1' },
    });
    expect(poll.status).toBe(200);
    expect((await readSessionRow(sessionId)).lastSeenSecondsAgo).toBeGreaterThan(19 * 60);

    expect((await client.request('/api/patient/messages')).status).toBe(200);
    expect((await readSessionRow(sessionId)).lastSeenSecondsAgo).toBeLessThan(60);
  });
});

describe('session time endpoint', () => {
  it('reports time left without counting as activity', async () => {
    const { client, sessionId } = await signedInClient();
    await setLastSeenSecondsAgo(sessionId, 10 * 60);

    const response = await client.request('/api/patient/session');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const times = (await response.json()) as SessionTimes;
    expect(times.idleSecondsRemaining).toBeGreaterThan(SESSION_IDLE_SECONDS - 10 * 60 - 5);
    expect(times.idleSecondsRemaining).toBeLessThanOrEqual(SESSION_IDLE_SECONDS - 10 * 60);
    expect(times.maxAgeSecondsRemaining).toBeGreaterThan(3 * 60 * 60);

    const row = await readSessionRow(sessionId);
    expect(row.lastSeenSecondsAgo).toBeGreaterThanOrEqual(10 * 60);
  });

  it('answers 401 for an idle session', async () => {
    const { client, sessionId } = await signedInClient();
    await setLastSeenSecondsAgo(sessionId, SESSION_IDLE_SECONDS + 5);

    const response = await client.request('/api/patient/session');
    expect(response.status).toBe(401);
  });
});

describe('keepalive', () => {
  it('restarts the idle limit', async () => {
    const { client, sessionId } = await signedInClient();
    await setLastSeenSecondsAgo(sessionId, 25 * 60);

    const response = await keepAlive(client);
    expect(response.status).toBe(200);
    const times = (await response.json()) as SessionTimes;
    expect(times.idleSecondsRemaining).toBe(SESSION_IDLE_SECONDS);
    expect((await readSessionRow(sessionId)).lastSeenSecondsAgo).toBeLessThan(5);
  });

  it('writes even within a minute of the last write', async () => {
    const { client, sessionId } = await signedInClient();
    await setLastSeenSecondsAgo(sessionId, 30);

    expect((await keepAlive(client)).status).toBe(200);
    expect((await readSessionRow(sessionId)).lastSeenSecondsAgo).toBeLessThan(5);
  });

  it('answers 401 for an idle session', async () => {
    const { client, sessionId } = await signedInClient();
    await setLastSeenSecondsAgo(sessionId, SESSION_IDLE_SECONDS + 5);

    const response = await keepAlive(client);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'unauthenticated' } });
    expect((await readSessionRow(sessionId)).lastSeenSecondsAgo).toBeGreaterThan(
      SESSION_IDLE_SECONDS,
    );
  });

  it('cannot extend the maximum age', async () => {
    const { client, sessionId } = await signedInClient();
    await setExpiresInSeconds(sessionId, 90);
    const expiresAtBefore = (await readSessionRow(sessionId)).expiresAt;

    const response = await keepAlive(client);
    expect(response.status).toBe(200);
    const times = (await response.json()) as SessionTimes;
    expect(times.maxAgeSecondsRemaining).toBeLessThanOrEqual(90);
    expect(times.maxAgeSecondsRemaining).toBeGreaterThan(80);
    expect((await readSessionRow(sessionId)).expiresAt).toEqual(expiresAtBefore);

    await setExpiresInSeconds(sessionId, -1);
    expect((await keepAlive(client)).status).toBe(401);
  });

  it('rejects a body that is not JSON', async () => {
    const { client, sessionId } = await signedInClient();
    // Within the write interval, so only a successful keepalive would move last_seen_at.
    await setLastSeenSecondsAgo(sessionId, 30);

    const response = await client.request('/api/patient/session/keepalive', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ error: { code: 'unsupported_media_type' } });
    expect((await readSessionRow(sessionId)).lastSeenSecondsAgo).toBeGreaterThanOrEqual(30);
  });

  it('rejects a request from another site', async () => {
    const { client, sessionId } = await signedInClient();
    await setLastSeenSecondsAgo(sessionId, 25 * 60);

    const response = await client.postJson(
      '/api/patient/session/keepalive',
      {},
      { origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site' },
    );
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: 'cross_site_request' } });
    expect((await readSessionRow(sessionId)).lastSeenSecondsAgo).toBeGreaterThan(24 * 60);
  });

  it('answers 405 to GET', async () => {
    const { client } = await signedInClient();
    const response = await client.request('/api/patient/session/keepalive');
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });
});

describe('root loader', () => {
  it('sends time left but no session id or token', async () => {
    const { client, sessionId } = await signedInClient();

    const response = await client.request('/_root.data');
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(body).toContain('sessionTimeRemaining');
    expect(body).toContain('idleSecondsRemaining');
    expect(body).not.toContain(sessionId);
    expect(body).not.toContain(client.cookie(SESSION_COOKIE));

    const page = await readPageHtml(await client.request('/'));
    expect(page).not.toContain(sessionId);
  });
});

describe('expiry page', () => {
  it('explains the idle limit and links back', async () => {
    const response = await fetch(
      `${setup.portal.baseUrl}/session-expired?reason=idle&redirectTo=%2Fmessages`,
    );
    expect(response.status).toBe(200);
    const html = await readPageHtml(response);
    expect(html).toContain('Your session has ended');
    expect(html).toContain('no activity for 30 minutes');
    expect(html).toContain('was not saved');
    expect(html).toContain('href="/login?redirectTo=%2Fmessages"');
  });

  it('drops an off-site return address', async () => {
    const response = await fetch(
      `${setup.portal.baseUrl}/session-expired?reason=idle&redirectTo=%2F%2Fattacker.example`,
    );
    const html = await readPageHtml(response);
    expect(html).toContain('href="/login"');
    expect(html).not.toContain('attacker.example');
  });

  it('classifies and clears a cookie still present', async () => {
    const { client, sessionId } = await signedInClient();
    await setExpiresInSeconds(sessionId, -1);

    // The browser guessed idle, but the session row shows that the maximum age ended it.
    const response = await client.request('/session-expired?reason=idle&redirectTo=%2F');
    expect(response.status).toBe(200);
    expect(await readPageHtml(response)).toContain('signed in for 4 hours');
    expectCookieCleared(response);
  });

  it('sends a live session back', async () => {
    const { client } = await signedInClient();

    const response = await client.request('/session-expired?reason=idle&redirectTo=%2Fmessages');
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/messages');
  });
});
