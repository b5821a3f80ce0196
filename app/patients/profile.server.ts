import type { Patient } from '@medplum/fhirtypes';

import type { PatientSession } from '~/auth/session.server';
import { getEnv } from '~/config/env.server';
import { readResource } from '~/clients/fhir.server';

import { findAssignedPractitioner, startCareTeamSearch } from './care-team.server';
import { readPractitioner } from './practitioner-cache.server';

import {
  firstNameOf,
  formatAddress,
  formatHumanName,
  npiOf,
  pickHumanName,
  pickTelecom,
} from './fhir-format';
import { patientTimeZone } from './time-zone';

export interface PatientProfile {
  id: string;
  name: { full: string | undefined; first: string | undefined };
  /** FHIR `Patient.birthDate`, a date without time zone (YYYY, YYYY-MM or YYYY-MM-DD). */
  birthDate: string | undefined;
  email: string | undefined;
  phone: string | undefined;
  address: string[];
  /** IANA time zone for showing times, the clinic's when the patient has none. */
  timeZone: string;
  practitioner: { id: string; name: string | undefined; npi: string | undefined } | undefined;
}

export class PatientNotFoundError extends Error {
  override name = 'PatientNotFoundError';
}

/**
 * Reads the signed-in patient's FHIR Patient and assigned practitioner
 * (`Patient.generalPractitioner`, else the CareTeam) and returns the profile shown on the dashboard and the API.
 */
export async function getPatientProfile(session: PatientSession): Promise<PatientProfile> {
  // On a patient's first view in this process, a practitioner from a CareTeam waits for the
  // Patient read, then the CareTeam search. Later views start both at once.
  const careTeams = startCareTeamSearch(session.patientId);
  const patient = await readResource('Patient', session.patientId);
  if (!patient)
    throw new PatientNotFoundError(`Patient ${session.patientId} was not found in FHIR`);

  const assigned = await findAssignedPractitioner(
    { ...patient, id: session.patientId },
    { careTeams },
  );
  const practitioner = assigned ? await readPractitioner(assigned.id) : undefined;
  const name = pickHumanName(patient.name);

  return {
    id: session.patientId,
    name: { full: formatHumanName(name), first: firstNameOf(name) },
    birthDate: patient.birthDate,
    email: pickTelecom(patient.telecom, 'email'),
    phone: pickTelecom(patient.telecom, 'phone'),
    address: formatAddress(pickAddress(patient)),
    timeZone: patientTimeZone(patient, getEnv().scheduling.clinicTimeZone),
    practitioner: assigned
      ? {
          id: assigned.id,
          name: formatHumanName(pickHumanName(practitioner?.name)) ?? assigned.display,
          npi: npiOf(practitioner),
        }
      : undefined,
  };
}

function pickAddress(patient: Patient) {
  const addresses = (patient.address ?? []).filter((address) => address.use !== 'old');
  return addresses.find((address) => address.use === 'home') ?? addresses[0];
}
