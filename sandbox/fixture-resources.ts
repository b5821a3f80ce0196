import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { WithId } from '@medplum/core';
import type { MedicationRequest, Patient, Resource } from '@medplum/fhirtypes';

import { FIXTURE_PATIENT } from './demo-data.js';

/** Copy of the official FHIR R4 (4.0.1) examples that the sandbox seeds from, with a README.md. */
export const FIXTURE_DIRECTORY = fileURLToPath(new URL('./fixtures/fhir-r4/', import.meta.url));

/**
 * Reads the official examples that the portal needs: every MedicationRequest, the patient they
 * belong to (`Patient/pat1`), every Medication, and the Practitioners that the MedicationRequests
 * reference and that exist among the examples. Each resource is returned unchanged except:
 * - each MedicationRequest's `subject` points at `Patient/pat1` (all of them already do), and
 * - `Patient/pat1` gets an email telecom if it has none, so that the patient can sign in.
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

  const referencedPractitioners = new Set(
    medicationRequests.flatMap((request) => collectReferences(request, 'Practitioner')),
  );
  const practitioners = ofType('Practitioner').filter((practitioner) =>
    referencedPractitioners.has(`Practitioner/${practitioner.id}`),
  );

  const patient = ofType<Patient>('Patient').find(
    (candidate) => candidate.id === FIXTURE_PATIENT.id,
  );
  if (!patient) {
    throw new Error(
      `No Patient with id ${FIXTURE_PATIENT.id} in ${directory}; the MedicationRequests need it.`,
    );
  }

  return [...practitioners, ...medications, addEmailIfMissing(patient), ...medicationRequests];
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

function pointSubjectAtFixturePatient(
  request: WithId<MedicationRequest>,
): WithId<MedicationRequest> {
  return {
    ...request,
    subject: { ...request.subject, reference: `Patient/${FIXTURE_PATIENT.id}` },
  };
}

// The official pat1 has no telecom at all. Adding an email telecom is the only change made to it.
function addEmailIfMissing(patient: WithId<Patient>): WithId<Patient> {
  if (patient.telecom?.some((contact) => contact.system === 'email')) {
    return patient;
  }
  return {
    ...patient,
    telecom: [...(patient.telecom ?? []), { system: 'email', value: FIXTURE_PATIENT.email }],
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
