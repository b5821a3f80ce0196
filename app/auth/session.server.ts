import { randomUUID } from 'node:crypto';

import { errors, jwtVerify, SignJWT } from 'jose';
import { redirect, redirectDocument } from 'react-router';

import { getEnv } from '~/config/env.server';
import { getPool } from '~/db/pool.server';
import { apiError } from '~/http/api.server';
import { memoizeForRequest } from '~/http/request-memo.server';
import { throwIfDatabaseUnavailable } from '~/http/service-unavailable.server';
import { noteAuthorizedPatient, noteDeniedAccess } from '~/security/access-audit.server';

import { clearKeptInputCookie } from './kept-input-cookie.server';

import {
  BACKGROUND_REQUEST_HEADER,
  LAST_SEEN_WRITE_INTERVAL_SECONDS,
  SESSION_IDLE_SECONDS,
  SESSION_MAX_AGE_SECONDS,
  sessionExpiredPath,
  signInPath,
  type SessionTimeRemaining,
} from './session-limits';

export { SESSION_IDLE_SECONDS, SESSION_MAX_AGE_SECONDS };

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const JWT_ISSUER = 'patient-portal';
const JWT_AUDIENCE = 'patient-portal';
const JWT_ALGORITHM = 'HS256';

export type AuthMethod = 'email_code' | 'canvas_sso';

/** The signed-in patient: ids from the verified session, never from request input. */
export interface PatientSession {
  patientId: string;
  sessionId: string;
}

/**
 * Name of the session cookie. `__Host-` requires Secure, so a deployment that turns Secure off
 * (plain HTTP on a host other than localhost) gets an unprefixed name.
 */
export function sessionCookieName(): string {
  return getEnv().session.cookieSecure ? '__Host-portal_session' : 'portal_session';
}

function signingKey(): Uint8Array {
  return new TextEncoder().encode(getEnv().session.secret);
}

/** Creates a session row and returns the Set-Cookie header that carries its JWT. */
export async function createSession(
  patientId: string,
  authMethod: AuthMethod,
): Promise<{
  sessionId: string;
  setCookie: string;
}> {
  const sessionId = randomUUID();
  const expiresAt = new Date(Date.now() + SESSION_MAX_AGE_SECONDS * 1000);

  await getPool().query(
    `INSERT INTO sessions (id, patient_id, auth_method, expires_at) VALUES ($1, $2, $3, $4)`,
    [sessionId, patientId, authMethod, expiresAt],
  );

  const jwt = await new SignJWT({ sid: sessionId })
    .setProtectedHeader({ alg: JWT_ALGORITHM })
    .setSubject(patientId)
    .setIssuer(JWT_ISSUER)
    .setAudience(JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(signingKey());

  return { sessionId, setCookie: serializeSessionCookie(jwt, SESSION_MAX_AGE_SECONDS) };
}

/**
 * Headers of a logout response: the session cookie and any kept form input removed, and
 * `Clear-Site-Data` so the browser also drops its cache and storage for the portal.
 */
export function logoutHeaders(): Headers {
  const headers = new Headers({
    'clear-site-data': '"cache", "cookies", "storage"',
    'cache-control': 'no-store',
  });
  headers.append('set-cookie', clearSessionCookie());
  headers.append('set-cookie', clearKeptInputCookie());
  return headers;
}

/** Returns the Set-Cookie header that removes the session cookie. */
export function clearSessionCookie(): string {
  return serializeSessionCookie('', 0);
}

function serializeSessionCookie(value: string, maxAgeSeconds: number): string {
  const attributes = [`${sessionCookieName()}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  attributes.push(`Max-Age=${maxAgeSeconds}`);
  if (getEnv().session.cookieSecure) attributes.push('Secure');
  return attributes.join('; ');
}

/**
 * Why a session cookie no longer signs the patient in: `idle` and `max_age` are the two limits,
 * `revoked` means signed out (here or on another device), and `invalid` is a JWT that fails
 * verification or names no session row.
 */
export type SessionEndReason = 'idle' | 'max_age' | 'revoked' | 'invalid';

/** The state of a request's session cookie: live, missing, or ended with the reason. */
export type SessionState =
  | { status: 'active'; session: PatientSession; remaining: SessionTimeRemaining }
  | { status: 'missing' }
  | { status: 'ended'; reason: SessionEndReason; patientId?: string };

/**
 * Returns the session of the request, or undefined when the cookie is missing, its JWT fails
 * verification, or its row is revoked, expired, or unused for SESSION_IDLE_SECONDS.
 */
export async function getPatientSession(request: Request): Promise<PatientSession | undefined> {
  const state = await readSessionState(request);
  return state.status === 'active' ? state.session : undefined;
}

/**
 * Reads the session cookie of the request and its row. A live session counts the request as
 * activity, writing `last_seen_at` at most once per LAST_SEEN_WRITE_INTERVAL_SECONDS, unless
 * `recordActivity` is false (a status check must not keep the session alive). When the database
 * cannot be reached, throws the 503 response of throwIfDatabaseUnavailable, so every signed-in
 * page and API request fails with 503 rather than 500. Calls with the same Request and
 * `recordActivity` share one lookup.
 */
export async function readSessionState(
  request: Request,
  options: { recordActivity?: boolean } = {},
): Promise<SessionState> {
  const recordActivity = options.recordActivity !== false;
  try {
    // The root loader and the page's loader run in parallel, and both read the session.
    return await memoizeForRequest(request, `session:${String(recordActivity)}`, () =>
      readSessionRow(request, { recordActivity }),
    );
  } catch (error) {
    throwIfDatabaseUnavailable(error, request);
    throw error;
  }
}

async function readSessionRow(
  request: Request,
  options: { recordActivity?: boolean },
): Promise<SessionState> {
  const token = readCookie(request.headers.get('cookie'), sessionCookieName());
  if (!token) return { status: 'missing' };

  let claims: { sid?: unknown; sub?: string };
  try {
    const verified = await jwtVerify(token, signingKey(), {
      algorithms: [JWT_ALGORITHM],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
    });
    claims = verified.payload;
  } catch (error) {
    // jose checks `exp` only after the signature, and `exp` is the row's expires_at.
    const reason = error instanceof errors.JWTExpired ? 'max_age' : 'invalid';
    return { status: 'ended', reason };
  }
  if (typeof claims.sid !== 'string' || typeof claims.sub !== 'string') {
    return { status: 'ended', reason: 'invalid' };
  }
  if (!UUID_PATTERN.test(claims.sid)) return { status: 'ended', reason: 'invalid' };

  // Both times are measured on the database clock, which also writes last_seen_at.
  const result = await getPool().query<{
    patient_id: string;
    revoked: boolean;
    idle_seconds_remaining: number;
    max_age_seconds_remaining: number;
  }>(
    `SELECT patient_id, revoked_at IS NOT NULL AS revoked,
       $3 - EXTRACT(EPOCH FROM now() - last_seen_at)::float8 AS idle_seconds_remaining,
       EXTRACT(EPOCH FROM expires_at - now())::float8 AS max_age_seconds_remaining
     FROM sessions WHERE id = $1 AND patient_id = $2`,
    [claims.sid, claims.sub, SESSION_IDLE_SECONDS],
  );
  const row = result.rows[0];
  if (!row) return { status: 'ended', reason: 'invalid' };
  // The JWT is verified and names this row, so the patient of an ended session is known.
  const patientId = row.patient_id;
  if (row.revoked) return { status: 'ended', reason: 'revoked', patientId };
  if (row.max_age_seconds_remaining <= 0) return { status: 'ended', reason: 'max_age', patientId };
  if (row.idle_seconds_remaining <= 0) return { status: 'ended', reason: 'idle', patientId };

  let idleSecondsRemaining = row.idle_seconds_remaining;
  const lastSeenAgeSeconds = SESSION_IDLE_SECONDS - idleSecondsRemaining;
  if (options.recordActivity !== false && lastSeenAgeSeconds > LAST_SEEN_WRITE_INTERVAL_SECONDS) {
    await getPool().query('UPDATE sessions SET last_seen_at = now() WHERE id = $1', [claims.sid]);
    idleSecondsRemaining = SESSION_IDLE_SECONDS;
  }
  return {
    status: 'active',
    session: { patientId: row.patient_id, sessionId: claims.sid },
    remaining: {
      idleSecondsRemaining: Math.floor(idleSecondsRemaining),
      maxAgeSecondsRemaining: Math.floor(row.max_age_seconds_remaining),
    },
  };
}

/**
 * Writes `last_seen_at` now, even within LAST_SEEN_WRITE_INTERVAL_SECONDS of the last write, so
 * the idle limit starts again. The maximum age never moves. Returns undefined when the session
 * has already ended.
 */
export async function keepSessionAlive(
  sessionId: string,
): Promise<SessionTimeRemaining | undefined> {
  const result = await getPool().query<{ max_age_seconds_remaining: number }>(
    `UPDATE sessions SET last_seen_at = now()
     WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()
       AND last_seen_at > now() - make_interval(secs => $2)
     RETURNING EXTRACT(EPOCH FROM expires_at - now())::float8 AS max_age_seconds_remaining`,
    [sessionId, SESSION_IDLE_SECONDS],
  );
  const row = result.rows[0];
  if (!row) return undefined;
  return {
    idleSecondsRemaining: SESSION_IDLE_SECONDS,
    maxAgeSecondsRemaining: Math.floor(row.max_age_seconds_remaining),
  };
}

/**
 * Returns the patient of a session that ended by its idle or absolute limit: the subject of the
 * cookie's JWT, whose signature, issuer and audience were checked, with its expiry allowed to be
 * past. Returns undefined for a live, missing, invalid or signed-out session.
 */
export async function readEndedSessionPatientId(request: Request): Promise<string | undefined> {
  const state = await readSessionState(request, { recordActivity: false });
  if (state.status !== 'ended' || (state.reason !== 'idle' && state.reason !== 'max_age')) {
    return undefined;
  }

  const token = readCookie(request.headers.get('cookie'), sessionCookieName()) ?? '';
  try {
    const { payload } = await jwtVerify(token, signingKey(), {
      algorithms: [JWT_ALGORITHM],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
    });
    return payload.sub;
  } catch (error) {
    // jose checks `exp` after the signature, issuer and audience, so this payload passed them.
    return error instanceof errors.JWTExpired ? error.payload.sub : undefined;
  }
}

/**
 * Returns the signed-in patient or ends the request: 401 JSON for `/api/*`, and for pages a
 * redirect (with a same-site `redirectTo`) to `/session-expired` when the session ended by a
 * limit, else to `/login`.
 */
export async function requirePatient(request: Request): Promise<PatientSession> {
  const background = request.headers.get(BACKGROUND_REQUEST_HEADER) === '1';
  const state = await readSessionState(request, { recordActivity: !background });
  if (state.status === 'active') {
    noteAuthorizedPatient(request, state.session);
    return state.session;
  }

  if (state.status === 'missing') noteDeniedAccess(request, { reason: 'no_session' });
  else noteDeniedAccess(request, { reason: state.reason, patientId: state.patientId });
  const url = new URL(request.url);
  if (url.pathname.startsWith('/api/')) {
    throw apiError(
      401,
      'unauthenticated',
      'Sign in to continue. Your session is missing or has expired.',
      {
        'set-cookie': clearSessionCookie(),
      },
    );
  }
  const redirectTo = `${url.pathname}${url.search}`;
  if (state.status === 'ended' && (state.reason === 'idle' || state.reason === 'max_age')) {
    // A full page load, so a client-side navigation also drops the previous page's data.
    throw redirectDocument(sessionExpiredPath(state.reason, redirectTo), {
      headers: { 'set-cookie': clearSessionCookie() },
    });
  }
  throw redirect(signInPath(redirectTo), { headers: { 'set-cookie': clearSessionCookie() } });
}

/** Revokes every open session of the patient, on every device; returns how many it ended. */
export async function revokeAllSessions(patientId: string): Promise<number> {
  const result = await getPool().query(
    'UPDATE sessions SET revoked_at = now() WHERE patient_id = $1 AND revoked_at IS NULL',
    [patientId],
  );
  return result.rowCount ?? 0;
}

/** Marks a session revoked; later requests with its cookie are treated as signed out. */
export async function revokeSession(sessionId: string): Promise<void> {
  await getPool().query(
    'UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL',
    [sessionId],
  );
}

export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;

  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}
