import { BadRequestError } from '~/http/api.server';
import { IDEMPOTENCY_KEY_PATTERN } from '~/http/idempotency.server';

/** Reads the optional `since` poll cursor: an ISO 8601 instant with a zone. */
export function parsePollCursor(value: string | null): string | undefined {
  if (value === null) return undefined;
  const isInstant =
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(value) &&
    !Number.isNaN(Date.parse(value));
  if (!isInstant) {
    throw new BadRequestError(
      400,
      'invalid_request',
      'Use the cursor from the last answer as since, e.g. since=2026-01-05T14:30:00.000Z.',
      { since: 'Not an ISO 8601 instant.' },
    );
  }
  return new Date(value).toISOString();
}

/** Reads an optional idempotency key, from the Idempotency-Key header or the page's form. */
export function parseIdempotencyKey(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (!IDEMPOTENCY_KEY_PATTERN.test(value)) {
    throw new BadRequestError(
      400,
      'invalid_idempotency_key',
      'Use an Idempotency-Key of 8 to 128 letters, digits or the characters - _ . : (a UUID works).',
    );
  }
  return value;
}
