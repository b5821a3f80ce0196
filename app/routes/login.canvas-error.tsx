import { Link } from 'react-router';

import type { Route } from './+types/login.canvas-error';

export const meta: Route.MetaFunction = () => [
  { title: 'Sign-in with Canvas did not finish | Patient portal' },
];

const EXPLANATIONS = {
  denied: 'You chose not to let the portal use your Canvas account, so you are not signed in.',
  state_mismatch:
    'This sign-in could not be finished in this browser. The link may have been opened in another browser or by another program first. Open the link from your email again, in this browser.',
  missing_state:
    'This sign-in could not be finished in this browser. The link may have been opened in another browser or by another program first. Open the link from your email again, in this browser.',
  code_rejected:
    'This sign-in link has expired or was already used. Open the link from your email again to get a fresh one.',
  unknown_patient:
    'Your Canvas account is not linked to a patient record in the portal yet. Please sign in with your email, or call the pharmacy.',
  unavailable:
    'Canvas could not be reached to sign you in. Please try again in a few minutes, or sign in with your email.',
} as const;

type Reason = keyof typeof EXPLANATIONS;

export function loader({ request }: Route.LoaderArgs) {
  const reason = new URL(request.url).searchParams.get('reason');
  const known = reason !== null && Object.hasOwn(EXPLANATIONS, reason);
  return { reason: known ? (reason as Reason) : 'unavailable' };
}

export default function CanvasSignInError({ loaderData }: Route.ComponentProps) {
  return (
    <div className="narrow">
      <h1>Sign-in with Canvas did not finish</h1>
      <p>{EXPLANATIONS[loaderData.reason]}</p>
      <p>
        <a href="/auth/canvas">Try signing in with Canvas again</a>
      </p>
      <p>
        <Link to="/login">Sign in with your email instead</Link>
      </p>
    </div>
  );
}
