import { redirect } from 'react-router';

import { endSession } from '~/auth/authenticator.server';
import { logoutHeaders } from '~/auth/session.server';

import type { Route } from './+types/logout';

/** Signing out changes state, so GET only sends the patient home. */
export function loader() {
  return redirect('/');
}

export async function action({ request, context }: Route.ActionArgs) {
  await endSession(request, context.requestId);
  return redirect('/login?signedOut=1', { headers: logoutHeaders() });
}
