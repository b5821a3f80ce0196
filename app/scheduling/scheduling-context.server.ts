import type { PatientSession } from '~/auth/session.server';
import { readResource } from '~/clients/fhir.server';
import { getEnv } from '~/config/env.server';
import {
  findAssignedPractitioner,
  NoAssignedPractitionerError,
  startCareTeamSearch,
} from '~/patients/care-team.server';
import { formatHumanName, pickHumanName, pickTelecom } from '~/patients/fhir-format';
import { PatientNotFoundError } from '~/patients/profile.server';
import { patientTimeZone } from '~/patients/time-zone';
import { readPractitionerNames } from '~/messages/practitioner-names.server';

/** Facts about the signed-in patient that scheduling needs. */
export interface SchedulingContext {
  patientId: string;
  patientName: string;
  /** Email address for confirmations; undefined when the Patient has no email. */
  email: string | undefined;
  /** IANA zone in which the portal shows the patient times. */
  timeZone: string;
  practitioner: { id: string; name: string };
}

/**
 * Reads the patient and their assigned practitioner. Throws NoAssignedPractitionerError when
 * the patient has no practitioner to book with.
 */
export async function loadSchedulingContext(
  session: Pick<PatientSession, 'patientId'>,
): Promise<SchedulingContext> {
  const { patientId } = session;
  const careTeams = startCareTeamSearch(patientId);
  const patient = await readResource('Patient', patientId);
  if (!patient) throw new PatientNotFoundError(`Patient ${patientId} was not found in FHIR`);

  const assigned = await findAssignedPractitioner({ ...patient, id: patientId }, { careTeams });
  if (!assigned) {
    throw new NoAssignedPractitionerError(`Patient ${patientId} has no assigned practitioner`);
  }
  const names = await readPractitionerNames([{ reference: `Practitioner/${assigned.id}` }]);

  return {
    patientId,
    patientName: formatHumanName(pickHumanName(patient.name)) ?? 'Patient',
    email: pickTelecom(patient.telecom, 'email'),
    timeZone: patientTimeZone(patient, getEnv().scheduling.clinicTimeZone),
    practitioner: {
      id: assigned.id,
      name: names.get(assigned.id) ?? assigned.display ?? 'your clinician',
    },
  };
}
