import type pg from 'pg';

import { getPool, withTransaction } from '~/db/pool.server';

import type { BusyInterval } from './availability';

/** One row of `appointment_bookings`. */
export interface Booking {
  id: string;
  patientId: string;
  practitionerId: string;
  slotId: string | null;
  start: Date;
  end: Date;
  status: 'pending' | 'booked' | 'cancelled';
  appointmentId: string | null;
  zoomMeetingId: string | null;
  joinUrl: string | null;
  zoomDeletedAt: Date | null;
  calendarSequence: number;
}

/** Another live booking already has this practitioner time. */
export class SlotTakenError extends Error {
  override name = 'SlotTakenError';
}

interface BookingRow {
  id: string;
  patient_id: string;
  practitioner_id: string;
  slot_id: string | null;
  start_at: Date;
  end_at: Date;
  status: Booking['status'];
  appointment_id: string | null;
  zoom_meeting_id: string | null;
  join_url: string | null;
  zoom_deleted_at: Date | null;
  calendar_sequence: number;
}

const UNIQUE_VIOLATION = '23505';

function toBooking(row: BookingRow): Booking {
  return {
    id: row.id,
    patientId: row.patient_id,
    practitionerId: row.practitioner_id,
    slotId: row.slot_id,
    start: row.start_at,
    end: row.end_at,
    status: row.status,
    appointmentId: row.appointment_id,
    zoomMeetingId: row.zoom_meeting_id,
    joinUrl: row.join_url,
    zoomDeletedAt: row.zoom_deleted_at,
    calendarSequence: row.calendar_sequence,
  };
}

/**
 * Reserves the practitioner's time for a new booking (`pending`). The unique index on
 * (practitioner_id, start_at) makes two live bookings of one start impossible, even from two
 * portal processes, and an overlap check in the same transaction covers other starts. The loser
 * gets SlotTakenError.
 */
export async function holdTime(input: {
  patientId: string;
  practitionerId: string;
  slotId: string | null;
  start: Date;
  end: Date;
  status?: 'pending' | 'booked';
  appointmentId?: string;
}): Promise<Booking> {
  return withTransaction(async (client) => {
    // Serializes bookings of one practitioner on PostgreSQL, so the overlap check cannot race.
    // The embedded database runs one transaction at a time, which serializes them too.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `booking:${input.practitionerId}`,
    ]);
    await assertNoOverlap(client, input.practitionerId, input.start, input.end, undefined);

    try {
      const result = await client.query<BookingRow>(
        `INSERT INTO appointment_bookings
           (patient_id, practitioner_id, slot_id, start_at, end_at, status, appointment_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
        [
          input.patientId,
          input.practitionerId,
          input.slotId,
          input.start,
          input.end,
          input.status ?? 'pending',
          input.appointmentId ?? null,
        ],
      );
      return toBooking(requireRow(result.rows[0]));
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
        throw new SlotTakenError(`Practitioner ${input.practitionerId} time is already booked`);
      }
      throw error;
    }
  });
}

/** Moves a live booking to a new time, under the same rules as holdTime; returns the old row. */
export async function moveBooking(
  bookingId: string,
  slotId: string,
  start: Date,
  end: Date,
): Promise<Booking> {
  return withTransaction(async (client) => {
    const current = toBooking(
      requireRow(
        (
          await client.query<BookingRow>(
            'SELECT * FROM appointment_bookings WHERE id = $1 FOR UPDATE',
            [bookingId],
          )
        ).rows[0],
      ),
    );
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `booking:${current.practitionerId}`,
    ]);
    await assertNoOverlap(client, current.practitionerId, start, end, bookingId);

    try {
      await client.query(
        `UPDATE appointment_bookings
         SET slot_id = $2, start_at = $3, end_at = $4, calendar_sequence = calendar_sequence + 1,
             updated_at = now()
         WHERE id = $1`,
        [bookingId, slotId, start, end],
      );
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
        throw new SlotTakenError(`Practitioner ${current.practitionerId} time is already booked`);
      }
      throw error;
    }
    return current;
  });
}

/** Puts a booking back to an earlier time after a failed reschedule. */
export async function restoreBookingTime(previous: Booking): Promise<void> {
  await getPool().query(
    `UPDATE appointment_bookings
     SET slot_id = $2, start_at = $3, end_at = $4, calendar_sequence = $5, updated_at = now()
     WHERE id = $1`,
    [previous.id, previous.slotId, previous.start, previous.end, previous.calendarSequence],
  );
}

export async function markBooked(
  bookingId: string,
  appointmentId: string,
  meeting: { id: string; joinUrl: string } | undefined,
): Promise<Booking> {
  const result = await getPool().query<BookingRow>(
    `UPDATE appointment_bookings
     SET status = 'booked', appointment_id = $2, zoom_meeting_id = $3, join_url = $4,
         updated_at = now()
     WHERE id = $1 RETURNING *`,
    [bookingId, appointmentId, meeting?.id ?? null, meeting?.joinUrl ?? null],
  );
  return toBooking(requireRow(result.rows[0]));
}

/** Records a new Zoom meeting on a booking that had none. */
export async function setMeeting(
  bookingId: string,
  meeting: { id: string; joinUrl: string },
): Promise<void> {
  await getPool().query(
    `UPDATE appointment_bookings SET zoom_meeting_id = $2, join_url = $3, updated_at = now()
     WHERE id = $1`,
    [bookingId, meeting.id, meeting.joinUrl],
  );
}

export async function markCancelled(bookingId: string): Promise<Booking> {
  const result = await getPool().query<BookingRow>(
    `UPDATE appointment_bookings
     SET status = 'cancelled',
         calendar_sequence = calendar_sequence + CASE WHEN status = 'cancelled' THEN 0 ELSE 1 END,
         updated_at = now()
     WHERE id = $1 RETURNING *`,
    [bookingId],
  );
  return toBooking(requireRow(result.rows[0]));
}

export async function markMeetingDeleted(bookingId: string): Promise<void> {
  await getPool().query(
    'UPDATE appointment_bookings SET zoom_deleted_at = now(), updated_at = now() WHERE id = $1',
    [bookingId],
  );
}

/** Frees the time of a booking whose creation failed. */
export async function releaseHold(bookingId: string): Promise<void> {
  await getPool().query("DELETE FROM appointment_bookings WHERE id = $1 AND status = 'pending'", [
    bookingId,
  ]);
}

/**
 * Frees the time of a failed booking but keeps its row, as `cancelled` with no appointment, for
 * the booking reconciler: a Zoom meeting or a late FHIR Appointment of it may still exist.
 */
export async function abandonHold(bookingId: string): Promise<void> {
  await getPool().query(
    `UPDATE appointment_bookings SET status = 'cancelled', updated_at = now()
     WHERE id = $1 AND status = 'pending'`,
    [bookingId],
  );
}

/**
 * Claims one booking that needs the reconciler and was last changed before `changedBefore`: a
 * `pending` row, or a failed booking (`cancelled`, no appointment) whose meeting is not known to
 * be gone. The claim is a lease of `leaseSeconds`, taken under FOR UPDATE SKIP LOCKED, so
 * reconcilers in several processes never work on the same row at once.
 */
export async function claimUnsettledBooking(
  changedBefore: Date,
  leaseSeconds: number,
): Promise<Booking | undefined> {
  const result = await getPool().query<BookingRow>(
    `UPDATE appointment_bookings
     SET reconcile_lease_until = now() + make_interval(secs => $2)
     WHERE id = (
       SELECT id FROM appointment_bookings
       WHERE (status = 'pending'
              OR (status = 'cancelled' AND appointment_id IS NULL AND zoom_deleted_at IS NULL))
         AND updated_at < $1
         AND (reconcile_lease_until IS NULL OR reconcile_lease_until < now())
       ORDER BY updated_at
       LIMIT 1
       FOR UPDATE SKIP LOCKED
     )
     RETURNING *`,
    [changedBefore, leaseSeconds],
  );
  return result.rows[0] ? toBooking(result.rows[0]) : undefined;
}

/**
 * Marks a stuck `pending` booking booked with the Appointment found for it. Returns undefined
 * when the row is no longer pending.
 */
export async function completeStuckBooking(
  bookingId: string,
  appointmentId: string,
  meeting: { id: string; joinUrl: string } | undefined,
): Promise<Booking | undefined> {
  const result = await getPool().query<BookingRow>(
    `UPDATE appointment_bookings
     SET status = 'booked', appointment_id = $2,
         zoom_meeting_id = COALESCE(zoom_meeting_id, $3), join_url = COALESCE(join_url, $4),
         reconcile_lease_until = NULL, updated_at = now()
     WHERE id = $1 AND status = 'pending' RETURNING *`,
    [bookingId, appointmentId, meeting?.id ?? null, meeting?.joinUrl ?? null],
  );
  return result.rows[0] ? toBooking(result.rows[0]) : undefined;
}

/** Records that no Zoom meeting of a failed booking is left, which ends its reconciliation. */
export async function settleFailedBooking(bookingId: string): Promise<void> {
  await getPool().query(
    `UPDATE appointment_bookings
     SET zoom_deleted_at = now(), reconcile_lease_until = NULL, updated_at = now()
     WHERE id = $1 AND status = 'cancelled' AND appointment_id IS NULL`,
    [bookingId],
  );
}

export async function findBookingByAppointment(
  appointmentId: string,
): Promise<Booking | undefined> {
  const result = await getPool().query<BookingRow>(
    'SELECT * FROM appointment_bookings WHERE appointment_id = $1',
    [appointmentId],
  );
  return result.rows[0] ? toBooking(result.rows[0]) : undefined;
}

export async function findBookingsOfPatient(patientId: string): Promise<Booking[]> {
  const result = await getPool().query<BookingRow>(
    'SELECT * FROM appointment_bookings WHERE patient_id = $1 AND appointment_id IS NOT NULL',
    [patientId],
  );
  return result.rows.map(toBooking);
}

/** Returns the times that live bookings hold for the practitioner around `window`. */
export async function selectLedgerBusyIntervals(
  practitionerId: string,
  window: { start: Date; end: Date },
  ignoreBookingId?: string,
): Promise<BusyInterval[]> {
  // A pending row left by a process that died mid-booking keeps its time until the booking
  // reconciler settles it, some minutes later (reconcile-bookings.server.ts).
  const result = await getPool().query<{ start_at: Date; end_at: Date }>(
    `SELECT start_at, end_at FROM appointment_bookings
     WHERE practitioner_id = $1 AND status <> 'cancelled'
       AND start_at < $3::timestamptz AND end_at > $2::timestamptz - interval '1 day'
       AND ($4::uuid IS NULL OR id <> $4::uuid)`,
    [practitionerId, window.start, window.end, ignoreBookingId ?? null],
  );
  return result.rows.map((row) => ({ start: row.start_at, end: row.end_at }));
}

async function assertNoOverlap(
  client: pg.PoolClient,
  practitionerId: string,
  start: Date,
  end: Date,
  ignoreBookingId: string | undefined,
): Promise<void> {
  const result = await client.query(
    `SELECT 1 FROM appointment_bookings
     WHERE practitioner_id = $1 AND status <> 'cancelled' AND start_at < $3 AND end_at > $2
       AND ($4::uuid IS NULL OR id <> $4::uuid)
     LIMIT 1`,
    [practitionerId, start, end, ignoreBookingId ?? null],
  );
  if (result.rowCount) {
    throw new SlotTakenError(`Practitioner ${practitionerId} time overlaps a booking`);
  }
}

function requireRow<T>(row: T | undefined): T {
  if (!row) throw new Error('The appointment_bookings statement returned no row.');
  return row;
}
