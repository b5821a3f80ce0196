-- Every read and write of patient data, and every denied attempt, is recorded with what was
-- touched and from where (HIPAA 164.312(b) audit controls). Adding columns changes no row, so
-- the append-only triggers allow it.
ALTER TABLE audit_events
  ADD COLUMN action text,
  ADD COLUMN resource_type text,
  ADD COLUMN resource_id text,
  ADD COLUMN client_ip text;

ALTER TABLE audit_events DROP CONSTRAINT audit_events_outcome_check;
ALTER TABLE audit_events
  ADD CONSTRAINT audit_events_outcome_check CHECK (outcome IN ('success', 'failure', 'denied'));

CREATE INDEX audit_events_denied_idx ON audit_events (occurred_at DESC) WHERE outcome = 'denied';
