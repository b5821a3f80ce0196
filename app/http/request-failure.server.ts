import { IdempotencyKeyInProgressError, IdempotencyKeyReusedError } from './idempotency.server';
import { BadRequestError } from './api.server';
import { PatientNotFoundError } from '~/patients/profile.server';

/** A failure as a page or the API reports it to the patient: HTTP status, code and message. */
export interface RequestFailure {
  status: number;
  code: string;
  message: string;
  fields?: Record<string, string>;
}

/**
 * Describes the failures every patient write shares: invalid input, a reused or busy
 * idempotency key, and a patient record that is gone. Returns undefined for anything else.
 */
export function describeCommonFailure(error: unknown): RequestFailure | undefined {
  if (error instanceof BadRequestError) {
    return { status: error.status, code: error.code, message: error.message, fields: error.fields };
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
  return undefined;
}
