import type { Appointment } from '@medplum/fhirtypes';

import { searchResources, updateResource } from '~/clients/fhir.server';
import {
  deleteZoomMeeting,
  listZoomMeetings,
  type ListedZoomMeeting,
  type ZoomMeeting,
} from '~/clients/zoom.server';
import { getEnv } from '~/config/env.server';
import { getLogger } from '~/utils/logger.server';

import {
  cancelAppointment,
  hasBookingIdentifier,
  joinUrlOf,
  toInstant,
} from './appointment-resource';
import { meetingAgendaOf } from './book-appointment.server';
import {
  abandonHold,
  claimUnsettledBooking,
  completeStuckBooking,
  settleFailedBooking,
  type Booking,
} from './booking-ledger.server';
import { confirmVisitChange } from './confirmation.server';
import { loadSchedulingContext } from './scheduling-context.server';

/**
 * Grace period, in upstream timeouts. After it reserves its time, a booking makes at
 * most about 14 sequential upstream round trips, each within UPSTREAM_TIMEOUT_MS plus backoffs
 * of up to 2 s. They are the Zoom token and create (twice after a 401), the FHIR token and
 * create, the settle wait of two timeouts, and a search and a meeting delete of up to three
 * attempts each. Thirty timeouts leave about twice that.
 */
const GRACE_UPSTREAM_TIMEOUTS = 30;
/** Floor of the grace period, for an upstream that finishes a write after its client gave up. */
const MIN_GRACE_SECONDS = 5 * 60;
/** Bookings one run settles at most, so that a backlog cannot make a run take unbounded time. */
const MAX_BOOKINGS_PER_RUN = 50;

const CANCEL_REASON = 'The patient portal could not finish this booking, so it was not confirmed.';

/**
 * Seconds a booking row must be unchanged before the reconciler touches it: longer than the
 * longest a live booking can still be working on it. Also the lease of a claimed row.
 */
export function bookingGraceSeconds(): number {
  return Math.max(MIN_GRACE_SECONDS, (GRACE_UPSTREAM_TIMEOUTS * getEnv().upstreamTimeoutMs) / 1000);
}

/**
 * Settles the bookings that a crashed process or an unknown upstream outcome left unfinished,
 * as of `now`, and returns how many it settled. For a stuck `pending` row it looks in FHIR for
 * the booking's Appointment: if one exists, the row becomes booked and the patient gets the
 * confirmation. Otherwise the row is rolled back: its time is freed and its Zoom meeting deleted.
 * For a failed booking it deletes the meeting that may be left and cancels an Appointment that
 * FHIR stored after the booking gave up. Logs one line per settled booking.
 *
 * Safe to run in several processes at once: each row is claimed under FOR UPDATE SKIP LOCKED
 * with a lease. A second run finds nothing left to do.
 */
export async function reconcileBookings(now = new Date()): Promise<number> {
  const graceSeconds = bookingGraceSeconds();
  const changedBefore = new Date(now.getTime() - graceSeconds * 1000);
  const zoomMeetings = new ZoomMeetingList();

  let settled = 0;
  for (let count = 0; count < MAX_BOOKINGS_PER_RUN; count++) {
    const booking = await claimUnsettledBooking(changedBefore, graceSeconds);
    if (!booking) break;

    try {
      await reconcileBooking(booking, zoomMeetings);
      settled += 1;
    } catch (error) {
      // The lease stays, so the row is tried again when it expires, not on every run.
      getLogger().error(
        {
          bookingId: booking.id,
          patientId: booking.patientId,
          err: { name: (error as Error).name, message: (error as Error).message },
        },
        'booking reconciliation failed; it is retried when the lease expires',
      );
    }
  }
  return settled;
}

/**
 * Runs the reconciler once, for server.ts to call at start. Logs and swallows a failure, because
 * the periodic run tries again.
 */
export async function reconcileBookingsAtStart(): Promise<void> {
  try {
    const settled = await reconcileBookings();
    getLogger().info({ settled }, 'booking reconciler ran at start');
  } catch (error) {
    getLogger().error(
      { err: { name: (error as Error).name, message: (error as Error).message } },
      'booking reconciler failed at start',
    );
  }
}

async function reconcileBooking(booking: Booking, zoomMeetings: ZoomMeetingList): Promise<void> {
  const appointment = await findAppointmentOfBooking(booking);
  if (booking.status === 'pending' && appointment) {
    await completeBooking(booking, appointment, zoomMeetings);
    return;
  }

  if (booking.status === 'pending') await abandonHold(booking.id);
  // The patient saw this booking fail and its time is free again, so its Appointment is cancelled.
  if (appointment) await updateResource(cancelAppointment(appointment, CANCEL_REASON));
  const zoomMeetingIds = await deleteMeetingsOfBooking(booking, zoomMeetings);
  await settleFailedBooking(booking.id);

  getLogger().info(
    {
      repair: booking.status === 'pending' ? 'rolled_back' : 'cleaned_up',
      bookingId: booking.id,
      patientId: booking.patientId,
      practitionerId: booking.practitionerId,
      zoomMeetingIds,
      cancelledAppointmentId: appointment?.id,
    },
    booking.status === 'pending'
      ? 'booking reconciler rolled back a stuck booking and freed its time'
      : 'booking reconciler cleaned up a failed booking',
  );
}

async function completeBooking(
  booking: Booking,
  appointment: Appointment & { id: string },
  zoomMeetings: ZoomMeetingList,
): Promise<void> {
  const meeting =
    booking.zoomMeetingId && booking.joinUrl
      ? { id: booking.zoomMeetingId, joinUrl: booking.joinUrl }
      : await zoomMeetings.findByJoinUrl(joinUrlOf(appointment));
  const booked = await completeStuckBooking(booking.id, appointment.id, meeting);
  if (!booked) return;

  getLogger().info(
    {
      repair: 'completed',
      bookingId: booking.id,
      patientId: booking.patientId,
      practitionerId: booking.practitionerId,
      appointmentId: appointment.id,
      zoomMeetingId: booked.zoomMeetingId,
    },
    'booking reconciler recorded the Appointment of a stuck booking',
  );

  try {
    const context = await loadSchedulingContext({ patientId: booking.patientId });
    await confirmVisitChange(context, {
      change: 'booked',
      appointmentId: appointment.id,
      start: booked.start,
      end: booked.end,
      sequence: booked.calendarSequence,
      joinUrl: booked.joinUrl ?? joinUrlOf(appointment),
    });
  } catch (error) {
    // NOTE: the booking stays recorded without a confirmation; nothing retries it.
    getLogger().error(
      {
        bookingId: booking.id,
        patientId: booking.patientId,
        appointmentId: appointment.id,
        err: { name: (error as Error).name, message: (error as Error).message },
      },
      'confirmation of a reconciled booking failed',
    );
  }
}

/**
 * Returns the booked Appointment of a ledger row: the patient's Appointment at the row's start
 * that carries the row's identifier or, because a server may drop identifiers, its join link.
 */
async function findAppointmentOfBooking(
  booking: Booking,
): Promise<(Appointment & { id: string }) | undefined> {
  const appointments = await searchResources('Appointment', {
    patient: `Patient/${booking.patientId}`,
    date: `eq${toInstant(booking.start)}`,
  });
  return appointments.find(
    (appointment): appointment is Appointment & { id: string } =>
      appointment.id !== undefined &&
      appointment.status === 'booked' &&
      (hasBookingIdentifier(appointment, booking.id) ||
        (booking.joinUrl !== null && joinUrlOf(appointment) === booking.joinUrl)),
  );
}

/**
 * Deletes the Zoom meeting of a failed booking: the one the row records, or else every meeting
 * whose agenda names the row, because a create whose response was lost may have made one.
 * Returns the ids of the meetings deleted, counting one that was already gone.
 */
async function deleteMeetingsOfBooking(
  booking: Booking,
  zoomMeetings: ZoomMeetingList,
): Promise<string[]> {
  const meetingIds = booking.zoomMeetingId
    ? [booking.zoomMeetingId]
    : (await zoomMeetings.findByAgenda(meetingAgendaOf(booking.id))).map((meeting) => meeting.id);
  for (const meetingId of meetingIds) await deleteZoomMeeting(meetingId);
  return meetingIds;
}

/** The host's Zoom meetings, fetched when a row first needs them and reused for the run. */
class ZoomMeetingList {
  private meetings: Promise<ListedZoomMeeting[]> | undefined;

  async findByAgenda(agenda: string): Promise<ListedZoomMeeting[]> {
    return (await this.list()).filter((meeting) => meeting.agenda === agenda);
  }

  async findByJoinUrl(joinUrl: string | undefined): Promise<ZoomMeeting | undefined> {
    if (!joinUrl) return undefined;
    return (await this.list()).find((meeting) => meeting.joinUrl === joinUrl);
  }

  private list(): Promise<ListedZoomMeeting[]> {
    this.meetings ??= listZoomMeetings();
    return this.meetings;
  }
}
