import type { CareTeam, Patient, Reference } from '@medplum/fhirtypes';

import { searchResources } from '~/clients/fhir.server';
import { parseReference } from '~/prescriptions/reference-cache.server';

/** The patient has no Practitioner: neither in generalPractitioner nor in an active CareTeam. */
export class NoAssignedPractitionerError extends Error {
  override name = 'NoAssignedPractitionerError';
}

/** The practitioner who receives the patient's messages and books their visits. */
export interface AssignedPractitioner {
  id: string;
  /** Source of the assignment, for logs and support. */
  source: 'generalPractitioner' | 'CareTeam';
  /** `Reference.display` of the assignment, shown when the Practitioner cannot be read. */
  display: string | undefined;
}

/**
 * Finds the patient's practitioner: the first Practitioner in `Patient.generalPractitioner`,
 * else the first current Practitioner member of the patient's active CareTeam. References to
 * an Organization, a PractitionerRole or a contained resource do not count, because Canvas
 * needs a Practitioner to address a message or book a visit. Returns undefined when there is
 * none; the CareTeam search runs only when generalPractitioner has no Practitioner.
 */
export async function findAssignedPractitioner(
  patient: Patient & { id: string },
  now = new Date(),
): Promise<AssignedPractitioner | undefined> {
  const general = firstPractitioner(patient.generalPractitioner ?? []);
  if (general) return { ...general, source: 'generalPractitioner' };

  const careTeams = await searchResources('CareTeam', {
    subject: `Patient/${patient.id}`,
    status: 'active',
  });
  for (const careTeam of careTeams) {
    const member = firstPractitioner(currentMembers(careTeam, now));
    if (member) return { ...member, source: 'CareTeam' };
  }
  return undefined;
}

function currentMembers(careTeam: CareTeam, now: Date): Reference[] {
  return (careTeam.participant ?? [])
    .filter((participant) => {
      const end = participant.period?.end;
      return !end || Date.parse(end) > now.getTime();
    })
    .flatMap((participant) => (participant.member ? [participant.member] : []));
}

function firstPractitioner(
  references: Reference[],
): Omit<AssignedPractitioner, 'source'> | undefined {
  for (const reference of references) {
    const parsed = parseReference(reference.reference);
    if (parsed?.type === 'Practitioner') return { id: parsed.id, display: reference.display };
  }
  return undefined;
}
