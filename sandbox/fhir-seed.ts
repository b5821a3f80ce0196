import type { WithId } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';

import { buildDemoResources } from './demo-resources.js';
import type { FhirEngine } from './fhir-engine.js';
import { FIXTURE_DIRECTORY, loadFixtureResources } from './fixture-resources.js';

/** Number of seeded resources per resource type, e.g. `{ Patient: 4, MedicationRequest: 49 }`. */
export type SeedCounts = Record<string, number>;

/**
 * Loads the synthetic demo data and the official FHIR R4 examples into the engine with PUT, so
 * that every resource keeps its fixed id. Every resource is validated like a client's write, and
 * the first one rejected stops the seed with an error that names it.
 */
export async function seedFhirServer(
  engine: FhirEngine,
  now: Date,
  fixtureDirectory: string = FIXTURE_DIRECTORY,
): Promise<SeedCounts> {
  const resources: WithId<Resource>[] = [
    ...buildDemoResources(now),
    ...(await loadFixtureResources(fixtureDirectory)),
  ];

  const counts: SeedCounts = {};
  for (const resource of resources) {
    await engine.upsert(resource);
    counts[resource.resourceType] = (counts[resource.resourceType] ?? 0) + 1;
  }
  return counts;
}
