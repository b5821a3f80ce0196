import { randomUUID } from 'node:crypto';

import { jwtVerify, SignJWT } from 'jose';
import { redirect } from 'react-router';

import { getEnv } from '~/config/env.server';
import { getPool } from '~/db/pool.server';
import { apiError } from '~/http/api.server';
import { noteAuthorizedPatient, noteDeniedAccess } from '~/security/access-audit.server';

/** Absolute lifetime of a session, whatever the activity. */
export const SESSION_MAX_AGE_SECONDS = 4 * 60 * 60;

/** A session unused this long ends, whatever its absolute limit. */
export const SESSION_IDLE_SECONDS = 30 * 60;

/** `sessions.last_seen_at` is written at most this often, to keep reads cheap. */
const LAST_SEEN_WRITE_INTERVAL_SECONDS = 60;

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
 * Headers of a logout response: the cookie removed, and `Clear-Site-Data` so the browser also
 * drops its cache and storage for the portal.
 */
export function logoutHeaders(): Record<string, string> {
  return {
    'set-cookie': clearSessionCookie(),
    'clear-site-data': '"cache", "cookies", "storage"',
    'cache-control': 'no-store',
  };
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
 * Returns the session of the request, or undefined when the cookie is missing, its JWT fails
 * verification, or its row is revoked, expired, or unused for SESSION_IDLE_SECONDS.
 */
export async function getPatientSession(request: Request): Promise<PatientSession | undefined> {
  const token = readCookie(request.headers.get('cookie'), sessionCookieName());
  if (!token) return undefined;

  let claims: { sid?: unknown; sub?: string };
  try {
    const verified = await jwtVerify(token, signingKey(), {
      algorithms: [JWT_ALGORITHM],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
    });
    claims = verified.payload;
  } catch {
    return undefined;
  }
  if (typeof claims.sid !== 'string' || typeof claims.sub !== 'string') return undefined;
  if (!UUID_PATTERN.test(claims.sid)) return undefined;

  const result = await getPool().query<{ patient_id: string; last_seen_at: Date }>(
    `SELECT patient_id, last_seen_at FROM sessions
     WHERE id = $1 AND patient_id = $2 AND revoked_at IS NULL AND expires_at > now()
       AND last_seen_at > now() - make_interval(secs => $3)`,
    [claims.sid, claims.sub, SESSION_IDLE_SECONDS],
  );
  const row = result.rows[0];
  if (!row) return undefined;

  if (Date.now() - row.last_seen_at.getTime() > LAST_SEEN_WRITE_INTERVAL_SECONDS * 1000) {
    await getPool().query('UPDATE sessions SET last_seen_at = now() WHERE id = $1', [claims.sid]);
  }
  return { patientId: row.patient_id, sessionId: claims.sid };
}

/**
 * Returns the signed-in patient or ends the request: 401 JSON for `/api/*`, a redirect to
 * `/login` (with a same-site `redirectTo`) for pages.
 */
export async function requirePatient(request: Request): Promise<PatientSession> {
  const session = await getPatientSession(request);
  if (session) {
    noteAuthorizedPatient(request, session);
    return session;
  }

  const hasCookie = readCookie(request.headers.get('cookie'), sessionCookieName()) !== undefined;
  noteDeniedAccess(request, hasCookie ? 'session_ended' : 'no_session');
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
  const loginUrl = redirectTo === '/' ? '/login' : `/login?${new URLSearchParams({ redirectTo })}`;
  throw redirect(loginUrl, { headers: { 'set-cookie': clearSessionCookie() } });
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
