import type { Appointment } from '@medplum/fhirtypes';

import type { PatientSession } from '~/auth/session.server';
import { readResource, updateResource } from '~/clients/fhir.server';
import {
  createZoomMeeting,
  deleteZoomMeeting,
  updateZoomMeeting,
  type ZoomMeeting,
} from '~/clients/zoom.server';
import { getEnv } from '~/config/env.server';
import {
  mayHaveReachedUpstream,
  mayStillBeRunning,
  runIdempotent,
  waitForLostWriteToSettle,
} from '~/http/idempotency.server';
import { readPractitionerNames } from '~/messages/practitioner-names.server';
import { getLogger } from '~/utils/logger.server';

import {
  cancelAppointment,
  hasPatient,
  joinUrlOf,
  practitionerOf,
  rescheduleAppointment,
} from './appointment-resource';
import { isWithinChangeCutoff } from './availability';
import { verifySlot, type BookedVisit } from './book-appointment.server';
import {
  findBookingByAppointment,
  holdTime,
  markCancelled,
  markMeetingDeleted,
  moveBooking,
  restoreBookingTime,
  setMeeting,
  type Booking,
} from './booking-ledger.server';
import { confirmVisitChange } from './confirmation.server';
import { loadSchedulingContext, type SchedulingContext } from './scheduling-context.server';
import type { SlotInput } from './slot-input.server';

const MINUTE_MS = 60_000;

/** No appointment with this id belongs to the patient; the same for one that does not exist. */
export class AppointmentNotFoundError extends Error {
  override name = 'AppointmentNotFoundError';
}

/** The appointment is past, cancelled, or starts within the change cutoff. */
export class AppointmentLockedError extends Error {
  override name = 'AppointmentLockedError';
}

/**
 * Moves one of the patient's future visits to another open slot of the same practitioner, at
 * most once per idempotency key. The ledger changes first, so the new time is reserved, then
 * Zoom, then the FHIR Appointment. A failed step undoes the earlier ones. The calendar file keeps its
 * UID and raises SEQUENCE.
 */
export async function rescheduleVisit(
  session: PatientSession,
  appointmentId: string,
  slot: SlotInput,
  idempotencyKey: string | undefined,
): Promise<{ visit: BookedVisit; replayed: boolean }> {
  const { result, replayed } = await runIdempotent({
    patientId: session.patientId,
    operation: `reschedule-appointment:${appointmentId}`,
    key: idempotencyKey,
    request: { slotId: slot.slotId, start: slot.start, end: slot.end },
    perform: async () => {
      const [appointment, context] = await ownAppointmentFirst(
        readChangeableAppointment(session.patientId, appointmentId),
        loadSchedulingContext(session),
      );
      return reschedule(context, appointment, slot);
    },
  });
  return { visit: result, replayed };
}

async function reschedule(
  context: SchedulingContext,
  appointment: Appointment & { id: string },
  input: SlotInput,
): Promise<BookedVisit> {
  const booking = await adoptBooking(context, appointment);
  const slot = await verifySlot(context, input, {
    ignoreAppointmentId: appointment.id,
    ignoreBookingId: booking.id,
  });
  const previous = await moveBooking(booking.id, slot.slotId, slot.start, slot.end);
  const time = {
    start: slot.start,
    durationMinutes: Math.round((slot.end.getTime() - slot.start.getTime()) / MINUTE_MS),
    timeZone: context.timeZone,
  };

  let createdMeeting: ZoomMeeting | undefined;
  try {
    if (previous.zoomMeetingId) {
      await updateZoomMeeting(previous.zoomMeetingId, time);
    } else {
      createdMeeting = await createZoomMeeting(
        `Video visit with ${context.practitioner.name}`,
        time,
      );
    }
  } catch (error) {
    await restoreBookingTime(previous);
    throw error;
  }

  const joinUrl = createdMeeting?.joinUrl ?? previous.joinUrl ?? joinUrlOf(appointment);
  try {
    await updateResource(
      rescheduleAppointment(appointment, {
        slotId: slot.slotId,
        start: slot.start,
        end: slot.end,
        joinUrl,
      }),
    );
  } catch (error) {
    const stored = mayHaveReachedUpstream(error)
      ? await appointmentMovedAnyway(appointment.id, slot.start, mayStillBeRunning(error))
      : false;
    if (!stored) {
      await undoMeetingChange(context, previous, createdMeeting);
      await restoreBookingTime(previous);
      throw error;
    }
  }
  if (createdMeeting) await setMeeting(booking.id, createdMeeting);

  getLogger().info(
    { patientId: context.patientId, appointmentId: appointment.id, bookingId: booking.id },
    'appointment rescheduled',
  );
  await confirmVisitChange(context, {
    change: 'rescheduled',
    appointmentId: appointment.id,
    start: slot.start,
    end: slot.end,
    sequence: previous.calendarSequence + 1,
    joinUrl,
  });
  return {
    appointmentId: appointment.id,
    start: slot.start.toISOString(),
    end: slot.end.toISOString(),
    joinUrl: joinUrl ?? '',
  };
}

/**
 * After a lost response to the Appointment update, waits for the write to settle and reads the
 * Appointment back: true when it already has the new start, so the reschedule happened.
 */
async function appointmentMovedAnyway(
  appointmentId: string,
  start: Date,
  stillRunning: boolean,
): Promise<boolean> {
  if (stillRunning) await waitForLostWriteToSettle();
  const current = await readResource('Appointment', appointmentId).catch(() => undefined);
  return Date.parse(current?.start ?? '') === start.getTime();
}

async function undoMeetingChange(
  context: SchedulingContext,
  previous: Booking,
  createdMeeting: ZoomMeeting | undefined,
): Promise<void> {
  try {
    if (createdMeeting) {
      await deleteZoomMeeting(createdMeeting.id);
    } else if (previous.zoomMeetingId) {
      await updateZoomMeeting(previous.zoomMeetingId, {
        start: previous.start,
        durationMinutes: Math.round(
          (previous.end.getTime() - previous.start.getTime()) / MINUTE_MS,
        ),
        timeZone: context.timeZone,
      });
    }
  } catch (error) {
    // NOTE: when this undo fails, the Zoom meeting keeps the new time while FHIR keeps the old
    // one. The log names the meeting so that someone can fix it by hand.
    getLogger().error(
      {
        patientId: context.patientId,
        bookingId: previous.id,
        zoomMeetingId: createdMeeting?.id ?? previous.zoomMeetingId,
        err: { name: (error as Error).name, message: (error as Error).message },
      },
      'Zoom change of a failed reschedule could not be undone',
    );
  }
}

/**
 * Cancels one of the patient's future visits: the FHIR Appointment becomes `cancelled` with the
 * reason, then the Zoom meeting is deleted. A retry of a cancel whose meeting delete failed
 * deletes it then. The calendar file uses METHOD:CANCEL.
 */
export async function cancelVisit(
  session: PatientSession,
  appointmentId: string,
  reason: string | undefined,
  idempotencyKey: string | undefined,
): Promise<{ replayed: boolean }> {
  const { replayed } = await runIdempotent({
    patientId: session.patientId,
    operation: `cancel-appointment:${appointmentId}`,
    key: idempotencyKey,
    request: { reason: reason ?? null },
    perform: async () => {
      const [appointment, context] = await ownAppointmentFirst(
        readOwnAppointment(session.patientId, appointmentId),
        loadSchedulingContext(session),
      );
      const booking = await findBookingByAppointment(appointment.id);
      if (appointment.status === 'cancelled') {
        if (booking) await finishCancel(context, booking);
        return { appointmentId: appointment.id };
      }
      assertChangeable(appointment);

      const adopted = booking ?? (await adoptBooking(context, appointment));
      await updateResource(
        cancelAppointment(appointment, reason ?? 'Cancelled by the patient in the portal'),
      );
      const cancelled = await markCancelled(adopted.id);
      await finishCancel(context, cancelled);

      getLogger().info(
        { patientId: context.patientId, appointmentId: appointment.id, bookingId: adopted.id },
        'appointment cancelled',
      );
      await confirmVisitChange(context, {
        change: 'cancelled',
        appointmentId: appointment.id,
        start: cancelled.start,
        end: cancelled.end,
        sequence: cancelled.calendarSequence,
        joinUrl: undefined,
      });
      return { appointmentId: appointment.id };
    },
  });
  return { replayed };
}

/** Deletes the Zoom meeting of a cancelled booking, once. */
async function finishCancel(context: SchedulingContext, booking: Booking): Promise<void> {
  if (booking.status !== 'cancelled') await markCancelled(booking.id);
  if (!booking.zoomMeetingId || booking.zoomDeletedAt) return;

  try {
    await deleteZoomMeeting(booking.zoomMeetingId);
    await markMeetingDeleted(booking.id);
  } catch (error) {
    // The visit is cancelled either way; a retry of the cancel deletes the meeting.
    getLogger().error(
      {
        patientId: context.patientId,
        bookingId: booking.id,
        zoomMeetingId: booking.zoomMeetingId,
        err: { name: (error as Error).name, message: (error as Error).message },
      },
      'Zoom meeting of a cancelled visit could not be deleted',
    );
  }
}

/**
 * Returns the ledger row of an appointment, creating one for a visit booked outside the portal
 * (for example by the care team in Canvas), so that every change goes through the ledger.
 */
async function adoptBooking(
  context: SchedulingContext,
  appointment: Appointment & { id: string },
): Promise<Booking> {
  const existing = await findBookingByAppointment(appointment.id);
  if (existing) return existing;

  const start = new Date(appointment.start ?? '');
  const end = appointment.end
    ? new Date(appointment.end)
    : new Date(start.getTime() + (appointment.minutesDuration ?? 0) * MINUTE_MS);
  return holdTime({
    patientId: context.patientId,
    practitionerId: practitionerOf(appointment) ?? context.practitioner.id,
    slotId: null,
    start,
    end,
    status: 'booked',
    appointmentId: appointment.id,
  });
}

/** A visit that the patient may still move or cancel, as the change pages show it. */
export interface ChangeableVisit {
  id: string;
  start: string;
  end: string;
  practitionerName: string | undefined;
}

/**
 * Reads one of the patient's visits for the reschedule and cancel pages. Throws
 * AppointmentNotFoundError for another patient's id and AppointmentLockedError past the cutoff.
 */
export async function readChangeableVisit(
  patientId: string,
  appointmentId: string,
): Promise<ChangeableVisit> {
  const appointment = await readChangeableAppointment(patientId, appointmentId);
  const practitionerId = practitionerOf(appointment);
  const names = await readPractitionerNames(
    practitionerId ? [{ reference: `Practitioner/${practitionerId}` }] : [],
  );
  const start = new Date(appointment.start ?? '');
  const end = appointment.end
    ? new Date(appointment.end)
    : new Date(start.getTime() + (appointment.minutesDuration ?? 0) * MINUTE_MS);
  return {
    id: appointment.id,
    start: start.toISOString(),
    end: end.toISOString(),
    practitionerName: practitionerId ? names.get(practitionerId) : undefined,
  };
}

async function readChangeableAppointment(
  patientId: string,
  appointmentId: string,
): Promise<Appointment & { id: string }> {
  const appointment = await readOwnAppointment(patientId, appointmentId);
  assertChangeable(appointment);
  return appointment;
}

/**
 * Settles `appointment`, a read of the patient's own appointment, before `context`, which ran
 * alongside it. So another patient's id fails as not found even where the context fails too,
 * such as for a patient with no clinician, and the response reveals nothing of the other patient.
 */
export async function ownAppointmentFirst<A, C>(
  appointment: Promise<A>,
  context: Promise<C>,
): Promise<[A, C]> {
  // The context's failure is thrown below once the appointment is known to be the patient's.
  context.catch(() => undefined);
  const own = await appointment;
  return [own, await context];
}

/** Reads an appointment of the patient. Another patient's id fails like a missing one. */
export async function readOwnAppointment(
  patientId: string,
  appointmentId: string,
): Promise<Appointment & { id: string }> {
  const appointment = /^[A-Za-z0-9\-.]{1,64}$/.test(appointmentId)
    ? await readResource('Appointment', appointmentId)
    : undefined;
  if (!appointment?.id || !hasPatient(appointment, patientId)) {
    throw new AppointmentNotFoundError(`Appointment ${appointmentId} not found for the patient`);
  }
  return { ...appointment, id: appointment.id };
}

function assertChangeable(appointment: Appointment): void {
  const start = new Date(appointment.start ?? '');
  const bookedStatuses = new Set(['booked', 'pending', 'proposed']);
  if (
    Number.isNaN(start.getTime()) ||
    !bookedStatuses.has(appointment.status) ||
    isWithinChangeCutoff(start, new Date(), getEnv().scheduling.changeCutoffHours)
  ) {
    throw new AppointmentLockedError(
      `Appointment ${appointment.id ?? ''} can no longer be changed`,
    );
  }
}
