import { z } from 'zod';

import { clearSessionCookie, keepSessionAlive, requirePatient } from '~/auth/session.server';
import { apiError, handleBadRequest, methodNotAllowed, readJsonBody } from '~/http/api.server';

import type { Route } from './+types/api.patient.session.keepalive';

const KEEPALIVE_BODY_SCHEMA = z.strictObject({});

export function loader() {
  return methodNotAllowed('POST');
}

/**
 * POST `{}` as application/json: restarts the idle limit at once, even within a minute of the
 * last write, and returns the seconds left by each limit. The maximum age never moves.
 */
export async function action({ request }: Route.ActionArgs) {
  if (request.method !== 'POST') return methodNotAllowed('POST');
  const session = await requirePatient(request);

  try {
    await readJsonBody(request, KEEPALIVE_BODY_SCHEMA);
  } catch (error) {
    return handleBadRequest(error);
  }

  const remaining = await keepSessionAlive(session.sessionId);
  // The session can end between the check above and the write.
  if (!remaining) {
    return apiError(401, 'unauthenticated', 'Sign in to continue. Your session has ended.', {
      'set-cookie': clearSessionCookie(),
    });
  }
  return Response.json(remaining, { headers: { 'cache-control': 'no-store' } });
}
