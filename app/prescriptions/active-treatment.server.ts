import type { PatientSession } from '~/auth/session.server';
import { getPool } from '~/db/pool.server';
import { getLogger } from '~/utils/logger.server';

import { isVisibleToPatient } from './prescription-status';
import { describeMedication, isOwnedBy, type Prescription } from './prescriptions.server';
import { ReferenceCache } from './reference-cache.server';

export interface ActiveTreatment {
  subscriptionId: string;
  medicationRequestId: string;
  refillIntervalDays: number;
  /** Calendar date (YYYY-MM-DD) of the next refill, or null when none is scheduled. */
  nextRefillDate: string | null;
  /** The prescription the subscription refills, or null when FHIR could not provide it. */
  prescription: Pick<Prescription, 'medication' | 'dosage' | 'status'> | null;
}

/**
 * Lists the patient's active subscriptions (the pharmacy's refill schedule) with the medication
 * and dosage of the MedicationRequest each one refills. A request that cannot be read, or that
 * belongs to another patient, leaves its treatment without a prescription and is logged by id.
 */
export async function listActiveTreatments(session: PatientSession): Promise<ActiveTreatment[]> {
  const result = await getPool().query<{
    id: string;
    medication_request_id: string;
    refill_interval_days: number;
    next_refill_date: string | null;
  }>(
    `SELECT id, medication_request_id, refill_interval_days,
            to_char(next_refill_date, 'YYYY-MM-DD') AS next_refill_date
     FROM subscriptions WHERE patient_id = $1 AND status = 'active'
     ORDER BY next_refill_date NULLS LAST, created_at`,
    [session.patientId],
  );

  const cache = new ReferenceCache();
  const treatments = await Promise.all(
    result.rows.map(async (row) => ({
      subscriptionId: row.id,
      medicationRequestId: row.medication_request_id,
      refillIntervalDays: row.refill_interval_days,
      nextRefillDate: row.next_refill_date,
      prescription: await describeSubscribedRequest(
        row.medication_request_id,
        session.patientId,
        cache,
      ),
    })),
  );
  // A request entered in error is hidden from patients everywhere, its treatment included.
  return treatments.filter((treatment) => treatment.prescription !== 'hidden') as ActiveTreatment[];
}

async function describeSubscribedRequest(
  medicationRequestId: string,
  patientId: string,
  cache: ReferenceCache,
): Promise<ActiveTreatment['prescription'] | 'hidden'> {
  let request;
  try {
    request = await cache.read('MedicationRequest', medicationRequestId);
  } catch (error) {
    getLogger().error(
      { medicationRequestId, patientId, err: { message: (error as Error).message } },
      'subscription MedicationRequest could not be read',
    );
    return null;
  }

  if (!request || !isOwnedBy(request, patientId)) {
    getLogger().warn(
      { medicationRequestId, patientId },
      'subscription MedicationRequest unavailable',
    );
    return null;
  }
  if (!isVisibleToPatient(request.status)) {
    getLogger().warn(
      { medicationRequestId, patientId },
      'subscription MedicationRequest entered in error',
    );
    return 'hidden';
  }

  // The dashboard shows no prescriber, so none is read.
  return describeMedication(request, cache);
}
