import { redirect } from 'react-router';

import { authenticateWithCanvas, clearCanvasStateCookies } from '~/auth/canvas-sso.server';

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
  try {
    await authenticateWithCanvas(request);
  } catch (thrown) {
    // The strategy responds by throwing the redirect to Canvas with the new state cookie. Older
    // state cookies of this browser go, so they cannot pile up.
    if (!(thrown instanceof Response)) throw thrown;
    for (const cookie of clearCanvasStateCookies(request))
      thrown.headers.append('set-cookie', cookie);
    return thrown;
  }
  return redirect('/login', 303);
}
