import {
  LAST_SEEN_WRITE_INTERVAL_SECONDS,
  SESSION_IDLE_SECONDS,
  type SessionLimit,
  type SessionTimeRemaining,
} from './session-limits';

/** How long before the session ends the browser warns the patient. */
export const SESSION_WARNING_SECONDS = 2 * 60;

/**
 * Seconds left at which the warning's live region speaks the time again. The opening of the
 * dialog speaks it first, and every second would be too many announcements.
 */
export const ANNOUNCED_SECONDS_REMAINING = [60, 30, 10] as const;

/**
 * When each limit ends the session, in milliseconds on the browser's clock (`Date.now()`). The
 * server sends seconds from now, so a phone whose clock is wrong still counts the right span.
 */
export interface SessionDeadlines {
  idleEndsAtMs: number;
  maxAgeEndsAtMs: number;
}

export interface SessionEnd {
  limit: SessionLimit;
  endsAtMs: number;
}

export function deadlinesFromRemaining(
  remaining: SessionTimeRemaining,
  nowMs: number,
): SessionDeadlines {
  return {
    idleEndsAtMs: nowMs + remaining.idleSecondsRemaining * 1000,
    maxAgeEndsAtMs: nowMs + remaining.maxAgeSecondsRemaining * 1000,
  };
}

/**
 * Moves the idle deadline after a request the server handled at about `nowMs`. The server writes
 * `last_seen_at` at most once per LAST_SEEN_WRITE_INTERVAL_SECONDS, so the idle limit may have
 * restarted up to that long before the request. The earliest possible end is used, and a
 * deadline already known to be later is kept.
 */
export function deadlinesAfterRequest(
  deadlines: SessionDeadlines,
  nowMs: number,
): SessionDeadlines {
  const earliestIdleEndMs =
    nowMs + (SESSION_IDLE_SECONDS - LAST_SEEN_WRITE_INTERVAL_SECONDS) * 1000;
  return { ...deadlines, idleEndsAtMs: Math.max(deadlines.idleEndsAtMs, earliestIdleEndMs) };
}

/**
 * Returns the limit that ends the session first. A tie goes to `max_age`, because staying signed
 * in cannot move that one.
 */
export function firstSessionEnd(deadlines: SessionDeadlines): SessionEnd {
  if (deadlines.maxAgeEndsAtMs <= deadlines.idleEndsAtMs) {
    return { limit: 'max_age', endsAtMs: deadlines.maxAgeEndsAtMs };
  }
  return { limit: 'idle', endsAtMs: deadlines.idleEndsAtMs };
}

/** Returns when to open the warning: SESSION_WARNING_SECONDS before the first end. */
export function warningAtMs(deadlines: SessionDeadlines): number {
  return firstSessionEnd(deadlines).endsAtMs - SESSION_WARNING_SECONDS * 1000;
}

/** Whole seconds left until `endsAtMs`, rounded up so that 0 means the end has come. */
export function secondsUntil(endsAtMs: number, nowMs: number): number {
  return Math.max(0, Math.ceil((endsAtMs - nowMs) / 1000));
}

/** Formats a span for reading, for example "1 minute 5 seconds" or "2 minutes". */
export function formatTimeRemaining(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  const parts: string[] = [];
  if (minutes > 0) parts.push(`${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`);
  if (rest > 0 || minutes === 0) parts.push(`${rest} ${rest === 1 ? 'second' : 'seconds'}`);
  return parts.join(' ');
}

/**
 * Returns whether the countdown passed an announced step on its way from `previousSeconds` down to
 * `currentSeconds`. A tab that slept may skip several steps at once, and then the time left is
 * spoken once.
 */
export function passesAnnouncementStep(previousSeconds: number, currentSeconds: number): boolean {
  return ANNOUNCED_SECONDS_REMAINING.some(
    (step) => previousSeconds > step && currentSeconds <= step,
  );
}
