-- True when the last failed attempt timed out or lost its connection, so its write may still be
-- running at the upstream. A retry then waits before it looks for that write. After a 5xx
-- response the upstream has finished, so a retry may look at once.
ALTER TABLE idempotency_keys ADD COLUMN may_still_run boolean NOT NULL DEFAULT false;
