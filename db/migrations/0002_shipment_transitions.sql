-- Shipment status rules live in the database, so no writer (the portal or the integration
-- service) can skip them: label_created -> packed -> shipped -> delivered, and voided from
-- label_created or packed. Every status a shipment takes is recorded with its time.

CREATE TABLE shipment_status_events (
  id bigserial PRIMARY KEY,
  shipment_id uuid NOT NULL REFERENCES shipments (id) ON DELETE CASCADE,
  from_status text,
  to_status text NOT NULL,
  occurred_at timestamptz NOT NULL
);
CREATE INDEX shipment_status_events_shipment_idx ON shipment_status_events (shipment_id, occurred_at);

CREATE FUNCTION shipments_check_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = OLD.status THEN
    RETURN NEW;
  END IF;

  IF NOT (
    (OLD.status = 'label_created' AND NEW.status IN ('packed', 'voided'))
    OR (OLD.status = 'packed' AND NEW.status IN ('shipped', 'voided'))
    OR (OLD.status = 'shipped' AND NEW.status = 'delivered')
  ) THEN
    RAISE EXCEPTION 'Shipment % cannot change status from % to %', OLD.id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation';
  END IF;

  -- A writer that knows when the change happened (FedEx's delivery time) sets it; otherwise now.
  IF NEW.status_changed_at IS NOT DISTINCT FROM OLD.status_changed_at THEN
    NEW.status_changed_at := now();
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER shipments_check_transition
  BEFORE UPDATE OF status ON shipments
  FOR EACH ROW EXECUTE FUNCTION shipments_check_transition();

CREATE FUNCTION shipments_record_status() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
    INSERT INTO shipment_status_events (shipment_id, from_status, to_status, occurred_at)
    VALUES (NEW.id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status, NEW.status_changed_at);
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER shipments_record_status
  AFTER INSERT OR UPDATE OF status ON shipments
  FOR EACH ROW EXECUTE FUNCTION shipments_record_status();
