/** MedicationRequest.status codes (FHIR R4 value set medicationrequest-status). */
export type MedicationRequestStatus =
  | 'active'
  | 'on-hold'
  | 'cancelled'
  | 'completed'
  | 'entered-in-error'
  | 'stopped'
  | 'draft'
  | 'unknown';

export const PRESCRIPTION_STATUS_LABELS: Record<MedicationRequestStatus, string> = {
  active: 'Active',
  'on-hold': 'On hold',
  cancelled: 'Cancelled',
  completed: 'Completed',
  'entered-in-error': 'Entered in error',
  stopped: 'Stopped',
  draft: 'Draft',
  unknown: 'Status unknown',
};

/** Returns true when `status` is a MedicationRequest.status code, matched exactly. */
export function isKnownStatus(status: string | undefined): status is MedicationRequestStatus {
  // Object.hasOwn, because `in` would accept inherited names such as "toString".
  return status !== undefined && Object.hasOwn(PRESCRIPTION_STATUS_LABELS, status);
}

/** Returns the patient-facing label for a status code. Any other string reads "Status unknown". */
export function statusLabel(status: string | undefined): string {
  return isKnownStatus(status)
    ? PRESCRIPTION_STATUS_LABELS[status]
    : PRESCRIPTION_STATUS_LABELS.unknown;
}

/**
 * Returns false only for `entered-in-error`, a request recorded by mistake, which the portal
 * hides. Missing and unrecognised statuses stay visible.
 */
export function isVisibleToPatient(status: string | undefined): boolean {
  return status !== 'entered-in-error';
}
