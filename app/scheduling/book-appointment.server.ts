import type { Appointment } from '@medplum/fhirtypes';

import type { PatientSession } from '~/auth/session.server';
import { createResource, readResource, searchResources } from '~/clients/fhir.server';
import { createZoomMeeting, deleteZoomMeeting, type ZoomMeeting } from '~/clients/zoom.server';
import { getEnv } from '~/config/env.server';
import {
  mayHaveReachedUpstream,
  mayStillBeRunning,
  runIdempotent,
  waitForLostWriteToSettle,
} from '~/http/idempotency.server';
import { parseReference } from '~/prescriptions/reference-cache.server';
import { getLogger } from '~/utils/logger.server';

import { buildAppointment, joinUrlOf, toInstant } from './appointment-resource';
import { locationOfSchedule, openCandidates } from './availability.server';
import {
  abandonHold,
  holdTime,
  markBooked,
  releaseHold,
  setMeeting,
  type Booking,
} from './booking-ledger.server';
import { confirmVisitChange } from './confirmation.server';
import { loadSchedulingContext, type SchedulingContext } from './scheduling-context.server';
import type { SlotInput } from './slot-input.server';
import { parseInstantWithOffset } from './zoned-time';

const MINUTE_MS = 60_000;

/** The chosen slot is no longer open: taken, moved, outside policy or not the patient's. */
export class SlotUnavailableError extends Error {
  override name = 'SlotUnavailableError';
}

export interface BookedVisit {
  appointmentId: string;
  start: string;
  end: string;
  joinUrl: string;
}

/** A slot checked against FHIR: the Slot exists, is free and is open for this practitioner. */
export interface VerifiedSlot {
  slotId: string;
  start: Date;
  end: Date;
  location: string | undefined;
}

/**
 * Books a video visit from a slot the availability endpoint returned, at most once per
 * idempotency key: checks the slot again, reserves the time in the booking ledger, creates the
 * Zoom meeting, then the FHIR Appointment. If the Appointment fails, the meeting is deleted and
 * the hold released, so no half-booked visit remains. Whatever a crash or an unknown upstream
 * outcome leaves behind, the booking reconciler settles later. The confirmation email and
 * notification follow.
 */
export async function bookAppointment(
  session: PatientSession,
  slot: SlotInput,
  idempotencyKey: string | undefined,
): Promise<{ visit: BookedVisit; replayed: boolean }> {
  const { result, replayed } = await runIdempotent({
    patientId: session.patientId,
    operation: 'book-appointment',
    key: idempotencyKey,
    request: { slotId: slot.slotId, start: slot.start, end: slot.end },
    perform: async (attempt) => {
      const context = await loadSchedulingContext(session);
      if (attempt.earlierOutcomeUnknown) {
        const earlier = await findEarlierBooking(context, slot);
        if (earlier) return earlier;
      }
      return book(context, slot);
    },
  });
  return { visit: result, replayed };
}

async function book(context: SchedulingContext, input: SlotInput): Promise<BookedVisit> {
  const slot = await verifySlot(context, input);
  const booking = await holdTime({
    patientId: context.patientId,
    practitionerId: context.practitioner.id,
    slotId: slot.slotId,
    start: slot.start,
    end: slot.end,
  });

  let meeting: ZoomMeeting;
  try {
    meeting = await createZoomMeeting(
      `Video visit with ${context.practitioner.name}`,
      {
        start: slot.start,
        durationMinutes: Math.round((slot.end.getTime() - slot.start.getTime()) / MINUTE_MS),
        timeZone: context.timeZone,
      },
      meetingAgendaOf(booking.id),
    );
  } catch (error) {
    // A create that timed out may still make its meeting. The reconciler finds it by its agenda.
    if (mayHaveReachedUpstream(error)) await abandonHold(booking.id);
    else await releaseHold(booking.id);
    throw error;
  }
  // Recorded before the Appointment, so that after a crash the reconciler has the meeting's id.
  try {
    await setMeeting(booking.id, meeting);
  } catch (error) {
    await undoMeeting(context, meeting, booking, { keepRow: true });
    throw error;
  }

  const appointment = await createAppointmentOrUndo(context, slot, booking, meeting);
  const booked = await markBooked(booking.id, appointment.id, meeting);
  getLogger().info(
    { patientId: context.patientId, appointmentId: appointment.id, bookingId: booking.id },
    'appointment booked',
  );

  await confirmVisitChange(context, {
    change: 'booked',
    appointmentId: appointment.id,
    start: slot.start,
    end: slot.end,
    sequence: booked.calendarSequence,
    joinUrl: meeting.joinUrl,
  });
  return {
    appointmentId: appointment.id,
    start: slot.start.toISOString(),
    end: slot.end.toISOString(),
    joinUrl: meeting.joinUrl,
  };
}

/**
 * Creates the FHIR Appointment. After a timeout or a 5xx the create may still have stored it, so
 * the function looks for it. Without one, it deletes the Zoom meeting and frees the time before
 * rethrowing.
 */
async function createAppointmentOrUndo(
  context: SchedulingContext,
  slot: VerifiedSlot,
  booking: Booking,
  meeting: ZoomMeeting,
): Promise<Appointment & { id: string }> {
  try {
    return await createResource(
      buildAppointment({
        patientId: context.patientId,
        practitionerId: context.practitioner.id,
        slotId: slot.slotId,
        start: slot.start,
        end: slot.end,
        location: slot.location,
        joinUrl: meeting.joinUrl,
        bookingId: booking.id,
      }),
    );
  } catch (error) {
    const mayBeStored = mayHaveReachedUpstream(error);
    if (mayBeStored) {
      if (mayStillBeRunning(error)) await waitForLostWriteToSettle();
      const stored = await findAppointmentWithJoinUrl(context, slot.start, meeting.joinUrl).catch(
        () => undefined,
      );
      if (stored) return stored;
    }
    // An Appointment that FHIR stores after this search would point at the deleted meeting, so
    // the row stays for the reconciler, which cancels such an Appointment.
    await undoMeeting(context, meeting, booking, { keepRow: mayBeStored });
    throw error;
  }
}

/**
 * Deletes the meeting of a failed booking and frees its time. The row stays, as a failed booking
 * for the reconciler, when `keepRow` is set or the delete fails, so the reconciler retries it.
 */
async function undoMeeting(
  context: SchedulingContext,
  meeting: ZoomMeeting,
  booking: Booking,
  options: { keepRow: boolean },
): Promise<void> {
  let deleted = true;
  try {
    await deleteZoomMeeting(meeting.id);
  } catch (deleteError) {
    deleted = false;
    getLogger().error(
      {
        patientId: context.patientId,
        bookingId: booking.id,
        zoomMeetingId: meeting.id,
        err: { name: (deleteError as Error).name, message: (deleteError as Error).message },
      },
      'Zoom meeting of a failed booking could not be deleted; the booking reconciler retries it',
    );
  }
  if (options.keepRow || !deleted) await abandonHold(booking.id);
  else await releaseHold(booking.id);
}

/**
 * Returns the agenda of a booking's Zoom meeting. It names the ledger row, so the reconciler can
 * find a meeting whose create response never arrived. The agenda is the meeting's description,
 * so it carries only the row's random id and nothing about the patient.
 */
export function meetingAgendaOf(bookingId: string): string {
  return `Patient portal booking ${bookingId}`;
}

/**
 * Reads the Slot again and checks it against the slot object the client sent. The Slot must
 * belong to the patient's practitioner, be free and have the same start. It must also still be
 * open: inside the notice and horizon, and overlapping no appointment or booking.
 */
export async function verifySlot(
  context: SchedulingContext,
  input: SlotInput,
  options: { ignoreAppointmentId?: string; ignoreBookingId?: string } = {},
): Promise<VerifiedSlot> {
  const start = parseInstantWithOffset(input.start);
  const end = parseInstantWithOffset(input.end);
  const visitMs = getEnv().scheduling.visitLengthMinutes * MINUTE_MS;
  if (
    !start ||
    !end ||
    end.getTime() - start.getTime() !== visitMs ||
    input.practitioner.id !== context.practitioner.id
  ) {
    throw new SlotUnavailableError(`Slot ${input.slotId} does not match an open slot`);
  }

  const slot = await readResource('Slot', input.slotId);
  if (!slot || slot.status !== 'free' || Date.parse(slot.start) !== start.getTime()) {
    throw new SlotUnavailableError(`Slot ${input.slotId} is not free at the requested time`);
  }
  const scheduleId = parseReference(slot.schedule.reference)?.id;
  const owned = scheduleId ? await scheduleBelongsTo(scheduleId, context.practitioner.id) : false;
  if (!owned || !scheduleId) {
    throw new SlotUnavailableError(`Slot ${input.slotId} is not on the practitioner's schedule`);
  }

  const open = await openCandidates(
    context.practitioner.id,
    { start, end: new Date(start.getTime() + 1) },
    options,
  );
  if (!open.some((candidate) => candidate.id === slot.id)) {
    throw new SlotUnavailableError(`Slot ${input.slotId} is no longer open`);
  }
  return { slotId: input.slotId, start, end, location: locationOfSchedule(scheduleId) };
}

async function scheduleBelongsTo(scheduleId: string, practitionerId: string): Promise<boolean> {
  const schedule = await readResource('Schedule', scheduleId);
  return (schedule?.actor ?? []).some((actor) => {
    const parsed = parseReference(actor.reference);
    return parsed?.type === 'Practitioner' && parsed.id === practitionerId;
  });
}

/**
 * Finds the visit an earlier attempt with the same key booked, when that attempt's outcome is
 * unknown: the patient's booked Appointment at the slot's start with a join link.
 */
async function findEarlierBooking(
  context: SchedulingContext,
  input: SlotInput,
): Promise<BookedVisit | undefined> {
  const start = parseInstantWithOffset(input.start);
  if (!start) return undefined;
  const found = await findAppointmentWithJoinUrl(context, start, undefined);
  const joinUrl = found ? joinUrlOf(found) : undefined;
  if (!found?.start || !found.end || !joinUrl) return undefined;
  return { appointmentId: found.id, start: found.start, end: found.end, joinUrl };
}

async function findAppointmentWithJoinUrl(
  context: SchedulingContext,
  start: Date,
  joinUrl: string | undefined,
): Promise<(Appointment & { id: string }) | undefined> {
  const appointments = await searchResources('Appointment', {
    patient: `Patient/${context.patientId}`,
    // Without milliseconds: the sandbox's FHIR engine matches no `eq` instant that has them.
    date: `eq${toInstant(start)}`,
  });
  return appointments.find(
    (appointment): appointment is Appointment & { id: string } =>
      appointment.id !== undefined &&
      appointment.status === 'booked' &&
      Date.parse(appointment.start ?? '') === start.getTime() &&
      (joinUrl === undefined
        ? joinUrlOf(appointment) !== undefined
        : joinUrlOf(appointment) === joinUrl),
  );
}
