import type { Patient } from '@medplum/fhirtypes';

import { CLINIC_TIME_ZONE } from '~/utils/dates';

/** FHIR R4 extension with an IANA time zone code (`valueCode`), e.g. `America/Chicago`. */
export const TIME_ZONE_EXTENSION_URL = 'http://hl7.org/fhir/StructureDefinition/timezone';
/** The R5 name of the same extension, which some servers already send. */
const TZ_CODE_EXTENSION_URL = 'http://hl7.org/fhir/StructureDefinition/tz-code';

/**
 * Returns the patient's time zone from the timezone extension, or `fallback` (the clinic's) when the
 * patient has none or it is not a zone this runtime supports.
 */
export function patientTimeZone(
  patient: Pick<Patient, 'extension'> | undefined,
  fallback: string = CLINIC_TIME_ZONE,
): string {
  const code = patient?.extension?.find(
    (extension) =>
      extension.url === TIME_ZONE_EXTENSION_URL || extension.url === TZ_CODE_EXTENSION_URL,
  )?.valueCode;
  return code && isKnownTimeZone(code) ? code : fallback;
}

/**
 * Zones this runtime accepted, so each is checked once, because a check builds a formatter (about
 * 50 µs in Node 20). Only valid IANA zones get in.
 */
const knownTimeZones = new Set<string>();

export function isKnownTimeZone(timeZone: string): boolean {
  if (knownTimeZones.has(timeZone)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    return false;
  }
  knownTimeZones.add(timeZone);
  return true;
}
