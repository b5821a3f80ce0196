import { redirect } from 'react-router';

import { startSession } from '~/auth/authenticator.server';
import {
  authenticateWithCanvas,
  CanvasSignInError,
  clearCanvasStateCookie,
} from '~/auth/canvas-sso.server';
import { recordAuditEvent } from '~/security/audit.server';
import { getLogger } from '~/utils/logger.server';

import type { Route } from './+types/api.patient.auth.canvas-callback';

/**
 * Completes Canvas single sign-on. The state is checked against the cookie before the code is
 * exchanged; then the patient gets the same session as an email sign-in. Every failure goes to
 * a page that explains it, and the log gets the reason without codes or tokens.
 */
export async function loader({ request, context }: Route.LoaderArgs) {
  try {
    const signedIn = await authenticateWithCanvas(request);
    const headers = new Headers();
    headers.append('set-cookie', await startSession(request, signedIn, 'canvas_sso'));
    headers.append('set-cookie', clearCanvasStateCookie());
    await recordAuditEvent({
      type: 'sign_in.canvas_sso',
      outcome: 'success',
      patientId: signedIn.patientId,
      requestId: context.requestId,
    });
    getLogger().info({ patientId: signedIn.patientId }, 'signed in with Canvas');
    return redirect('/', { status: 303, headers });
  } catch (error) {
    if (!(error instanceof CanvasSignInError)) throw error;
    getLogger().warn({ reason: error.reason, detail: error.message }, 'Canvas sign-in failed');
    await recordAuditEvent({
      type: 'sign_in.canvas_sso',
      outcome: 'failure',
      requestId: context.requestId,
      details: { reason: error.reason },
    });
    return redirect(`/login/canvas-error?reason=${error.reason}`, 303);
  }
}
