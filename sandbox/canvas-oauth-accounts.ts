import type { Patient } from '@medplum/fhirtypes';

import {
  DEMO_PATIENTS,
  FIXTURE_MESSAGING_PATIENT,
  FIXTURE_PATIENT,
  type SandboxPatient,
} from './demo-data.js';
import type { FhirEngine } from './fhir-engine.js';

/** A Canvas user that the sandbox sign-in page offers. */
export interface CanvasAccount {
  /** Patient id returned as `patient` in the token response. */
  patientId: string;
  /** Name shown on the sign-in page. */
  name: string;
  /** Email shown on the sign-in page, undefined for the user without a patient record. */
  email: string | undefined;
}

/**
 * Patient id of the Canvas user that has no Patient in the sandbox FHIR server, so the portal's
 * "unknown patient" error can be tested.
 */
export const UNKNOWN_PATIENT_ID = 'unknown-patient';

export const UNKNOWN_PATIENT_ACCOUNT: CanvasAccount = {
  patientId: UNKNOWN_PATIENT_ID,
  name: 'A Canvas user with no patient record',
  email: undefined,
};

/**
 * Builds the accounts of the sign-in page: the demo patients, the two official example patients
 * and the user without a patient record, last. Names are read from the seeded Patients, so the
 * page shows what the portal will show after sign-in. Throws if a patient is missing from FHIR,
 * or if `unknown-patient` exists there.
 */
export async function buildCanvasAccounts(engine: FhirEngine): Promise<CanvasAccount[]> {
  const patients: SandboxPatient[] = [...DEMO_PATIENTS, FIXTURE_PATIENT, FIXTURE_MESSAGING_PATIENT];
  const accounts: CanvasAccount[] = [];
  for (const patient of patients) {
    const stored = await readPatient(engine, patient.id);
    if (!stored) {
      throw new Error(`Internal error: the sandbox FHIR server has no Patient/${patient.id}.`);
    }
    accounts.push({
      patientId: patient.id,
      name: formatName(stored, patient),
      email: patient.email,
    });
  }

  if (await readPatient(engine, UNKNOWN_PATIENT_ID)) {
    throw new Error(
      `Internal error: Patient/${UNKNOWN_PATIENT_ID} exists, but the sign-in page offers it as a user without a patient record.`,
    );
  }
  return [...accounts, UNKNOWN_PATIENT_ACCOUNT];
}

async function readPatient(engine: FhirEngine, id: string): Promise<Patient | undefined> {
  const response = await engine.handle({
    method: 'GET',
    path: `/Patient/${encodeURIComponent(id)}`,
    query: new URLSearchParams(),
    body: undefined,
    baseUrl: '',
    linkBase: '',
  });
  return response.status === 200 && response.body?.resourceType === 'Patient'
    ? response.body
    : undefined;
}

/**
 * Formats the first HumanName of the Patient as "given family". The official example `pat1`
 * records given "Duck" and family "Donald", so it reads "Duck Donald".
 */
function formatName(patient: Patient, fallback: SandboxPatient): string {
  const name = patient.name?.find((candidate) => candidate.use === 'official') ?? patient.name?.[0];
  const parts = [...(name?.given ?? []), name?.family].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : fallback.givenName;
}
