import { data, Form, Link, redirect, useNavigation } from 'react-router';

import { requirePatientKeepingInput, takeKeptInput } from '~/auth/kept-form-input.server';
import { requirePatient } from '~/auth/session.server';
import { readFormFields, validate } from '~/http/api.server';
import { parseIdempotencyKey } from '~/http/idempotency.server';
import { failureHeaders, forwardRetryAfter } from '~/http/request-failure.server';
import { findOpenSlots } from '~/scheduling/availability.server';
import {
  ownAppointmentFirst,
  readChangeableVisit,
  rescheduleVisit,
} from '~/scheduling/change-appointment.server';
import { loadSchedulingContext } from '~/scheduling/scheduling-context.server';
import { revalidateUnlessChangeFailed } from '~/scheduling/revalidation';
import { describeSchedulingFailure } from '~/scheduling/scheduling-errors.server';
import { choiceToKeep, schedulingPageDays } from '~/scheduling/scheduling-page.server';
import {
  DatePicker,
  FailureNotice,
  SlotFields,
  SlotList,
  slotFromSearchParams,
} from '~/scheduling/scheduling-views';
import type { OpenSlot } from '~/scheduling/slot';
import { formatVisitDateTime } from '~/scheduling/slot-format';
import {
  SLOT_FORM_FIELDS,
  slotFromFormFields,
  slotInputSchema,
  slotToConfirm,
} from '~/scheduling/slot-input.server';
import { localDateOf } from '~/scheduling/zoned-time';
import { enforceWriteLimit } from '~/security/write-limits.server';

import type { Route } from './+types/scheduling.reschedule';

export const meta: Route.MetaFunction = () => [{ title: 'Reschedule your visit | Patient portal' }];

export const headers: Route.HeadersFunction = forwardRetryAfter;

export async function loader({ request, params }: Route.LoaderArgs) {
  const session = await requirePatient(request);
  const url = new URL(request.url);

  try {
    const [visit, context] = await ownAppointmentFirst(
      readChangeableVisit(session.patientId, params.appointmentId),
      loadSchedulingContext(session),
    );
    const days = schedulingPageDays(
      context.timeZone,
      url.searchParams.get('date') ?? localDateOf(visit.start, context.timeZone),
    );
    const availability = await findOpenSlots(context, days.selected, {
      ignoreAppointmentId: visit.id,
    });
    const keptInput = await takeKeptInput(request, session);
    const keptSlot = keptInput.fields
      ? slotToConfirm(slotFromFormFields(keptInput.fields), context)
      : null;
    return data(
      {
        visit,
        timeZone: context.timeZone,
        availability,
        days,
        chosenSlot: keptSlot ?? slotToConfirm(slotFromSearchParams(url.searchParams), context),
        slotRestored: keptSlot !== null,
        idempotencyKey: crypto.randomUUID(),
      },
      { headers: keptInput.headers },
    );
  } catch (error) {
    const failure = describeSchedulingFailure(error, session.patientId, 'reschedule page');
    throw data({ message: failure.message }, { status: failure.status });
  }
}

export async function action({ request, params }: Route.ActionArgs) {
  const session = await requirePatientKeepingInput(request, SLOT_FORM_FIELDS);

  const fields = await readFormFields(request);
  const submitted = slotFromFormFields(fields);
  const idempotencyKey = fields.idempotencyKey ?? '';

  try {
    const key = parseIdempotencyKey(idempotencyKey);
    const slot = validate(slotInputSchema, submitted);
    await enforceWriteLimit(session, 'booking');

    await rescheduleVisit(session, params.appointmentId, slot, key);

    return redirect(`/scheduling?rescheduled=${encodeURIComponent(params.appointmentId)}`, 303);
  } catch (error) {
    const failure = describeSchedulingFailure(error, session.patientId, 'reschedule');
    const slot = await choiceToKeep(session, submitted, failure.code);
    return data(
      { failure, slot, idempotencyKey },
      { status: failure.status, headers: failureHeaders(failure) },
    );
  }
}

export const shouldRevalidate = revalidateUnlessChangeFailed;

export default function Reschedule({ loaderData, actionData, params }: Route.ComponentProps) {
  const { visit, timeZone, availability, days, chosenSlot, slotRestored, idempotencyKey } =
    loaderData;
  const basePath = `/scheduling/appointments/${params.appointmentId}/reschedule`;
  const keptChoice = actionData?.slot ?? undefined;
  const confirmSlot = keptChoice ?? (actionData ? undefined : chosenSlot);

  return (
    <>
      <h1>Reschedule your visit</h1>
      <p>
        Your visit with {visit.practitionerName ?? 'your clinician'} is now on{' '}
        <strong>{formatVisitDateTime(visit.start, timeZone)}</strong>. Choose a new time.
      </p>
      <FailureNotice message={actionData?.failure.message} />
      {slotRestored && !actionData ? (
        <p role="status" className="notice">
          We kept the new time you chose. Review it and move your visit again.
        </p>
      ) : null}
      {confirmSlot ? (
        <ConfirmReschedule
          slot={confirmSlot}
          basePath={basePath}
          idempotencyKey={actionData?.idempotencyKey || idempotencyKey}
        />
      ) : (
        <>
          <DatePicker
            basePath={basePath}
            selected={days.selected}
            days={days.links}
            minDate={days.min}
            maxDate={days.max}
          />
          <SlotList availability={availability} basePath={basePath} />
        </>
      )}
      <p>
        <Link to="/scheduling">Keep the current time</Link>
      </p>
    </>
  );
}

function ConfirmReschedule({
  slot,
  basePath,
  idempotencyKey,
}: {
  slot: OpenSlot;
  basePath: string;
  idempotencyKey: string;
}) {
  const navigation = useNavigation();
  const submitting = navigation.state === 'submitting';
  return (
    <div className="confirm">
      <h2>Confirm the new time</h2>
      <p>
        Move your visit to <strong>{formatVisitDateTime(slot.start, slot.timeZone)}</strong>.
      </p>
      <Form method="post" action={`${basePath}?date=${slot.start.slice(0, 10)}`}>
        <SlotFields slot={slot} idempotencyKey={idempotencyKey} />
        <button type="submit" disabled={submitting}>
          {submitting ? 'Moving…' : 'Move my visit'}
        </button>{' '}
        <Link to={`${basePath}?date=${slot.start.slice(0, 10)}`}>Choose another time</Link>
      </Form>
    </div>
  );
}
