import type { Resource, ResourceType } from '@medplum/fhirtypes';

import { readResource } from '~/clients/fhir.server';
import { readPractitioner } from '~/patients/practitioner-cache.server';

type ResourceOfType<T extends ResourceType> = Extract<Resource, { resourceType: T }>;

/**
 * Reads referenced resources for one request, each id at most once, however many
 * prescriptions point to it. A resource the server does not have (404, 410) resolves to
 * undefined, and callers log it by id. Any other failure rejects: falling back to a
 * reference's `display` during an outage would show text the resource may contradict.
 * Practitioners come from the process's cache (practitioner-cache.server.ts), which the profile
 * and the dashboard share.
 */
export class ReferenceCache {
  private readonly reads = new Map<string, Promise<Resource | undefined>>();

  read<T extends ResourceType>(type: T, id: string): Promise<ResourceOfType<T> | undefined> {
    const key = `${type}/${id}`;
    let pending = this.reads.get(key);
    if (!pending) {
      pending = type === 'Practitioner' ? readPractitioner(id) : readResource(type, id);
      this.reads.set(key, pending);
    }
    return pending as Promise<ResourceOfType<T> | undefined>;
  }
}

/** Splits `Type/id` (relative, or absolute ending in it) into its parts; undefined for `#contained` and others. */
export function parseReference(
  reference: string | undefined,
): { type: string; id: string } | undefined {
  if (!reference || reference.startsWith('#')) return undefined;

  const segments =
    reference
      .split('?')[0]
      ?.split('/')
      .filter((segment) => segment !== '') ?? [];
  const historyIndex = segments.indexOf('_history');
  const usable = historyIndex >= 0 ? segments.slice(0, historyIndex) : segments;
  const id = usable.at(-1);
  const type = usable.at(-2);
  if (!id || !type || !/^[A-Z][A-Za-z]+$/.test(type)) return undefined;
  return { type, id };
}
