import { data, Form, Link, redirect, useNavigation } from 'react-router';

import { requirePatientKeepingInput, takeKeptInput } from '~/auth/kept-form-input.server';
import { requirePatient } from '~/auth/session.server';
import { readFormFields, validate } from '~/http/api.server';
import { parseIdempotencyKey } from '~/http/idempotency.server';
import { failureHeaders, forwardRetryAfter } from '~/http/request-failure.server';
import { listAppointmentsFor } from '~/scheduling/appointments.server';
import { findFirstOpenDate, findOpenSlots } from '~/scheduling/availability.server';
import { bookAppointment } from '~/scheduling/book-appointment.server';
import { loadSchedulingContext } from '~/scheduling/scheduling-context.server';
import { revalidateUnlessChangeFailed } from '~/scheduling/revalidation';
import { describeSchedulingFailure } from '~/scheduling/scheduling-errors.server';
import { choiceToKeep, schedulingPageDays } from '~/scheduling/scheduling-page.server';
import {
  AppointmentCard,
  DatePicker,
  FailureNotice,
  SlotFields,
  SlotList,
  slotFromSearchParams,
} from '~/scheduling/scheduling-views';
import type { OpenSlot, PatientAppointment } from '~/scheduling/slot';
import { formatVisitDateTime } from '~/scheduling/slot-format';
import {
  SLOT_FORM_FIELDS,
  slotFromFormFields,
  slotInputSchema,
  slotToConfirm,
} from '~/scheduling/slot-input.server';
import { enforceWriteLimit } from '~/security/write-limits.server';

import type { Route } from './+types/scheduling';

export const meta: Route.MetaFunction = () => [{ title: 'Video visits | Patient portal' }];

export const headers: Route.HeadersFunction = forwardRetryAfter;

/** Notices shown after a change redirects back here. */
const DONE_MESSAGES = {
  booked: 'Your video visit is booked. We emailed you a confirmation with a calendar file.',
  rescheduled: 'Your video visit has moved. We emailed you the new time.',
  cancelled: 'Your video visit is cancelled. We emailed you a confirmation.',
} as const;

export async function loader({ request }: Route.LoaderArgs) {
  const session = await requirePatient(request);
  const url = new URL(request.url);
  const idempotencyKey = crypto.randomUUID();
  const done = (['booked', 'rescheduled', 'cancelled'] as const).find((change) =>
    url.searchParams.has(change),
  );

  try {
    const context = await loadSchedulingContext(session);
    const requestedDate =
      url.searchParams.get('date') ?? (await findFirstOpenDate(context)) ?? null;
    const days = schedulingPageDays(context.timeZone, requestedDate);
    const [appointments, availability] = await Promise.all([
      listAppointmentsFor(context),
      findOpenSlots(context, days.selected),
    ]);
    // A slot posted after the session ended comes back from the cookie, checked like one from
    // the address.
    const keptInput = await takeKeptInput(request, session);
    const keptSlot = keptInput.fields
      ? slotToConfirm(slotFromFormFields(keptInput.fields), context)
      : null;
    return data(
      {
        appointments,
        availability,
        days,
        chosenSlot: keptSlot ?? slotToConfirm(slotFromSearchParams(url.searchParams), context),
        slotRestored: keptSlot !== null,
        idempotencyKey,
        done: done ?? null,
        now: new Date().toISOString(),
        unavailable: null,
      },
      { headers: keptInput.headers },
    );
  } catch (error) {
    const failure = describeSchedulingFailure(error, session.patientId, 'scheduling page');
    return data(
      {
        appointments: null,
        availability: null,
        days: null,
        chosenSlot: null,
        slotRestored: false,
        idempotencyKey,
        done: null,
        now: new Date().toISOString(),
        unavailable: failure.message,
      },
      { status: failure.status },
    );
  }
}

export async function action({ request }: Route.ActionArgs) {
  const session = await requirePatientKeepingInput(request, SLOT_FORM_FIELDS);

  const fields = await readFormFields(request);
  const submitted = slotFromFormFields(fields);
  const idempotencyKey = fields.idempotencyKey ?? '';

  try {
    const key = parseIdempotencyKey(idempotencyKey);
    const slot = validate(slotInputSchema, submitted);
    await enforceWriteLimit(session, 'booking');

    const { visit } = await bookAppointment(session, slot, key);

    return redirect(`/scheduling?booked=${encodeURIComponent(visit.appointmentId)}`, 303);
  } catch (error) {
    const failure = describeSchedulingFailure(error, session.patientId, 'book');
    const slot = await choiceToKeep(session, submitted, failure.code);
    return data(
      { failure, slot, idempotencyKey },
      { status: failure.status, headers: failureHeaders(failure) },
    );
  }
}

export const shouldRevalidate = revalidateUnlessChangeFailed;

export default function Scheduling({ loaderData, actionData }: Route.ComponentProps) {
  const { appointments, availability, days, chosenSlot, slotRestored, idempotencyKey, done, now } =
    loaderData;

  if (!appointments || !availability || !days) {
    // A booking that failed keeps its confirm form even when the page's lists could not load.
    const keptSlot = actionData?.slot ?? undefined;
    return (
      <>
        <h1>Video visits</h1>
        {actionData?.failure.message !== loaderData.unavailable ? (
          <FailureNotice message={actionData?.failure.message} />
        ) : null}
        <p role="status" className="notice">
          {loaderData.unavailable}
        </p>
        {keptSlot ? (
          <ConfirmBooking
            slot={keptSlot}
            idempotencyKey={actionData?.idempotencyKey || idempotencyKey}
          />
        ) : null}
      </>
    );
  }

  // A failed booking keeps the choice and its key, unless the time is gone.
  const keptChoice = actionData?.slot ?? undefined;
  const confirmSlot = keptChoice ?? (actionData ? undefined : chosenSlot);

  return (
    <>
      <h1>Video visits</h1>
      {done ? (
        <p role="status" className="notice">
          {DONE_MESSAGES[done]}
        </p>
      ) : null}
      <FailureNotice message={actionData?.failure.message} />

      <section aria-labelledby="upcoming-heading">
        <h2 id="upcoming-heading">Your upcoming visits</h2>
        {appointments.upcoming.length === 0 ? (
          <p>You have no upcoming visits.</p>
        ) : (
          <AppointmentCards
            appointments={appointments.upcoming}
            timeZone={appointments.timeZone}
            now={now}
          />
        )}
      </section>

      <section aria-labelledby="book-heading">
        <h2 id="book-heading">Book a video visit</h2>
        {slotRestored && !actionData ? (
          <p role="status" className="notice">
            We kept the visit time you chose. Review it and book it again.
          </p>
        ) : null}
        {confirmSlot ? (
          <ConfirmBooking
            slot={confirmSlot}
            idempotencyKey={actionData?.idempotencyKey || idempotencyKey}
          />
        ) : (
          <>
            <DatePicker
              basePath="/scheduling"
              selected={days.selected}
              days={days.links}
              minDate={days.min}
              maxDate={days.max}
            />
            <SlotList availability={availability} basePath="/scheduling" />
          </>
        )}
      </section>

      {appointments.past.length > 0 ? (
        <section aria-labelledby="past-heading">
          <h2 id="past-heading">Past and cancelled visits</h2>
          <AppointmentCards
            appointments={appointments.past}
            timeZone={appointments.timeZone}
            now={now}
          />
        </section>
      ) : null}
    </>
  );
}

function AppointmentCards({
  appointments,
  timeZone,
  now,
}: {
  appointments: PatientAppointment[];
  timeZone: string;
  now: string;
}) {
  return (
    <ul className="plain-list">
      {appointments.map((appointment) => (
        <li key={appointment.id}>
          <AppointmentCard appointment={appointment} timeZone={timeZone} now={now} />
        </li>
      ))}
    </ul>
  );
}

function ConfirmBooking({ slot, idempotencyKey }: { slot: OpenSlot; idempotencyKey: string }) {
  const navigation = useNavigation();
  const submitting = navigation.state === 'submitting';
  return (
    <div className="confirm">
      <h3>Confirm your visit</h3>
      <p>
        Video visit with {slot.practitioner.name} on{' '}
        <strong>{formatVisitDateTime(slot.start, slot.timeZone)}</strong>.
      </p>
      <Form method="post" action={`/scheduling?date=${slot.start.slice(0, 10)}`}>
        <SlotFields slot={slot} idempotencyKey={idempotencyKey} />
        <button type="submit" disabled={submitting}>
          {submitting ? 'Booking…' : 'Book this visit'}
        </button>{' '}
        <Link to={`/scheduling?date=${slot.start.slice(0, 10)}`}>Choose another time</Link>
      </Form>
    </div>
  );
}
