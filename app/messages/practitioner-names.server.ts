import type { Reference } from '@medplum/fhirtypes';

import { readResource } from '~/clients/fhir.server';
import { formatHumanName, pickHumanName } from '~/patients/fhir-format';
import { parseReference } from '~/prescriptions/reference-cache.server';
import { singleton } from '~/utils/singleton.server';

/** How long a practitioner's name is reused before it is read again. */
const NAME_TTL_MS = 10 * 60 * 1000;
/** Most names kept; the oldest entry goes first when it is full. */
const MAX_ENTRIES = 1000;

interface CachedName {
  /** Undefined when the Practitioner does not exist or has no name. */
  name: string | undefined;
  expiresAt: number;
}

/**
 * Returns this process's cache of practitioner names. Names change rarely, and without it every
 * poll of a conversation would read the same Practitioner again. It contains no patient data.
 */
function nameCache(): Map<string, CachedName> {
  return singleton('practitioner-name-cache', () => new Map<string, CachedName>());
}

/**
 * Returns the display name of each Practitioner among `references`, by id, reading the ones
 * not cached in parallel. A Practitioner that does not exist is left out.
 */
export async function readPractitionerNames(
  references: (Reference | undefined)[],
): Promise<Map<string, string>> {
  const ids = new Set<string>();
  for (const reference of references) {
    const parsed = parseReference(reference?.reference);
    if (parsed?.type === 'Practitioner') ids.add(parsed.id);
  }

  const cache = nameCache();
  const now = Date.now();
  const missing = [...ids].filter((id) => (cache.get(id)?.expiresAt ?? 0) <= now);
  await Promise.all(
    missing.map(async (id) => {
      const practitioner = await readResource('Practitioner', id);
      if (cache.size >= MAX_ENTRIES) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
      cache.delete(id);
      cache.set(id, {
        name: formatHumanName(pickHumanName(practitioner?.name)),
        expiresAt: now + NAME_TTL_MS,
      });
    }),
  );

  const names = new Map<string, string>();
  for (const id of ids) {
    const name = cache.get(id)?.name;
    if (name) names.set(id, name);
  }
  return names;
}
