import { data } from 'react-router';

import { isDatabaseUnavailable } from '~/db/database-errors.server';
import { getLogger } from '~/utils/logger.server';

import { apiError } from './api.server';

export const SERVICE_UNAVAILABLE_MESSAGE =
  'The portal is temporarily unavailable. Please try again in a minute.';

/** Seconds a client is asked to wait before it tries again, sent as Retry-After. */
export const SERVICE_UNAVAILABLE_RETRY_SECONDS = 30;

/**
 * Throws the 503 response of a request that failed because the database is unreachable: JSON
 * with the code `service_unavailable` under `/api/`, and for a page the error boundary's
 * message. Returns without throwing for any other error, which the caller rethrows.
 */
export function throwIfDatabaseUnavailable(error: unknown, request: Request): void {
  if (!isDatabaseUnavailable(error)) return;

  const { pathname } = new URL(request.url);
  getLogger().error(
    {
      requestId: request.headers.get('x-request-id') ?? undefined,
      err: { name: (error as Error).name, code: (error as { code?: unknown }).code },
    },
    'database unavailable',
  );
  const headers = { 'retry-after': String(SERVICE_UNAVAILABLE_RETRY_SECONDS) };
  if (pathname.startsWith('/api/')) {
    throw apiError(503, 'service_unavailable', SERVICE_UNAVAILABLE_MESSAGE, headers);
  }
  throw data({ message: SERVICE_UNAVAILABLE_MESSAGE }, { status: 503, headers });
}
