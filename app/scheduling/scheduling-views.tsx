import { useEffect, useState } from 'react';
import { Form, Link } from 'react-router';

import type { Availability, OpenSlot, PatientAppointment } from './slot';
import { formatDateHeading, formatSlotTime, formatVisitDateTime } from './slot-format';

/** Days offered as links by the date picker, starting today. */
export const DATE_LINK_COUNT = 14;

/**
 * Date picker that works without JavaScript: a link per day for the next two weeks, and a GET
 * form for any other date.
 */
export function DatePicker({
  basePath,
  selected,
  days,
  minDate,
  maxDate,
}: {
  basePath: string;
  selected: string;
  /** `YYYY-MM-DD` dates to offer as links. */
  days: string[];
  minDate: string;
  maxDate: string;
}) {
  return (
    <div className="date-picker">
      <nav aria-label="Choose a day">
        <ul className="day-links">
          {days.map((day) => (
            <li key={day}>
              <Link
                to={`${basePath}?date=${day}`}
                aria-current={day === selected ? 'date' : undefined}
                preventScrollReset
              >
                {formatDateHeading(day)}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <Form method="get" action={basePath} className="inline-form">
        <label htmlFor="visit-date">Another date</label>
        <input
          id="visit-date"
          type="date"
          name="date"
          defaultValue={selected}
          min={minDate}
          max={maxDate}
          required
        />
        <button type="submit">Show times</button>
      </Form>
    </div>
  );
}

/** Lists the open slots of one day, each linking to the confirm step of `basePath`. */
export function SlotList({
  availability,
  basePath,
}: {
  availability: Availability;
  basePath: string;
}) {
  const { slots, timeZone, date } = availability;
  return (
    <section aria-labelledby="slots-heading">
      <h2 id="slots-heading">Open times on {formatDateHeading(date)}</h2>
      <p className="muted">
        Times are in {timeZone.replace(/_/g, ' ')} time. Visits are with{' '}
        {availability.practitioner.name}.
      </p>
      {slots.length === 0 ? (
        <p>No open times on this day. Please choose another day.</p>
      ) : (
        <ul className="slot-list">
          {slots.map((slot) => (
            <li key={`${slot.slotId}-${slot.start}`}>
              <Link to={`${basePath}?${slotSearchParams(slot).toString()}`}>
                {formatSlotTime(slot.start, timeZone)}
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Query parameters that carry a chosen slot to the confirm step, and back into its form. */
export function slotSearchParams(slot: OpenSlot): URLSearchParams {
  return new URLSearchParams({
    date: slot.start.slice(0, 10),
    slotId: slot.slotId,
    start: slot.start,
    end: slot.end,
    timeZone: slot.timeZone,
    practitionerId: slot.practitioner.id,
    practitionerName: slot.practitioner.name,
  });
}

/** Reads a chosen slot back from query parameters; undefined when none was chosen. */
export function slotFromSearchParams(params: URLSearchParams): OpenSlot | undefined {
  const slotId = params.get('slotId');
  const start = params.get('start');
  const end = params.get('end');
  const timeZone = params.get('timeZone');
  const practitionerId = params.get('practitionerId');
  if (!slotId || !start || !end || !timeZone || !practitionerId) return undefined;
  return {
    slotId,
    start,
    end,
    timeZone,
    practitioner: { id: practitionerId, name: params.get('practitionerName') ?? '' },
  };
}

/** Hidden fields that post the chosen slot exactly as the availability list gave it. */
export function SlotFields({ slot, idempotencyKey }: { slot: OpenSlot; idempotencyKey: string }) {
  return (
    <>
      <input type="hidden" name="slotId" value={slot.slotId} />
      <input type="hidden" name="start" value={slot.start} />
      <input type="hidden" name="end" value={slot.end} />
      <input type="hidden" name="timeZone" value={slot.timeZone} />
      <input type="hidden" name="practitionerId" value={slot.practitioner.id} />
      <input type="hidden" name="practitionerName" value={slot.practitioner.name} />
      <input type="hidden" name="idempotencyKey" value={idempotencyKey} />
    </>
  );
}

/** Shows a failure message at the top of the form and announces it when it appears. */
export function FailureNotice({ message }: { message: string | undefined }) {
  if (!message) return null;
  return (
    <div className="error-summary" role="alert" tabIndex={-1}>
      <p>{message}</p>
    </div>
  );
}

/** Shows one appointment with its time, practitioner, join link and change links. */
export function AppointmentCard({
  appointment,
  timeZone,
  now,
}: {
  appointment: PatientAppointment;
  timeZone: string;
  /** The server's time when it rendered the page, as an ISO instant. */
  now: string;
}) {
  const headingId = `appointment-${appointment.id}`;
  return (
    <article aria-labelledby={headingId}>
      <h3 id={headingId}>{formatVisitDateTime(appointment.start, timeZone)}</h3>
      <p>
        {appointment.description}
        {appointment.practitionerName ? ` with ${appointment.practitionerName}` : ''}
        {appointment.state === 'cancelled' ? ' (cancelled)' : ''}
      </p>
      {appointment.state === 'upcoming' ? (
        <JoinLink appointment={appointment} timeZone={timeZone} now={now} />
      ) : null}
      {appointment.canChange ? (
        <p className="actions">
          <Link to={`/scheduling/appointments/${appointment.id}/reschedule`}>
            Reschedule<span className="visually-hidden"> this visit</span>
          </Link>{' '}
          <Link to={`/scheduling/appointments/${appointment.id}/cancel`}>
            Cancel<span className="visually-hidden"> this visit</span>
          </Link>
        </p>
      ) : null}
    </article>
  );
}

/**
 * Shows the join link, active from 15 minutes before the start. The server's render decides the
 * first state, and with JavaScript a timer opens the link while the page stays open.
 */
export function JoinLink({
  appointment,
  timeZone,
  now,
}: {
  appointment: Pick<PatientAppointment, 'joinUrl' | 'joinOpensAt'>;
  timeZone: string;
  /** The server's time when it rendered the page, so the browser's first render matches. */
  now: string;
}) {
  const opensAt = Date.parse(appointment.joinOpensAt);
  const [open, setOpen] = useState(() => Date.parse(now) >= opensAt);

  useEffect(() => {
    if (open) return;
    const timer = setTimeout(() => setOpen(true), Math.max(0, opensAt - Date.now()));
    return () => clearTimeout(timer);
  }, [open, opensAt]);

  if (!appointment.joinUrl) {
    return <p className="muted">The video link will be added before your visit.</p>;
  }
  if (!open) {
    return (
      <p className="muted">
        The join link opens at {formatSlotTime(appointment.joinOpensAt, timeZone)}, 15 minutes
        before the start.
      </p>
    );
  }
  return (
    <p>
      <a className="button-link" href={appointment.joinUrl} rel="noopener noreferrer">
        Join the video visit
      </a>
    </p>
  );
}
