import { BadRequestError } from '~/http/api.server';
import { parseInstantWithOffset } from '~/scheduling/zoned-time';

/** Reads the optional `since` poll cursor: an ISO 8601 instant with a zone. */
export function parsePollCursor(value: string | null): string | undefined {
  if (value === null) return undefined;
  const parsed = parseInstantWithOffset(value);
  // A cursor comes from an earlier response, so it lies between 2000 and a day from now.
  const isInstant =
    parsed !== undefined &&
    parsed.getUTCFullYear() >= 2000 &&
    parsed.getTime() <= Date.now() + 24 * 60 * 60 * 1000;
  if (!isInstant) {
    throw new BadRequestError(
      400,
      'invalid_request',
      'Use the cursor from the last answer as since, e.g. since=2026-01-05T14:30:00.000Z.',
      { since: 'Not an ISO 8601 instant.' },
    );
  }
  return parsed.toISOString();
}
