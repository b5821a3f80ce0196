import type { CareTeam, Patient, Reference } from '@medplum/fhirtypes';

import { searchResources } from '~/clients/fhir.server';
import { parseReference } from '~/prescriptions/reference-cache.server';
import { singleton } from '~/utils/singleton.server';

/** Maximum number of patient ids in the CareTeam hints. When full, the oldest is dropped. */
const MAX_CARE_TEAM_HINTS = 10_000;

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
  options: {
    now?: Date;
    /** The search startCareTeamSearch started, used instead of a new one. */
    careTeams?: Promise<CareTeam[]>;
  } = {},
): Promise<AssignedPractitioner | undefined> {
  const hints = careTeamHints();
  const general = firstPractitioner(patient.generalPractitioner ?? []);
  if (general) {
    hints.delete(patient.id);
    return { ...general, source: 'generalPractitioner' };
  }

  if (!hints.has(patient.id)) {
    if (hints.size >= MAX_CARE_TEAM_HINTS) {
      const oldest = hints.values().next().value;
      if (oldest !== undefined) hints.delete(oldest);
    }
    hints.add(patient.id);
  }
  const careTeams = await (options.careTeams ?? searchCareTeams(patient.id));
  const now = options.now ?? new Date();
  for (const careTeam of careTeams) {
    const member = firstPractitioner(currentMembers(careTeam, now));
    if (member) return { ...member, source: 'CareTeam' };
  }
  return undefined;
}

/**
 * Starts the CareTeam search of a patient whose last lookup in this process needed it. The search
 * then runs alongside the Patient read, so the page waits for one FHIR round trip, not two.
 * Returns undefined for any other patient, who makes no extra request. Pass the result to
 * findAssignedPractitioner.
 */
export function startCareTeamSearch(patientId: string): Promise<CareTeam[]> | undefined {
  if (!careTeamHints().has(patientId)) return undefined;

  const search = searchCareTeams(patientId);
  // Unused when the Patient now has a generalPractitioner, or when the Patient read fails.
  // NOTE: an unused search that fails still counts toward the FHIR circuit breaker.
  search.catch(() => undefined);
  return search;
}

function searchCareTeams(patientId: string): Promise<CareTeam[]> {
  return searchResources('CareTeam', { subject: `Patient/${patientId}`, status: 'active' });
}

/**
 * Returns this process's set of patients whose last lookup had no generalPractitioner. It
 * contains ids only, and a stale entry costs one unused search, never a wrong practitioner.
 */
function careTeamHints(): Set<string> {
  return singleton('care-team-hints', () => new Set<string>());
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
