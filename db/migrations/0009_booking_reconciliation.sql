-- The booking reconciler repairs bookings that a crash or an unknown upstream outcome left
-- unfinished. Two kinds of row need it:
--   * 'pending' rows older than the longest a booking can run: the process that held them died.
--   * 'cancelled' rows with no appointment_id and no zoom_deleted_at: a booking rolled back
--     before its Appointment existed, whose Zoom meeting may still exist (its create timed out,
--     or its delete failed).
-- The reconciler sets zoom_deleted_at on the second kind once no meeting of the booking is left.

-- While set and in the future, one reconciler process is working on the row, so a second
-- process skips it. The claim is a lease, so a reconciler that dies mid-row frees it on expiry.
ALTER TABLE appointment_bookings ADD COLUMN reconcile_lease_until timestamptz;

CREATE INDEX appointment_bookings_unsettled_idx ON appointment_bookings (updated_at)
  WHERE status = 'pending' OR (appointment_id IS NULL AND zoom_deleted_at IS NULL);
