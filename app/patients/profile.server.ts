import type { Patient, Practitioner, Reference } from '@medplum/fhirtypes';

import type { PatientSession } from '~/auth/session.server';
import { readResource } from '~/clients/fhir.server';

import {
  firstNameOf,
  formatAddress,
  formatHumanName,
  npiOf,
  pickHumanName,
  pickTelecom,
} from './fhir-format';

export interface PatientProfile {
  id: string;
  name: { full: string | undefined; first: string | undefined };
  /** FHIR `Patient.birthDate`, a date without time zone (YYYY, YYYY-MM or YYYY-MM-DD). */
  birthDate: string | undefined;
  email: string | undefined;
  phone: string | undefined;
  address: string[];
  practitioner:
    | { id: string | undefined; name: string | undefined; npi: string | undefined }
    | undefined;
}

export class PatientNotFoundError extends Error {
  override name = 'PatientNotFoundError';
}

/**
 * Reads the signed-in patient's FHIR Patient and assigned practitioner
 * (`Patient.generalPractitioner`) and returns the profile shown on the dashboard and the API.
 */
export async function getPatientProfile(session: PatientSession): Promise<PatientProfile> {
  const patient = await readResource('Patient', session.patientId);
  if (!patient)
    throw new PatientNotFoundError(`Patient ${session.patientId} was not found in FHIR`);

  const practitionerReference = patient.generalPractitioner?.find((reference) =>
    reference.reference?.startsWith('Practitioner/'),
  );
  const practitioner = await readPractitioner(practitionerReference);
  const name = pickHumanName(patient.name);

  return {
    id: session.patientId,
    name: { full: formatHumanName(name), first: firstNameOf(name) },
    birthDate: patient.birthDate,
    email: pickTelecom(patient.telecom, 'email'),
    phone: pickTelecom(patient.telecom, 'phone'),
    address: formatAddress(pickAddress(patient)),
    practitioner: practitionerReference
      ? {
          id: practitioner?.id,
          name: formatHumanName(pickHumanName(practitioner?.name)) ?? practitionerReference.display,
          npi: npiOf(practitioner),
        }
      : undefined,
  };
}

async function readPractitioner(
  reference: Reference | undefined,
): Promise<Practitioner | undefined> {
  const id = reference?.reference?.split('/')[1];
  return id ? readResource('Practitioner', id) : undefined;
}

function pickAddress(patient: Patient) {
  const addresses = (patient.address ?? []).filter((address) => address.use !== 'old');
  return addresses.find((address) => address.use === 'home') ?? addresses[0];
}
