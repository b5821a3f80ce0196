-- Booking ledger: one row per telehealth appointment the portal books or changes. Canvas allows
-- double booking, so this table is what stops two bookings from holding the same practitioner
-- time, across every portal process.
CREATE TABLE appointment_bookings (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  patient_id text NOT NULL,
  practitioner_id text NOT NULL,
  -- FHIR Slot.id the visit was booked from; NULL for an appointment booked outside the portal.
  slot_id text,
  start_at timestamptz NOT NULL,
  end_at timestamptz NOT NULL,
  -- 'pending' while the Zoom meeting and the FHIR Appointment are being created.
  status text NOT NULL CHECK (status IN ('pending', 'booked', 'cancelled')),
  -- FHIR Appointment.id, set once the Appointment exists.
  appointment_id text UNIQUE,
  zoom_meeting_id text,
  join_url text,
  -- Set when the Zoom meeting of a cancelled visit is gone; a cancel retry deletes it otherwise.
  zoom_deleted_at timestamptz,
  -- SEQUENCE of the calendar file: 0 when booked, raised on every reschedule and the cancel.
  calendar_sequence integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (end_at > start_at)
);

-- The rule itself: one live booking per practitioner and start time.
CREATE UNIQUE INDEX appointment_bookings_practitioner_start_key
  ON appointment_bookings (practitioner_id, start_at) WHERE status <> 'cancelled';
CREATE INDEX appointment_bookings_practitioner_time_idx
  ON appointment_bookings (practitioner_id, start_at, end_at) WHERE status <> 'cancelled';
CREATE INDEX appointment_bookings_patient_idx ON appointment_bookings (patient_id, start_at);
