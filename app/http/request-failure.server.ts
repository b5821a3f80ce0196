import { IdempotencyKeyInProgressError, IdempotencyKeyReusedError } from './idempotency.server';
import { BadRequestError } from './api.server';
import {
  SERVICE_UNAVAILABLE_MESSAGE,
  SERVICE_UNAVAILABLE_RETRY_SECONDS,
} from './service-unavailable.server';
import { isDatabaseUnavailable } from '~/db/database-errors.server';
import { PatientNotFoundError } from '~/patients/profile.server';
import { WriteLimitExceededError } from '~/security/write-limits.server';
import { getLogger } from '~/utils/logger.server';

/** A failure as a page or the API reports it to the patient: HTTP status, code and message. */
export interface RequestFailure {
  status: number;
  code: string;
  message: string;
  fields?: Record<string, string>;
  /** Seconds the client should wait before it tries again, sent as Retry-After. */
  retryAfterSeconds?: number;
}

/**
 * Describes the failures every patient write shares: invalid input, a session over its write
 * limit, a reused or busy idempotency key, a patient record that is gone, and an unreachable
 * database. Returns undefined for anything else.
 */
export function describeCommonFailure(error: unknown): RequestFailure | undefined {
  if (error instanceof BadRequestError) {
    return { status: error.status, code: error.code, message: error.message, fields: error.fields };
  }
  if (error instanceof WriteLimitExceededError) {
    return {
      status: 429,
      code: 'rate_limited',
      message: error.message,
      retryAfterSeconds: error.retryAfterSeconds,
    };
  }
  if (error instanceof IdempotencyKeyReusedError) {
    return {
      status: 422,
      code: 'idempotency_key_reused',
      message: 'This Idempotency-Key was already used for a different request. Use a new key.',
    };
  }
  if (error instanceof IdempotencyKeyInProgressError) {
    return {
      status: 409,
      code: 'request_in_progress',
      message: 'This request is still being processed. Wait a moment, then reload the page.',
    };
  }
  if (error instanceof PatientNotFoundError) {
    return {
      status: 404,
      code: 'not_found',
      message: 'Your patient record was not found. Contact your care team.',
    };
  }
  if (isDatabaseUnavailable(error)) {
    getLogger().error(
      { err: { name: (error as Error).name, code: (error as { code?: unknown }).code } },
      'database unavailable',
    );
    return {
      status: 503,
      code: 'service_unavailable',
      message: SERVICE_UNAVAILABLE_MESSAGE,
      retryAfterSeconds: SERVICE_UNAVAILABLE_RETRY_SECONDS,
    };
  }
  return undefined;
}

/** Returns the response headers a failure needs: Retry-After when it has a wait. */
export function failureHeaders(failure: RequestFailure): Record<string, string> | undefined {
  if (failure.retryAfterSeconds === undefined) return undefined;
  return { 'retry-after': String(failure.retryAfterSeconds) };
}

/**
 * Passes an action's Retry-After on to the page's HTML response, for a route's `headers` export.
 * Without that export React Router forwards only the action's Set-Cookie to the page.
 */
export function forwardRetryAfter({ actionHeaders }: { actionHeaders: Headers }): HeadersInit {
  const retryAfter = actionHeaders.get('retry-after');
  return retryAfter === null ? {} : { 'retry-after': retryAfter };
}
