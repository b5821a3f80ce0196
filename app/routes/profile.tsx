import { data, Form, redirect } from 'react-router';

import { logoutHeaders, requirePatient, revokeAllSessions } from '~/auth/session.server';
import { UpstreamError } from '~/clients/upstream-error.server';
import { getPatientProfile, PatientNotFoundError } from '~/patients/profile.server';
import { formatFhirDate } from '~/utils/dates';
import { recordAuditEvent } from '~/security/audit.server';
import { getLogger } from '~/utils/logger.server';

import type { Route } from './+types/profile';

export const meta: Route.MetaFunction = () => [{ title: 'Your profile | Patient portal' }];

export async function loader({ request }: Route.LoaderArgs) {
  const session = await requirePatient(request);

  try {
    return { profile: await getPatientProfile(session) };
  } catch (error) {
    if (!(error instanceof UpstreamError) && !(error instanceof PatientNotFoundError)) throw error;
    getLogger().error(
      { patientId: session.patientId, err: { name: (error as Error).name } },
      'profile unavailable',
    );
    return { profile: null };
  }
}

/** "Sign out everywhere": revokes every session of the patient, this one included. */
export async function action({ request, context }: Route.ActionArgs) {
  if (request.method !== 'POST') throw data(null, { status: 405, headers: { allow: 'GET, POST' } });
  const session = await requirePatient(request);

  const ended = await revokeAllSessions(session.patientId);
  await recordAuditEvent({
    type: 'session.logout_everywhere',
    outcome: 'success',
    patientId: session.patientId,
    sessionId: session.sessionId,
    requestId: context.requestId,
    clientIp: context.clientIp,
    details: { sessionsEnded: ended },
  });
  return redirect('/login?signedOut=1', { status: 303, headers: logoutHeaders() });
}

export default function Profile({ loaderData }: Route.ComponentProps) {
  const { profile } = loaderData;
  if (!profile) {
    return (
      <>
        <h1>Your profile</h1>
        <p role="status" className="notice">
          Your details are unavailable right now. Please try again in a few minutes.
        </p>
        <SignOutEverywhere />
      </>
    );
  }

  const missing = 'Not on file';
  return (
    <>
      <h1>Your profile</h1>
      <p>These details come from your medical record. To change them, message your care team.</p>
      <dl className="details">
        <dt>Name</dt>
        <dd>{profile.name.full ?? missing}</dd>
        <dt>Date of birth</dt>
        <dd>{profile.birthDate ? formatFhirDate(profile.birthDate) : missing}</dd>
        <dt>Email</dt>
        <dd>{profile.email ?? missing}</dd>
        <dt>Phone</dt>
        <dd>{profile.phone ?? missing}</dd>
        <dt>Address</dt>
        <dd>
          {profile.address.length > 0
            ? profile.address.map((line) => (
                <span key={line} className="address-line">
                  {line}
                </span>
              ))
            : missing}
        </dd>
        <dt>Practitioner</dt>
        <dd>
          {profile.practitioner?.name ?? missing}
          {profile.practitioner?.npi ? ` (NPI ${profile.practitioner.npi})` : ''}
        </dd>
      </dl>
      <SignOutEverywhere />
    </>
  );
}

function SignOutEverywhere() {
  return (
    <section aria-labelledby="devices-heading">
      <h2 id="devices-heading">Your devices</h2>
      <p>If you signed in on a device you no longer use, sign out on all of them at once.</p>
      <Form method="post">
        <button type="submit">Sign out everywhere</button>
      </Form>
    </section>
  );
}
