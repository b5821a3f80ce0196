import type pg from 'pg';

/**
 * Demo rows of the integration database for the sandbox's demo patients, so the dashboard has
 * a treatment, a shipment and notifications to show. In production the integration service
 * writes these tables. Every insert skips rows that exist, so each start may run it again.
 * Dates are relative to `now`.
 */
export async function seedIntegrationDatabase(pool: pg.Pool, now: Date): Promise<void> {
  const day = (offsetDays: number) => new Date(now.getTime() + offsetDays * 86_400_000);
  const date = (offsetDays: number) => day(offsetDays).toISOString().slice(0, 10);

  const subscriptions: [string, string, number, string][] = [
    ['demo-ava', 'demo-ava-rx-966222', 30, date(5)],
    ['demo-marcus', 'demo-marcus-rx-314076', 30, date(12)],
    ['demo-priya', 'demo-priya-rx-861007', 90, date(40)],
  ];
  for (const [patientId, medicationRequestId, intervalDays, nextRefillDate] of subscriptions) {
    await pool.query(
      `INSERT INTO subscriptions (patient_id, medication_request_id, status, refill_interval_days, next_refill_date)
       VALUES ($1, $2, 'active', $3, $4)
       ON CONFLICT (patient_id, medication_request_id) DO NOTHING`,
      [patientId, medicationRequestId, intervalDays, nextRefillDate],
    );
  }

  // Tracking numbers in the 12-digit FedEx Express format; the sandbox invents them.
  // FedEx does not know Ava's oldest number (700000000007), as happens before a label is scanned.
  // Marcus's older shipment is still `shipped` here while the FedEx stand-in reports it
  // delivered, so opening its tracking shows the move to `delivered`.
  const shipments: [string, string, string, string, Date][] = [
    ['demo-ava', 'demo-ava-rx-966222-refill-1', '700000000011', 'delivered', day(-3)],
    ['demo-ava', 'demo-ava-rx-966222', '700000000007', 'label_created', day(-30)],
    ['demo-marcus', 'demo-marcus-rx-314076', '700000000005', 'shipped', day(-20)],
    ['demo-marcus', 'demo-marcus-rx-314076-refill-1', '700000000022', 'shipped', day(-1)],
  ];
  for (const [patientId, medicationRequestId, trackingNumber, status, changedAt] of shipments) {
    await pool.query(
      `INSERT INTO shipments (patient_id, medication_request_id, tracking_number, status, status_changed_at, created_at)
       VALUES ($1, $2, $3, $4, $5::timestamptz, $5::timestamptz - interval '2 days')
       ON CONFLICT (tracking_number) DO NOTHING`,
      [patientId, medicationRequestId, trackingNumber, status, changedAt],
    );
  }

  const notifications: [string, string, string, string, string, string][] = [
    [
      'demo-ava',
      'shipment_delivered',
      'Your medication was delivered',
      'FedEx delivered your order.',
      '/shipments',
      'demo:demo-ava:delivered:700000000011',
    ],
    // Written as the integration service does when a prescription is approved (see README.md,
    // "Notifications written by the integration service").
    [
      'demo-priya',
      'prescription_approved',
      'Prescription approved',
      'Your metformin prescription was approved and will ship soon.',
      '/prescriptions',
      'prescription-approved:demo-priya-rx-861007',
    ],
    [
      'demo-marcus',
      'shipment_shipped',
      'Your medication is on its way',
      'FedEx picked up your order.',
      '/shipments',
      'demo:demo-marcus:shipped:700000000022',
    ],
  ];
  for (const [patientId, type, title, body, link, dedupeKey] of notifications) {
    await pool.query(
      `INSERT INTO notifications (patient_id, type, title, body, link, dedupe_key)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (dedupe_key) DO NOTHING`,
      [patientId, type, title, body, link, dedupeKey],
    );
  }
}
