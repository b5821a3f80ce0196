import { endSession } from '~/auth/authenticator.server';
import { logoutHeaders } from '~/auth/session.server';
import { methodNotAllowed } from '~/http/api.server';

import type { Route } from './+types/api.patient.auth.logout';

export function loader() {
  return methodNotAllowed('POST');
}

/** Revokes the session row and clears the cookie; responds 204 even when no session was open. */
export async function action({ request, context }: Route.ActionArgs) {
  if (request.method !== 'POST') return methodNotAllowed('POST');

  await endSession(request, context.requestId);
  return new Response(null, { status: 204, headers: logoutHeaders() });
}
