import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { WithId } from '@medplum/core';
import type { Communication, MedicationRequest, Patient, Resource } from '@medplum/fhirtypes';

import { FIXTURE_MESSAGING_PATIENT, FIXTURE_PATIENT, type SandboxPatient } from './demo-data.js';

/** Copy of the official FHIR R4 (4.0.1) examples that the sandbox seeds from, with a README.md. */
export const FIXTURE_DIRECTORY = fileURLToPath(new URL('./fixtures/fhir-r4/', import.meta.url));

/**
 * Reads the official examples that the portal needs:
 * - every MedicationRequest, the patient they belong to (`Patient/pat1`) and every Medication,
 * - every Communication and CareTeam, and the patient they are about (`Patient/example`, Peter
 *   James Chalmers), and
 * - the Practitioners that those MedicationRequests and Communications reference and that exist
 *   among the examples.
 *
 * Each resource is returned unchanged except:
 * - each MedicationRequest's `subject` points at `Patient/pat1` (all of them already do),
 * - each Communication's `subject` points at `Patient/example`, so that Peter can sign in and
 *   see all three. `example` already names him, but `fm-attachment` and `fm-solicited` name
 *   `Patient/1`, which no example defines. Resources contained in them keep their references,
 *   and
 * - `Patient/pat1` and `Patient/example` get an email telecom if they have none, so that they
 *   can sign in.
 */
export async function loadFixtureResources(
  directory: string = FIXTURE_DIRECTORY,
): Promise<WithId<Resource>[]> {
  const resources = await readFixtureDirectory(directory);
  // The resourceType check makes the cast safe. TypeScript cannot narrow a union by a generic type.
  const ofType = <T extends Resource>(type: T['resourceType']): WithId<T>[] =>
    resources.filter((resource) => resource.resourceType === type) as WithId<T>[];

  const medicationRequests = ofType<MedicationRequest>('MedicationRequest').map(
    pointSubjectAtFixturePatient,
  );
  const medications = ofType('Medication');
  const communications = ofType<Communication>('Communication').map(pointSubjectAtMessagingPatient);
  const careTeams = ofType('CareTeam');

  const referencedPractitioners = new Set(
    [...medicationRequests, ...communications].flatMap((resource) =>
      collectReferences(resource, 'Practitioner'),
    ),
  );
  const practitioners = ofType('Practitioner').filter((practitioner) =>
    referencedPractitioners.has(`Practitioner/${practitioner.id}`),
  );

  const patients = ofType<Patient>('Patient');
  const prescriptionPatient = findPatient(patients, FIXTURE_PATIENT, directory);
  const messagingPatient = findPatient(patients, FIXTURE_MESSAGING_PATIENT, directory);

  return [
    ...practitioners,
    ...medications,
    addEmailIfMissing(prescriptionPatient, FIXTURE_PATIENT.email),
    ...medicationRequests,
    addEmailIfMissing(messagingPatient, FIXTURE_MESSAGING_PATIENT.email),
    ...communications,
    ...careTeams,
  ];
}

function findPatient(
  patients: WithId<Patient>[],
  expected: SandboxPatient,
  directory: string,
): WithId<Patient> {
  const patient = patients.find((candidate) => candidate.id === expected.id);
  if (!patient) {
    throw new Error(
      `The fixture folder ${directory} has no Patient with id ${expected.id}, which the sandbox seeds for ${expected.email}. Restore the official example with that id.`,
    );
  }
  return patient;
}

async function readFixtureDirectory(directory: string): Promise<WithId<Resource>[]> {
  const fileNames = (await readdir(directory)).filter((name) => name.endsWith('.json')).sort();

  return Promise.all(
    fileNames.map(async (fileName) => {
      const resource = JSON.parse(
        await readFile(path.join(directory, fileName), 'utf8'),
      ) as Resource;
      if (!resource.id) {
        throw new Error(`Fixture ${fileName} has no id, so it cannot be loaded under a fixed id.`);
      }
      return resource as WithId<Resource>;
    }),
  );
}

function pointSubjectAtMessagingPatient(
  communication: WithId<Communication>,
): WithId<Communication> {
  return {
    ...communication,
    subject: { ...communication.subject, reference: `Patient/${FIXTURE_MESSAGING_PATIENT.id}` },
  };
}

function pointSubjectAtFixturePatient(
  request: WithId<MedicationRequest>,
): WithId<MedicationRequest> {
  return {
    ...request,
    subject: { ...request.subject, reference: `Patient/${FIXTURE_PATIENT.id}` },
  };
}

// The official pat1 has no telecom, and Patient/example has phones only. Adding an email telecom
// is the only change made to either.
function addEmailIfMissing(patient: WithId<Patient>, email: string): WithId<Patient> {
  if (patient.telecom?.some((contact) => contact.system === 'email')) {
    return patient;
  }
  return {
    ...patient,
    telecom: [...(patient.telecom ?? []), { system: 'email', value: email }],
  };
}

/** Returns every `reference` of the form `<resourceType>/<id>` anywhere inside `value`. */
function collectReferences(value: unknown, resourceType: string): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item) => collectReferences(item, resourceType));
  }
  if (typeof value !== 'object' || value === null) {
    return [];
  }

  const found: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    if (key === 'reference' && typeof child === 'string' && child.startsWith(`${resourceType}/`)) {
      found.push(child);
    } else {
      found.push(...collectReferences(child, resourceType));
    }
  }
  return found;
}
