import { UpstreamError } from '~/clients/upstream-error.server';
import { isDatabaseUnavailable } from '~/db/database-errors.server';
import { apiError, BadRequestError } from '~/http/api.server';
import { getLogger } from '~/utils/logger.server';

import { SignInError } from './sign-in-errors.server';

export const SIGN_IN_UNAVAILABLE_MESSAGE =
  'Sign-in is unavailable right now. Please try again in a few minutes.';

/** Maps a failed sign-in step to the API's JSON error; anything unexpected is rethrown. */
export function signInErrorResponse(error: unknown): Response {
  if (error instanceof BadRequestError) return error.toResponse();
  if (error instanceof SignInError) {
    const headers = error.retryAfterSeconds
      ? { 'retry-after': String(error.retryAfterSeconds) }
      : undefined;
    return apiError(error.status, error.code, error.message, headers);
  }
  if (isDatabaseUnavailable(error)) {
    getLogger().error({ err: { name: (error as Error).name } }, 'sign-in database unavailable');
    return apiError(503, 'unavailable', SIGN_IN_UNAVAILABLE_MESSAGE);
  }
  if (error instanceof UpstreamError) {
    getLogger().error(
      { upstream: error.upstream, failure: error.failure, status: error.status },
      'sign-in upstream failed',
    );
    return apiError(503, 'unavailable', SIGN_IN_UNAVAILABLE_MESSAGE);
  }
  throw error;
}
