import {
  data,
  Form,
  Link,
  redirect,
  useNavigation,
  type ShouldRevalidateFunctionArgs,
} from 'react-router';

import { requirePatientKeepingInput, takeKeptInput } from '~/auth/kept-form-input.server';
import { requirePatient } from '~/auth/session.server';
import { readFormFields, validate } from '~/http/api.server';
import { parseIdempotencyKey } from '~/http/idempotency.server';
import { failureHeaders, forwardRetryAfter } from '~/http/request-failure.server';
import {
  cancelVisit,
  ownAppointmentFirst,
  readChangeableVisit,
} from '~/scheduling/change-appointment.server';
import { loadSchedulingContext } from '~/scheduling/scheduling-context.server';
import { describeSchedulingFailure } from '~/scheduling/scheduling-errors.server';
import { FailureNotice } from '~/scheduling/scheduling-views';
import { formatVisitDateTime } from '~/scheduling/slot-format';
import { cancelInputSchema } from '~/scheduling/slot-input.server';
import { enforceWriteLimit } from '~/security/write-limits.server';

import type { Route } from './+types/scheduling.cancel';

export const meta: Route.MetaFunction = () => [{ title: 'Cancel your visit | Patient portal' }];

export const headers: Route.HeadersFunction = forwardRetryAfter;

export async function loader({ request, params }: Route.LoaderArgs) {
  const session = await requirePatient(request);

  try {
    const [visit, context] = await ownAppointmentFirst(
      readChangeableVisit(session.patientId, params.appointmentId),
      loadSchedulingContext(session),
    );
    const keptInput = await takeKeptInput(request, session);
    return data(
      {
        visit,
        timeZone: context.timeZone,
        idempotencyKey: crypto.randomUUID(),
        keptReason: keptInput.fields?.reason ?? null,
      },
      { headers: keptInput.headers },
    );
  } catch (error) {
    const failure = describeSchedulingFailure(error, session.patientId, 'cancel page');
    throw data({ message: failure.message }, { status: failure.status });
  }
}

export async function action({ request, params }: Route.ActionArgs) {
  const session = await requirePatientKeepingInput(request, ['reason']);

  const fields = await readFormFields(request);
  const idempotencyKey = fields.idempotencyKey ?? '';

  try {
    const key = parseIdempotencyKey(idempotencyKey);
    const { reason } = validate(cancelInputSchema, { reason: fields.reason });
    await enforceWriteLimit(session, 'booking');

    await cancelVisit(session, params.appointmentId, reason, key);

    return redirect(`/scheduling?cancelled=${encodeURIComponent(params.appointmentId)}`, 303);
  } catch (error) {
    const failure = describeSchedulingFailure(error, session.patientId, 'cancel');
    return data(
      { failure, reason: fields.reason ?? '', idempotencyKey },
      { status: failure.status, headers: failureHeaders(failure) },
    );
  }
}

export function shouldRevalidate({
  actionStatus,
  defaultShouldRevalidate,
}: ShouldRevalidateFunctionArgs) {
  if (actionStatus !== undefined && actionStatus >= 400) return false;
  return defaultShouldRevalidate;
}

export default function CancelVisit({ loaderData, actionData }: Route.ComponentProps) {
  const { visit, timeZone, idempotencyKey, keptReason } = loaderData;
  const navigation = useNavigation();
  const submitting = navigation.state === 'submitting';
  const reasonError = actionData?.failure.fields?.reason;

  return (
    <>
      <h1>Cancel your visit</h1>
      <p>
        Your video visit with {visit.practitionerName ?? 'your clinician'} on{' '}
        <strong>{formatVisitDateTime(visit.start, timeZone)}</strong> will be cancelled, and its
        video link will stop working.
      </p>
      <FailureNotice message={reasonError ? undefined : actionData?.failure.message} />
      {keptReason !== null && !actionData ? (
        <p role="status" className="notice">
          We kept the reason you typed. Review it and cancel the visit again.
        </p>
      ) : null}
      <Form method="post">
        <input
          type="hidden"
          name="idempotencyKey"
          value={actionData?.idempotencyKey || idempotencyKey}
        />
        <div className="field">
          <label htmlFor="cancel-reason">Reason (optional)</label>
          <textarea
            id="cancel-reason"
            name="reason"
            rows={3}
            maxLength={500}
            defaultValue={actionData?.reason ?? keptReason ?? ''}
            aria-invalid={reasonError ? true : undefined}
            aria-describedby={reasonError ? 'cancel-reason-error' : undefined}
          />
          {reasonError ? (
            <p id="cancel-reason-error" className="field-error">
              {reasonError}
            </p>
          ) : null}
        </div>
        <button type="submit" disabled={submitting}>
          {submitting ? 'Cancelling…' : 'Cancel this visit'}
        </button>{' '}
        <Link to="/scheduling">Keep my visit</Link>
      </Form>
    </>
  );
}
