import type { Appointment } from '@medplum/fhirtypes';

import type { PatientSession } from '~/auth/session.server';
import { searchResources } from '~/clients/fhir.server';
import { getEnv } from '~/config/env.server';
import { readPractitionerNames } from '~/messages/practitioner-names.server';

import { hasPatient, joinUrlOf, practitionerOf } from './appointment-resource';
import { isWithinChangeCutoff } from './availability';
import { findBookingsOfPatient } from './booking-ledger.server';
import { loadSchedulingContext, type SchedulingContext } from './scheduling-context.server';
import { JOIN_OPENS_MINUTES_BEFORE, type PatientAppointment } from './slot';

const MINUTE_MS = 60_000;
/** Statuses of a visit that is still going to happen. */
const LIVE_STATUSES = new Set(['proposed', 'pending', 'booked', 'arrived', 'checked-in']);

export interface AppointmentList {
  timeZone: string;
  /** Soonest first. */
  upcoming: PatientAppointment[];
  /** Past and cancelled visits, newest first. */
  past: PatientAppointment[];
  practitioner: { id: string; name: string };
}

/**
 * Lists the patient's appointments from FHIR, split into upcoming and past. Upcoming visits
 * carry their Zoom join link and whether they can still be changed.
 */
export async function listAppointments(session: PatientSession): Promise<AppointmentList> {
  return listAppointmentsFor(await loadSchedulingContext(session));
}

/** Lists the appointments of a patient whose scheduling context is already loaded. */
export async function listAppointmentsFor(context: SchedulingContext): Promise<AppointmentList> {
  const { patientId } = context;
  const [appointments, bookings] = await Promise.all([
    searchResources('Appointment', { patient: `Patient/${patientId}`, _sort: 'date' }),
    findBookingsOfPatient(patientId),
  ]);
  const joinUrls = new Map(
    bookings.flatMap((booking) =>
      booking.appointmentId && booking.joinUrl ? [[booking.appointmentId, booking.joinUrl]] : [],
    ),
  );
  const own = appointments.filter(
    (appointment): appointment is Appointment & { id: string; start: string } =>
      appointment.id !== undefined &&
      appointment.start !== undefined &&
      hasPatient(appointment, patientId),
  );
  const names = await readPractitionerNames(
    own.map((appointment) => ({ reference: `Practitioner/${practitionerOf(appointment) ?? ''}` })),
  );

  const now = new Date();
  const described = own.map((appointment) =>
    describeAppointment(appointment, now, names, joinUrls.get(appointment.id)),
  );
  return {
    timeZone: context.timeZone,
    practitioner: context.practitioner,
    upcoming: described
      .filter((appointment) => appointment.state === 'upcoming')
      .sort((a, b) => Date.parse(a.start) - Date.parse(b.start)),
    past: described
      .filter((appointment) => appointment.state !== 'upcoming')
      .sort((a, b) => Date.parse(b.start) - Date.parse(a.start)),
  };
}

function describeAppointment(
  appointment: Appointment & { id: string; start: string },
  now: Date,
  names: Map<string, string>,
  ledgerJoinUrl: string | undefined,
): PatientAppointment {
  const start = new Date(appointment.start);
  const end = appointment.end
    ? new Date(appointment.end)
    : new Date(start.getTime() + (appointment.minutesDuration ?? 30) * MINUTE_MS);
  let state: PatientAppointment['state'] = 'past';
  if (appointment.status === 'cancelled') state = 'cancelled';
  else if (LIVE_STATUSES.has(appointment.status) && end > now) state = 'upcoming';
  const practitionerId = practitionerOf(appointment);

  return {
    id: appointment.id,
    start: start.toISOString(),
    end: end.toISOString(),
    state,
    status: appointment.status,
    description: appointment.description ?? 'Video visit',
    practitionerName: practitionerId ? names.get(practitionerId) : undefined,
    joinUrl: state === 'upcoming' ? (joinUrlOf(appointment) ?? ledgerJoinUrl) : undefined,
    joinOpensAt: new Date(start.getTime() - JOIN_OPENS_MINUTES_BEFORE * MINUTE_MS).toISOString(),
    canChange:
      state === 'upcoming' &&
      appointment.status === 'booked' &&
      !isWithinChangeCutoff(start, now, getEnv().scheduling.changeCutoffHours),
  };
}
