-- Shipment notifications are made by the database in the same transaction as the status change,
-- so no writer (the portal or the integration service) can change a status without one. The
-- dedupe key makes a second insert of the same event a no-op.
CREATE FUNCTION shipments_notify_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IS NOT DISTINCT FROM OLD.status THEN
    RETURN NULL;
  END IF;

  IF NEW.status = 'shipped' THEN
    INSERT INTO notifications (patient_id, type, title, body, link, dedupe_key)
    VALUES (
      NEW.patient_id, 'shipment_shipped', 'Your medication is on its way',
      'FedEx has your order' || COALESCE(' (tracking number ' || NEW.tracking_number || ')', '') || '.',
      COALESCE('/shipments/track/' || NEW.tracking_number, '/shipments'),
      'shipment-shipped:' || NEW.id
    )
    ON CONFLICT (dedupe_key) DO NOTHING;
  ELSIF NEW.status = 'delivered' THEN
    INSERT INTO notifications (patient_id, type, title, body, link, dedupe_key)
    VALUES (
      NEW.patient_id, 'shipment_delivered', 'Your medication was delivered',
      'FedEx confirmed the delivery of your order.',
      COALESCE('/shipments/track/' || NEW.tracking_number, '/shipments'),
      'shipment-delivered:' || NEW.id
    )
    ON CONFLICT (dedupe_key) DO NOTHING;
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER shipments_notify_transition
  AFTER UPDATE OF status ON shipments
  FOR EACH ROW EXECUTE FUNCTION shipments_notify_transition();

-- Where each notification job's sweep of an upstream has reached, e.g. the newest
-- Communication.meta.lastUpdated seen. A sweep reads from a little before it, and dedupe keys
-- absorb the overlap, so two workers moving it at once lose nothing.
CREATE TABLE notification_job_cursors (
  job text PRIMARY KEY,
  cursor_value text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
