import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import {
  startMigratedDatabase,
  type MigratedDatabase,
} from '../../tests/support/migrated-database';
import { registerPool } from '~/db/pool.server';

import {
  createSession,
  getPatientSession,
  readSessionState,
  revokeSession,
  sessionCookieName,
  SESSION_IDLE_SECONDS,
} from './session.server';

let database: MigratedDatabase;

beforeAll(async () => {
  database = await startMigratedDatabase();
  registerPool(database.pool);
});

afterAll(async () => {
  await database?.stop();
});

/** Returns a request that carries the session cookie of a Set-Cookie header. */
function requestWith(setCookie: string): Request {
  const pair = setCookie.split(';')[0] ?? '';
  return new Request('http://localhost/', { headers: { cookie: pair } });
}

async function newSession(method: 'email_code' | 'canvas_sso') {
  const { sessionId, setCookie } = await createSession('p-session', method);
  expect(setCookie.startsWith(`${sessionCookieName()}=`)).toBe(true);
  return { sessionId, request: requestWith(setCookie) };
}

describe('session limits', () => {
  it.each(['email_code', 'canvas_sso'] as const)('applies to %s sessions', async (method) => {
    const fresh = await newSession(method);
    expect(await getPatientSession(fresh.request)).toMatchObject({ patientId: 'p-session' });

    const idle = await newSession(method);
    await database.pool.query(
      `UPDATE sessions SET last_seen_at = now() - make_interval(secs => $2) WHERE id = $1`,
      [idle.sessionId, SESSION_IDLE_SECONDS + 1],
    );
    expect(await getPatientSession(idle.request)).toBeUndefined();

    const expired = await newSession(method);
    await database.pool.query(
      `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [expired.sessionId],
    );
    expect(await getPatientSession(expired.request)).toBeUndefined();

    const revoked = await newSession(method);
    await revokeSession(revoked.sessionId);
    expect(await getPatientSession(revoked.request)).toBeUndefined();
  });
});

describe('readSessionState', () => {
  it('names why a session ended', async () => {
    const cookieless = new Request('http://localhost/');
    expect(await readSessionState(cookieless)).toEqual({ status: 'missing' });

    const forged = new Request('http://localhost/', {
      headers: { cookie: `${sessionCookieName()}=not-a-jwt` },
    });
    expect(await readSessionState(forged)).toEqual({ status: 'ended', reason: 'invalid' });

    const idle = await newSession('email_code');
    await database.pool.query(
      `UPDATE sessions SET last_seen_at = now() - make_interval(secs => $2) WHERE id = $1`,
      [idle.sessionId, SESSION_IDLE_SECONDS + 1],
    );
    expect(await readSessionState(idle.request)).toEqual({
      status: 'ended',
      reason: 'idle',
      patientId: 'p-session',
    });

    const expired = await newSession('email_code');
    await database.pool.query(
      `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [expired.sessionId],
    );
    expect(await readSessionState(expired.request)).toEqual({
      status: 'ended',
      reason: 'max_age',
      patientId: 'p-session',
    });

    const revoked = await newSession('email_code');
    await revokeSession(revoked.sessionId);
    expect(await readSessionState(revoked.request)).toEqual({
      status: 'ended',
      reason: 'revoked',
      patientId: 'p-session',
    });
  });

  it('reads the row once per request', async () => {
    const session = await newSession('email_code');
    const query = vi.spyOn(database.pool, 'query');
    try {
      const [root, page] = await Promise.all([
        readSessionState(session.request),
        readSessionState(session.request),
      ]);

      expect(root).toMatchObject({ status: 'active' });
      expect(page).toBe(root);
      expect(query).toHaveBeenCalledTimes(1);
    } finally {
      query.mockRestore();
    }
  });

  it('reads the row again for a new request', async () => {
    const session = await newSession('email_code');
    expect(await readSessionState(session.request)).toMatchObject({ status: 'active' });

    await revokeSession(session.sessionId);
    const next = new Request(session.request.url, { headers: session.request.headers });

    expect(await readSessionState(next)).toMatchObject({ status: 'ended', reason: 'revoked' });
  });

  it('reads without recording activity when asked', async () => {
    const session = await newSession('email_code');
    await database.pool.query(
      `UPDATE sessions SET last_seen_at = now() - interval '10 minutes' WHERE id = $1`,
      [session.sessionId],
    );

    const checked = await readSessionState(session.request, { recordActivity: false });
    expect(checked).toMatchObject({ status: 'active' });
    if (checked.status !== 'active') return;
    expect(checked.remaining.idleSecondsRemaining).toBeLessThanOrEqual(SESSION_IDLE_SECONDS - 600);

    const used = await readSessionState(session.request);
    expect(used).toMatchObject({
      status: 'active',
      remaining: { idleSecondsRemaining: SESSION_IDLE_SECONDS },
    });
  });
});
