import { readSessionState } from '~/auth/session.server';
import { apiError, methodNotAllowed } from '~/http/api.server';

import type { Route } from './+types/api.patient.session';

/**
 * GET: the seconds left until the session ends by each limit. Reading them is not activity, so
 * the browser can check before it warns without keeping the session alive. A session that has
 * ended gets 401, and its cookie stays for the next page to classify (idle, maximum age or
 * signed out).
 */
export async function loader({ request }: Route.LoaderArgs) {
  const state = await readSessionState(request, { recordActivity: false });
  if (state.status !== 'active') {
    return apiError(401, 'unauthenticated', 'Sign in to continue. Your session has ended.');
  }
  return Response.json(state.remaining, { headers: { 'cache-control': 'no-store' } });
}

export function action() {
  return methodNotAllowed('GET');
}
