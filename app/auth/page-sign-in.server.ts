import { data } from 'react-router';

import { UpstreamError } from '~/clients/upstream-error.server';
import { isDatabaseUnavailable } from '~/db/database-errors.server';
import { BadRequestError } from '~/http/api.server';
import { getLogger } from '~/utils/logger.server';

import { SIGN_IN_UNAVAILABLE_MESSAGE } from './sign-in-response.server';
import { SignInError } from './sign-in-errors.server';

export interface SignInFormErrors {
  formError?: string;
  fields?: Record<string, string>;
}

/**
 * Maps a failed sign-in step on a page to the action data the form shows, with the status the
 * API would send. Anything unexpected is rethrown to the error boundary.
 */
export function signInFormError(error: unknown, values: Record<string, string>) {
  if (error instanceof BadRequestError) {
    return data(
      {
        errors: { formError: error.message, fields: error.fields } satisfies SignInFormErrors,
        values,
      },
      { status: error.status },
    );
  }
  if (error instanceof SignInError) {
    const headers: HeadersInit = error.retryAfterSeconds
      ? { 'retry-after': String(error.retryAfterSeconds) }
      : {};
    return data(
      { errors: { formError: error.message } as SignInFormErrors, values },
      { status: error.status, headers },
    );
  }
  if (isDatabaseUnavailable(error)) {
    getLogger().error({ err: { name: (error as Error).name } }, 'sign-in database unavailable');
    return data(
      { errors: { formError: SIGN_IN_UNAVAILABLE_MESSAGE } as SignInFormErrors, values },
      { status: 503 },
    );
  }
  if (error instanceof UpstreamError) {
    getLogger().error(
      { upstream: error.upstream, failure: error.failure, status: error.status },
      'sign-in upstream failed',
    );
    return data(
      { errors: { formError: SIGN_IN_UNAVAILABLE_MESSAGE } as SignInFormErrors, values },
      { status: 503 },
    );
  }
  throw error;
}
