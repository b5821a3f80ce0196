/**
 * Session limits shared by the server, which enforces them, and the browser, which warns the
 * patient before one ends.
 */

/** Absolute lifetime of a session, whatever the activity. */
export const SESSION_MAX_AGE_SECONDS = 4 * 60 * 60;

/** A session unused this long ends, whatever its absolute limit. */
export const SESSION_IDLE_SECONDS = 30 * 60;

/** `sessions.last_seen_at` is written at most this often, to keep reads cheap. */
export const LAST_SEEN_WRITE_INTERVAL_SECONDS = 60;

/** The limit that ends a session: no request for SESSION_IDLE_SECONDS, or SESSION_MAX_AGE_SECONDS. */
export type SessionLimit = 'idle' | 'max_age';

/** Whole seconds until each limit ends the session, counted on the server's clock. */
export interface SessionTimeRemaining {
  idleSecondsRemaining: number;
  maxAgeSecondsRemaining: number;
}

/**
 * Path of the page that explains that the session ended by `limit`, with the same-site path to
 * return to after signing in again.
 */
export function sessionExpiredPath(limit: SessionLimit, redirectTo: string): string {
  const query = new URLSearchParams({ reason: limit });
  if (redirectTo !== '/') query.set('redirectTo', redirectTo);
  return `/session-expired?${query}`;
}

/** Path of the sign-in page that returns the patient to `redirectTo` afterwards. */
export function signInPath(redirectTo: string): string {
  return redirectTo === '/' ? '/login' : `/login?${new URLSearchParams({ redirectTo })}`;
}

/**
 * Header a page's own background request (the Messages poll) sends so that it does not count as
 * the patient's activity: an open tab alone must not keep a session from going idle.
 */
export const BACKGROUND_REQUEST_HEADER = 'x-background-request';
