import { data, Link, redirect } from 'react-router';

import {
  SESSION_IDLE_SECONDS,
  SESSION_MAX_AGE_SECONDS,
  signInPath,
  type SessionLimit,
} from '~/auth/session-limits';
import { hasKeptInput } from '~/auth/kept-form-input.server';
import { clearSessionCookie, readSessionState } from '~/auth/session.server';
import { safeRedirectPath } from '~/http/safe-redirect';

import type { Route } from './+types/session-expired';

export const meta: Route.MetaFunction = () => [
  { title: 'Your session has ended | Patient portal' },
];

const EXPLANATIONS: Record<SessionLimit | 'unknown', string> = {
  idle: `You were signed out because there was no activity for ${SESSION_IDLE_SECONDS / 60} minutes.`,
  max_age: `You were signed out because you had been signed in for ${SESSION_MAX_AGE_SECONDS / 3600} hours, the longest a session can last.`,
  unknown: 'You were signed out.',
};

function parseLimit(value: string | null): SessionLimit | 'unknown' {
  return value === 'idle' || value === 'max_age' ? value : 'unknown';
}

/**
 * Says why the session ended and links to sign in again, back to `redirectTo`. A session cookie
 * still present is classified here and cleared; without one, the `reason` in the address is used.
 * A session that is still live goes back to `redirectTo`, and one that was signed out goes to
 * the sign-in page.
 */
export async function loader({ request }: Route.LoaderArgs) {
  const url = new URL(request.url);
  const redirectTo = safeRedirectPath(url.searchParams.get('redirectTo'));

  const state = await readSessionState(request, { recordActivity: false });
  if (state.status === 'active') throw redirect(redirectTo);

  let limit = parseLimit(url.searchParams.get('reason'));
  if (state.status === 'ended') {
    if (state.reason === 'revoked' || state.reason === 'invalid') {
      throw redirect(signInPath(redirectTo), { headers: { 'set-cookie': clearSessionCookie() } });
    }
    limit = state.reason;
  }

  const headers: HeadersInit =
    state.status === 'ended' ? { 'set-cookie': clearSessionCookie() } : {};
  return data(
    { limit, signInPath: signInPath(redirectTo), inputKept: await hasKeptInput(request) },
    { headers },
  );
}

export default function SessionExpired({ loaderData }: Route.ComponentProps) {
  return (
    <section className="narrow" aria-labelledby="session-expired-heading">
      <h1 id="session-expired-heading">Your session has ended</h1>
      <p>{EXPLANATIONS[loaderData.limit]}</p>
      <p>
        Signing out when a session ends protects your health information if you leave your device
        unattended.
      </p>
      {loaderData.inputKept ? (
        <p>
          We kept what you had typed but not yet sent. After you sign in, it will be back on the
          form for you to review and send.
        </p>
      ) : (
        <p>
          Anything you had typed but not yet sent, such as a message, was not saved. Please enter it
          again after you sign in.
        </p>
      )}
      <p>
        <Link to={loaderData.signInPath} className="button-link">
          Sign in again
        </Link>
      </p>
    </section>
  );
}
