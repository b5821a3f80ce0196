import { getAuthenticator, startSession } from '~/auth/authenticator.server';
import { signInErrorResponse } from '~/auth/sign-in-response.server';
import { enforceVerifyLimit } from '~/auth/email-code.server';
import { assertJsonContentType, methodNotAllowed } from '~/http/api.server';

import type { Route } from './+types/api.patient.auth.verify';

export function loader() {
  return methodNotAllowed('POST');
}

export async function action({ request, context }: Route.ActionArgs) {
  if (request.method !== 'POST') return methodNotAllowed('POST');

  try {
    assertJsonContentType(request);
    await enforceVerifyLimit(context.clientIp);
    const signedIn = await getAuthenticator().authenticate('email-code', request);
    const setCookie = await startSession(request, signedIn);
    return Response.json(
      { status: 'signed_in', patientId: signedIn.patientId },
      { headers: { 'set-cookie': setCookie, 'cache-control': 'no-store' } },
    );
  } catch (error) {
    return signInErrorResponse(error);
  }
}
