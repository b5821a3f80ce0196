-- Initial schema of the integration database.
-- shipments, tracking_cache and notifications are written by the integration service in
-- production; the portal defines them here so it can run and be tested alone.

CREATE TABLE shipments (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  patient_id text NOT NULL,
  medication_request_id text,
  carrier text NOT NULL DEFAULT 'fedex',
  tracking_number text UNIQUE,
  status text NOT NULL DEFAULT 'label_created'
    CHECK (status IN ('label_created', 'packed', 'shipped', 'delivered', 'voided')),
  status_changed_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shipments_patient_created_idx ON shipments (patient_id, created_at DESC);

CREATE TABLE tracking_cache (
  tracking_number text PRIMARY KEY,
  payload jsonb NOT NULL,
  fetched_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);

CREATE TABLE notifications (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  patient_id text NOT NULL,
  type text NOT NULL,
  title text NOT NULL,
  body text NOT NULL,
  link text NOT NULL,
  -- A second insert of the same event carries the same key and is rejected.
  dedupe_key text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  read_at timestamptz
);
CREATE INDEX notifications_patient_created_idx ON notifications (patient_id, created_at DESC, id DESC);
CREATE INDEX notifications_patient_unread_idx ON notifications (patient_id) WHERE read_at IS NULL;

-- Active treatment: one row per MedicationRequest the pharmacy refills on a schedule.
CREATE TABLE subscriptions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  patient_id text NOT NULL,
  medication_request_id text NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'paused', 'cancelled')),
  refill_interval_days integer NOT NULL CHECK (refill_interval_days > 0),
  next_refill_date date,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (patient_id, medication_request_id)
);

-- One row per emailed sign-in code. The code itself is never stored, only its HMAC.
CREATE TABLE login_challenges (
  id uuid PRIMARY KEY,
  email_hmac text NOT NULL,
  -- NULL when the email belongs to no patient: the challenge exists so the answer and its
  -- timing match, but no code can ever verify against it.
  patient_id text,
  code_hmac text NOT NULL,
  failed_attempts integer NOT NULL DEFAULT 0,
  expires_at timestamptz NOT NULL,
  ended_at timestamptz,
  ended_reason text CHECK (ended_reason IN ('verified', 'too_many_attempts', 'superseded')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_challenges_email_created_idx ON login_challenges (email_hmac, created_at DESC);

CREATE TABLE sessions (
  id uuid PRIMARY KEY,
  patient_id text NOT NULL,
  auth_method text NOT NULL CHECK (auth_method IN ('email_code', 'canvas_sso')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX sessions_patient_idx ON sessions (patient_id);

-- Fixed-window counters shared by every portal process.
CREATE TABLE rate_limits (
  key text NOT NULL,
  window_start timestamptz NOT NULL,
  hits integer NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (key, window_start)
);

CREATE TABLE audit_events (
  id bigserial PRIMARY KEY,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  event_type text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('success', 'failure')),
  patient_id text,
  session_id uuid,
  request_id text,
  details jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_events_patient_idx ON audit_events (patient_id, occurred_at DESC);
