import type { Address, ContactPoint, HumanName, Practitioner } from '@medplum/fhirtypes';

/**
 * Picks the name to show: `official`, then `usual`, then the first, skipping names whose
 * `period.end` has passed (FHIR Patient.name, Practitioner.name).
 */
export function pickHumanName(
  names: HumanName[] | undefined,
  now = new Date(),
): HumanName | undefined {
  const current = (names ?? []).filter(
    (name) => !name.period?.end || new Date(name.period.end) > now,
  );
  return (
    current.find((name) => name.use === 'official') ??
    current.find((name) => name.use === 'usual') ??
    current[0]
  );
}

/** Formats a HumanName as "Given Family", falling back to `text`. */
export function formatHumanName(name: HumanName | undefined): string | undefined {
  if (!name) return undefined;

  const parts = [...(name.given ?? []), name.family].filter((part): part is string =>
    Boolean(part?.trim()),
  );
  const formatted = parts.join(' ').trim();
  return formatted || name.text?.trim() || undefined;
}

/** Returns the first `given` name, or `text`'s first word when the name has no parts. */
export function firstNameOf(name: HumanName | undefined): string | undefined {
  const given = name?.given?.find((part) => part.trim() !== '');
  if (given) return given.trim();
  return name?.text?.trim().split(/\s+/)[0] || undefined;
}

/** Returns the `value` of the preferred contact point of `system`: lowest `rank`, skipping `old` ones. */
export function pickTelecom(
  telecom: ContactPoint[] | undefined,
  system: ContactPoint['system'],
): string | undefined {
  const candidates = (telecom ?? []).filter(
    (point) => point.system === system && point.use !== 'old' && point.value,
  );
  candidates.sort(
    (a, b) => (a.rank ?? Number.MAX_SAFE_INTEGER) - (b.rank ?? Number.MAX_SAFE_INTEGER),
  );
  return candidates[0]?.value;
}

/** Formats an Address as lines, falling back to `text`. */
export function formatAddress(address: Address | undefined): string[] {
  if (!address) return [];

  const cityLine = [address.city, [address.state, address.postalCode].filter(Boolean).join(' ')]
    .filter((part) => part && part.trim() !== '')
    .join(', ');
  const lines = [...(address.line ?? []), cityLine, address.country ?? ''].filter(
    (line) => line.trim() !== '',
  );
  if (lines.length > 0) return lines;
  return address.text ? [address.text] : [];
}

/** Returns the practitioner's NPI (identifier system http://hl7.org/fhir/sid/us-npi). */
export function npiOf(resource: Pick<Practitioner, 'identifier'> | undefined): string | undefined {
  return resource?.identifier?.find(
    (identifier) => identifier.system === 'http://hl7.org/fhir/sid/us-npi',
  )?.value;
}
