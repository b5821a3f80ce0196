-- Portal-owned state for secure messaging and for any write a client may retry.

-- Canvas cannot update a Communication, so whether a patient has read a care-team message is
-- kept here: one row per Communication the patient has seen.
CREATE TABLE message_read_receipts (
  patient_id text NOT NULL,
  communication_id text NOT NULL,
  read_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (patient_id, communication_id)
);

-- One row per idempotency key a patient sent for a write. The first request claims the key
-- (state 'pending'); when its work ends the row holds the outcome ('completed' with the
-- response, or 'failed' when a retry may safely do the work again). A retry with the same key
-- gets the stored response instead of a second write.
CREATE TABLE idempotency_keys (
  patient_id text NOT NULL,
  operation text NOT NULL,
  idempotency_key text NOT NULL,
  -- SHA-256 of the normalized request, so a key reused for a different request is refused.
  request_hash text NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'completed', 'failed')),
  -- True once an attempt may have reached the upstream without an answer: a retry must look
  -- for that write before doing it again.
  outcome_unknown boolean NOT NULL DEFAULT false,
  response jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (patient_id, operation, idempotency_key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
