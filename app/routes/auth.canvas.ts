import { redirect } from 'react-router';

import { authenticateWithCanvas } from '~/auth/canvas-sso.server';

import type { Route } from './+types/auth.canvas';

/**
 * Starts Canvas single sign-on: the EHR's magic link lands here, and the response redirects to
 * Canvas's authorization endpoint with PKCE and a fresh state in a cookie.
 */
export async function loader({ request }: Route.LoaderArgs) {
  if (new URL(request.url).searchParams.has('state')) {
    // A state belongs on the callback, never on the start of a sign-in.
    return redirect('/login/canvas-error?reason=state_mismatch', 303);
  }
  // The strategy responds by throwing the redirect to Canvas.
  await authenticateWithCanvas(request);
  return redirect('/login', 303);
}
