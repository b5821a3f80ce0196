import { redirect } from 'react-router';

import { startSession } from '~/auth/authenticator.server';
import {
  authenticateWithCanvas,
  CanvasSignInError,
  clearCanvasStateCookies,
} from '~/auth/canvas-sso.server';
import { recordAuditEvent } from '~/security/audit.server';
import { getLogger } from '~/utils/logger.server';

import type { Route } from './+types/api.patient.auth.canvas-callback';

/**
 * Completes Canvas single sign-on. The state is checked against the cookie before the code is
 * exchanged; then the patient gets the same session as an email sign-in. Every outcome removes
 * the state cookies, so a state works once. Every failure goes to a page that explains it, and
 * the log gets the reason without codes or tokens.
 */
export async function loader({ request, context }: Route.LoaderArgs) {
  const headers = new Headers();
  for (const cookie of clearCanvasStateCookies(request)) headers.append('set-cookie', cookie);

  try {
    // Without a state the library would start a new sign-in; a callback must end here instead.
    if (!new URL(request.url).searchParams.get('state')) {
      throw new CanvasSignInError('missing_state', 'The callback carried no state');
    }
    const signedIn = await authenticateWithCanvas(request);
    headers.append('set-cookie', await startSession(request, signedIn, 'canvas_sso'));
    await recordAuditEvent({
      type: 'sign_in.canvas_sso',
      outcome: 'success',
      patientId: signedIn.patientId,
      requestId: context.requestId,
      clientIp: context.clientIp,
    });
    getLogger().info(
      { patientId: signedIn.patientId, requestId: context.requestId },
      'signed in with Canvas',
    );
    return redirect('/', { status: 303, headers });
  } catch (error) {
    if (!(error instanceof CanvasSignInError)) throw error;
    getLogger().warn(
      { reason: error.reason, detail: error.message, requestId: context.requestId },
      'Canvas sign-in failed',
    );
    await recordAuditEvent({
      type: 'sign_in.canvas_sso',
      outcome: 'failure',
      requestId: context.requestId,
      clientIp: context.clientIp,
      details: { reason: error.reason },
    });
    return redirect(`/login/canvas-error?reason=${error.reason}`, { status: 303, headers });
  }
}
