import type { Practitioner } from '@medplum/fhirtypes';

import { readResource } from '~/clients/fhir.server';
import { singleton } from '~/utils/singleton.server';

/** How long a Practitioner read from FHIR is reused before it is read again. */
const PRACTITIONER_TTL_MS = 10 * 60 * 1000;
/** Most Practitioners kept; the oldest entry goes first when it is full. */
const MAX_ENTRIES = 1000;

interface CachedPractitioner {
  /** Resolves to undefined when FHIR has no such Practitioner. */
  practitioner: Promise<Practitioner | undefined>;
  expiresAt: number;
}

/**
 * Returns this process's cache of Practitioners. It contains no patient data: a Practitioner is
 * the care team's directory entry (name, NPI), which changes rarely.
 */
function practitionerCache(): Map<string, CachedPractitioner> {
  return singleton('practitioner-cache', () => new Map<string, CachedPractitioner>());
}

/**
 * Reads a Practitioner, reusing a read from the last PRACTITIONER_TTL_MS. The profile and the
 * dashboard's greeting need the patient's practitioner after the Patient read, so without the
 * cache every view would wait for two FHIR reads in a row. Concurrent calls for one id share one
 * read, and a failed read is not kept.
 */
export function readPractitioner(id: string): Promise<Practitioner | undefined> {
  const cache = practitionerCache();
  const now = Date.now();
  const cached = cache.get(id);
  if (cached && cached.expiresAt > now) return cached.practitioner;

  if (cache.size >= MAX_ENTRIES) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  const practitioner = readResource('Practitioner', id);
  const entry = { practitioner, expiresAt: now + PRACTITIONER_TTL_MS };
  cache.delete(id);
  cache.set(id, entry);
  practitioner.catch(() => {
    if (cache.get(id) === entry) cache.delete(id);
  });
  return practitioner;
}
