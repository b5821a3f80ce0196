import type { PatientSession } from '~/auth/session.server';
import { getEnv } from '~/config/env.server';
import { getLogger } from '~/utils/logger.server';

import { consumeRateLimit } from './rate-limit.server';

/** Kinds of patient write, each with its own counter per session. */
export type WriteKind = 'message' | 'booking' | 'mark-read';

interface WriteLimit {
  /** Requests one session may make per window. */
  limit: number;
  windowSeconds: number;
  /** Phrase for what the patient did too often, after "You have", e.g. "sent many messages". */
  activity: string;
}

/**
 * Per-session limits on patient writes, far above what a person does by hand, so that only a
 * script or a client stuck in a loop reaches them. Sign-in has its own limits.
 * - message: sending a message to the care team. 20 a minute is one every 3 seconds.
 * - booking: booking, rescheduling and cancelling visits, which write to FHIR and Zoom and send
 *   an email each time.
 * - mark-read: marking one notification or all of them read.
 */
export const WRITE_LIMITS: Record<WriteKind, WriteLimit> = {
  message: { limit: 20, windowSeconds: 60, activity: 'sent many messages' },
  booking: { limit: 20, windowSeconds: 10 * 60, activity: 'changed your visits many times' },
  'mark-read': {
    limit: 120,
    windowSeconds: 60,
    activity: 'marked many notifications as read',
  },
};

/** Error for a session that made more writes of one kind than its limit allows in one window. */
export class WriteLimitExceededError extends Error {
  override name = 'WriteLimitExceededError';

  constructor(
    readonly kind: WriteKind,
    /** Seconds until the window ends and the session may write again. */
    readonly retryAfterSeconds: number,
  ) {
    super(
      `You have ${WRITE_LIMITS[kind].activity} in a short time. Wait ${describeWait(retryAfterSeconds)} and try again.`,
    );
  }
}

/**
 * Counts one write of `kind` by the session and throws WriteLimitExceededError when the session
 * is over that kind's limit. Call it after authentication and input validation, and before any
 * upstream call or idempotency-key lookup.
 *
 * A retry with the same Idempotency-Key counts like any other request. The limit is checked before
 * the key is looked up, so a rejected retry neither replays nor writes, and the key keeps its
 * state for the next retry: a retry can be refused but never duplicated. Exempting replays would
 * need a key lookup before the limit, and would leave a loop of retries unlimited.
 */
export async function enforceWriteLimit(session: PatientSession, kind: WriteKind): Promise<void> {
  const { windowSeconds } = WRITE_LIMITS[kind];
  const limit = getEnv().writeLimitPerWindow ?? WRITE_LIMITS[kind].limit;

  const result = await consumeRateLimit({
    key: `write:${kind}:session:${session.sessionId}`,
    limit,
    windowSeconds,
  });
  if (result.allowed) return;

  // Logs once per session, kind and window, because the request log already records each 429.
  if (result.hits === limit + 1) {
    getLogger().warn(
      { patientId: session.patientId, kind, limit, windowSeconds },
      'write limit reached',
    );
  }
  throw new WriteLimitExceededError(kind, result.retryAfterSeconds);
}

/** Returns "45 seconds", "1 second" or, above 90 seconds, whole minutes rounded up. */
function describeWait(seconds: number): string {
  if (seconds <= 90) return seconds === 1 ? '1 second' : `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}
