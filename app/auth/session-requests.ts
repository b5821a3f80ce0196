import type { SessionTimeRemaining } from './session-limits';

/** The server's report on the session: live with the time left, ended, or no usable response. */
export type SessionCheck =
  | { kind: 'active'; remaining: SessionTimeRemaining }
  | { kind: 'ended' }
  | { kind: 'failed' };

/**
 * A message between the portal's tabs: one of them made a request, or the server reported the
 * time left. Each tab then moves its own deadlines.
 */
export type SessionTabMessage =
  | { kind: 'request' }
  | { kind: 'remaining'; remaining: SessionTimeRemaining };

export const SESSION_CHANNEL_NAME = 'patient-portal-session';

/** Reads the time left without counting as activity, so checking never keeps a session alive. */
export function checkSessionTime(): Promise<SessionCheck> {
  return requestSessionTime('/api/patient/session', { method: 'GET' });
}

/** Restarts the idle limit on the server and returns the new time left. */
export function sendKeepAlive(): Promise<SessionCheck> {
  return requestSessionTime('/api/patient/session/keepalive', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
}

/** Ends the session on the server. A failure is ignored, because the session ends soon anyway. */
export async function signOutNow(): Promise<void> {
  try {
    await fetch('/api/patient/auth/logout', { method: 'POST', credentials: 'same-origin' });
  } catch {
    // The caller navigates to the sign-in page next, which works either way.
  }
}

export function isSessionTabMessage(value: unknown): value is SessionTabMessage {
  if (typeof value !== 'object' || value === null) return false;

  const message = value as { kind?: unknown; remaining?: unknown };
  if (message.kind === 'request') return true;
  return message.kind === 'remaining' && isSessionTimeRemaining(message.remaining);
}

async function requestSessionTime(path: string, init: RequestInit): Promise<SessionCheck> {
  let response: Response;
  try {
    response = await fetch(path, { ...init, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    return { kind: 'failed' };
  }
  if (response.status === 401) return { kind: 'ended' };
  if (!response.ok) return { kind: 'failed' };

  const body: unknown = await response.json().catch(() => undefined);
  return isSessionTimeRemaining(body) ? { kind: 'active', remaining: body } : { kind: 'failed' };
}

function isSessionTimeRemaining(value: unknown): value is SessionTimeRemaining {
  if (typeof value !== 'object' || value === null) return false;

  const remaining = value as Partial<Record<keyof SessionTimeRemaining, unknown>>;
  return (
    Number.isFinite(remaining.idleSecondsRemaining) &&
    Number.isFinite(remaining.maxAgeSecondsRemaining)
  );
}
