import type { PatientSession } from '~/auth/session.server';
import { UpstreamError } from '~/clients/upstream-error.server';
import { getPool } from '~/db/pool.server';
import { describeMedicationRequest, isOwnedBy } from '~/prescriptions/prescriptions.server';
import { ReferenceCache } from '~/prescriptions/reference-cache.server';
import { getLogger } from '~/utils/logger.server';

import { SHIPMENT_STATUS_LABELS, type ShipmentStatus } from './shipment-status';

export interface ShipmentTimelineEntry {
  status: ShipmentStatus;
  label: string;
  /** ISO 8601 instant of the change. */
  at: string;
}

export interface Shipment {
  id: string;
  status: ShipmentStatus;
  statusLabel: string;
  carrier: string;
  trackingNumber: string | null;
  createdAt: string;
  statusChangedAt: string;
  /** Name of the medication the shipment carries; null when it is unknown or FHIR is unavailable. */
  medicationName: string | null;
  /** True when the name is missing because FHIR failed, so it may show up later. */
  medicationNameUnavailable: boolean;
  /** Every status the shipment has had, oldest first. */
  timeline: ShipmentTimelineEntry[];
}

interface ShipmentRow {
  id: string;
  status: ShipmentStatus;
  carrier: string;
  tracking_number: string | null;
  medication_request_id: string | null;
  created_at: Date;
  status_changed_at: Date;
}

/** Lists the patient's shipments, newest first, each with its status timeline and medication. */
export async function listShipments(session: PatientSession): Promise<Shipment[]> {
  const shipments = await getPool().query<ShipmentRow>(
    `SELECT id, status, carrier, tracking_number, medication_request_id, created_at, status_changed_at
     FROM shipments WHERE patient_id = $1 ORDER BY created_at DESC, id DESC`,
    [session.patientId],
  );
  const ids = shipments.rows.map((row) => row.id);
  const events = await getPool().query<{
    shipment_id: string;
    to_status: ShipmentStatus;
    occurred_at: Date;
  }>(
    `SELECT shipment_id, to_status, occurred_at FROM shipment_status_events
     WHERE shipment_id = ANY($1::uuid[]) ORDER BY occurred_at, id`,
    [ids],
  );

  const cache = new ReferenceCache();
  return Promise.all(
    shipments.rows.map(async (row) => ({
      id: row.id,
      status: row.status,
      statusLabel: SHIPMENT_STATUS_LABELS[row.status],
      carrier: row.carrier,
      trackingNumber: row.tracking_number,
      createdAt: row.created_at.toISOString(),
      statusChangedAt: row.status_changed_at.toISOString(),
      ...(await nameMedication(row.medication_request_id, session.patientId, cache)),
      timeline: events.rows
        .filter((event) => event.shipment_id === row.id)
        .map((event) => ({
          status: event.to_status,
          label: SHIPMENT_STATUS_LABELS[event.to_status],
          at: event.occurred_at.toISOString(),
        })),
    })),
  );
}

/** Returns the shipment of `trackingNumber` when it belongs to the patient, else undefined. */
export async function findOwnShipment(
  session: PatientSession,
  trackingNumber: string,
): Promise<{ id: string; status: ShipmentStatus } | undefined> {
  const result = await getPool().query<{ id: string; status: ShipmentStatus }>(
    'SELECT id, status FROM shipments WHERE patient_id = $1 AND tracking_number = $2',
    [session.patientId, trackingNumber],
  );
  return result.rows[0];
}

/**
 * Names the medication of a shipment from its MedicationRequest. A FHIR failure leaves the name
 * out and marks it unavailable, so the shipment list still loads from the database alone.
 */
async function nameMedication(
  medicationRequestId: string | null,
  patientId: string,
  cache: ReferenceCache,
): Promise<Pick<Shipment, 'medicationName' | 'medicationNameUnavailable'>> {
  const unknown = { medicationName: null, medicationNameUnavailable: false };
  if (!medicationRequestId) return unknown;

  try {
    const request = await cache.read('MedicationRequest', medicationRequestId);
    if (!request || !isOwnedBy(request, patientId)) return unknown;
    const { medication } = await describeMedicationRequest(request, cache);
    return medication.unavailable
      ? unknown
      : { medicationName: medication.text, medicationNameUnavailable: false };
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    getLogger().warn(
      { patientId, medicationRequestId, upstream: error.upstream, failure: error.failure },
      'shipment medication name unavailable',
    );
    return { medicationName: null, medicationNameUnavailable: true };
  }
}
