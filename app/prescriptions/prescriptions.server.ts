import type {
  Medication,
  MedicationRequest,
  Organization,
  Practitioner,
  PractitionerRole,
  Reference,
} from '@medplum/fhirtypes';

import type { PatientSession } from '~/auth/session.server';
import { searchResources } from '~/clients/fhir.server';
import { getEnv } from '~/config/env.server';
import { formatHumanName, npiOf, pickHumanName } from '~/patients/fhir-format';
import { getLogger } from '~/utils/logger.server';

import { describeDosageInstructions } from './dosage-text';
import {
  MEDICATION_NAME_UNAVAILABLE,
  nameFromCodeableConcept,
  nameFromDisplay,
  nameFromMedication,
  type MedicationName,
} from './medication-name';
import { isKnownStatus, isVisibleToPatient, statusLabel } from './prescription-status';
import type { PrescriptionStatusFilter } from './status-filter';
import { parseReference, ReferenceCache } from './reference-cache.server';

export const PRESCRIBER_UNAVAILABLE = 'Prescriber unavailable';

/** FHIR `date` or `dateTime` (YYYY, YYYY-MM, YYYY-MM-DD, or a time with a zone). */
const FHIR_DATE_TIME_PATTERN =
  /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;

export interface Prescriber {
  name: string;
  npi: string | undefined;
  unavailable: boolean;
}

export interface PrescriptionStatus {
  /** `MedicationRequest.status` as sent, or `unknown`. */
  code: string;
  label: string;
}

export interface RefillRecord {
  id: string;
  dateWritten: string | null;
  status: PrescriptionStatus;
}

export interface Prescription {
  id: string;
  medication: MedicationName;
  /** One line per `dosageInstruction`; never empty. */
  dosage: string[];
  prescriber: Prescriber;
  status: PrescriptionStatus;
  /** `authoredOn` as sent when it is a valid FHIR date or dateTime, else null. */
  dateWritten: string | null;
  refills: { allowed: number | null; quantity: string | null; supplyDays: number | null } | null;
  /** Canvas refill records (`intent=filler-order`) of this order, newest first. */
  refillHistory: RefillRecord[];
}

export interface PrescriptionList {
  prescriptions: Prescription[];
  /** True when the EHR has more MedicationRequests than the list reads (PRESCRIPTION_LIST_MAX). */
  moreExist: boolean;
  /** How many MedicationRequests the list reads at most. */
  listMax: number;
  /** Prescriptions per status code before filtering, for the filter links. */
  statusCounts: Record<string, number>;
}

/**
 * Lists the patient's prescriptions from FHIR MedicationRequest: refills grouped under their
 * order, `entered-in-error` hidden, active first and newest first within a group, then the
 * status filter applied.
 */
export async function listPrescriptions(
  session: PatientSession,
  filter: PrescriptionStatusFilter = 'all',
): Promise<PrescriptionList> {
  const listMax = getEnv().prescriptionListMax;
  const requests = await searchResources(
    'MedicationRequest',
    // Newest first, so the records past the cap are the oldest.
    { patient: `Patient/${session.patientId}`, _sort: '-authoredon' },
    { maxResults: listMax + 1 },
  );
  const moreExist = requests.length > listMax;
  const owned = requests
    .slice(0, listMax)
    .filter(
      (request) => isOwnedBy(request, session.patientId) && isVisibleToPatient(request.status),
    );

  const cache = new ReferenceCache();
  const { orders, refillsByOrderId } = groupRefills(owned);
  const prescriptions = await Promise.all(
    orders.map((request) =>
      describeMedicationRequest(request, cache, refillsByOrderId.get(request.id ?? '') ?? []),
    ),
  );
  prescriptions.sort(compareForList);

  const statusCounts: Record<string, number> = {};
  for (const prescription of prescriptions) {
    statusCounts[prescription.status.code] = (statusCounts[prescription.status.code] ?? 0) + 1;
  }
  const shown =
    filter === 'all' ? prescriptions : prescriptions.filter((item) => item.status.code === filter);
  return { prescriptions: shown, moreExist, listMax, statusCounts };
}

/**
 * Turns one MedicationRequest into what a patient reads. Bad data (no medication, unknown
 * status, malformed date, missing references) becomes placeholders, logged by resource id.
 */
export async function describeMedicationRequest(
  request: MedicationRequest,
  cache: ReferenceCache,
  refills: MedicationRequest[] = [],
): Promise<Prescription> {
  const id = request.id ?? 'unknown';
  const [{ medication, dosage, status }, prescriber] = await Promise.all([
    describeMedication(request, cache),
    resolvePrescriber(request.requester, cache),
  ]);

  if (prescriber.unavailable) logBadData(id, 'prescriber unavailable');
  if (request.authoredOn !== undefined && validDate(request.authoredOn) === null)
    logBadData(id, 'malformed authoredOn');

  return {
    id,
    medication,
    dosage,
    prescriber,
    status,
    dateWritten: validDate(request.authoredOn),
    refills: describeRefills(request),
    refillHistory: refills
      .map((refill) => ({
        id: refill.id ?? 'unknown',
        dateWritten: validDate(refill.authoredOn),
        status: describeStatus(refill.status),
      }))
      .sort((a, b) => compareDatesDescending(a.dateWritten, b.dateWritten)),
  };
}

/**
 * Returns the medication, dosage and status of a MedicationRequest, without reading its
 * prescriber, for views that do not show one (the dashboard). Bad data is logged by resource id,
 * as in describeMedicationRequest.
 */
export async function describeMedication(
  request: MedicationRequest,
  cache: ReferenceCache,
): Promise<Pick<Prescription, 'medication' | 'dosage' | 'status'>> {
  const id = request.id ?? 'unknown';
  const medication = await resolveMedicationName(request, cache);

  if (medication.unavailable) logBadData(id, 'medication name unavailable');
  if (!isKnownStatus(request.status)) logBadData(id, 'unknown status');

  return {
    medication,
    dosage: describeDosageInstructions(request.dosageInstruction),
    status: describeStatus(request.status),
  };
}

async function resolveMedicationName(
  request: MedicationRequest,
  cache: ReferenceCache,
): Promise<MedicationName> {
  if (request.medicationCodeableConcept)
    return nameFromCodeableConcept(request.medicationCodeableConcept);

  const reference = request.medicationReference;
  if (!reference) return nameFromDisplay(undefined);

  const medication = await findMedication(request, reference, cache);
  if (medication) {
    const name = nameFromMedication(medication);
    if (!name.unavailable || !reference.display) return name;
  }
  return nameFromDisplay(reference.display);
}

async function findMedication(
  request: MedicationRequest,
  reference: Reference,
  cache: ReferenceCache,
): Promise<Medication | undefined> {
  const target = reference.reference;
  if (target?.startsWith('#')) {
    const containedId = target.slice(1);
    return request.contained?.find(
      (resource): resource is Medication =>
        resource.resourceType === 'Medication' && resource.id === containedId,
    );
  }

  const parsed = parseReference(target);
  if (parsed?.type !== 'Medication') return undefined;
  const medication = await cache.read('Medication', parsed.id);
  if (!medication)
    logBadData(request.id ?? 'unknown', `referenced Medication/${parsed.id} not found`);
  return medication;
}

/**
 * Names the requester from the referenced resource, falling back to `display` only when the
 * resource cannot be read: the official examples show `display` disagreeing with the resource.
 */
async function resolvePrescriber(
  reference: Reference | undefined,
  cache: ReferenceCache,
): Promise<Prescriber> {
  const fallback = (): Prescriber => {
    const display = reference?.display?.trim();
    return display
      ? { name: display, npi: undefined, unavailable: false }
      : { name: PRESCRIBER_UNAVAILABLE, npi: undefined, unavailable: true };
  };

  const parsed = parseReference(reference?.reference);
  switch (parsed?.type) {
    case 'Practitioner':
      return describePractitioner(await cache.read('Practitioner', parsed.id)) ?? fallback();
    case 'PractitionerRole': {
      const role: PractitionerRole | undefined = await cache.read('PractitionerRole', parsed.id);
      const practitionerId = parseReference(role?.practitioner?.reference);
      const practitioner =
        practitionerId?.type === 'Practitioner'
          ? await cache.read('Practitioner', practitionerId.id)
          : undefined;
      return describePractitioner(practitioner) ?? fallback();
    }
    case 'Organization': {
      const organization: Organization | undefined = await cache.read('Organization', parsed.id);
      const name = organization?.name?.trim();
      return name ? { name, npi: npiOf(organization), unavailable: false } : fallback();
    }
    default:
      return fallback();
  }
}

function describePractitioner(practitioner: Practitioner | undefined): Prescriber | undefined {
  const name = formatHumanName(pickHumanName(practitioner?.name));
  return name ? { name, npi: npiOf(practitioner), unavailable: false } : undefined;
}

function describeStatus(status: string | undefined): PrescriptionStatus {
  return { code: isKnownStatus(status) ? status : 'unknown', label: statusLabel(status) };
}

function describeRefills(request: MedicationRequest): Prescription['refills'] {
  const dispense = request.dispenseRequest;
  if (!dispense) return null;

  const quantityValue = dispense.quantity?.value;
  const quantityUnit = dispense.quantity?.unit ?? dispense.quantity?.code;
  const supply = dispense.expectedSupplyDuration;
  const supplyDays =
    supply?.value !== undefined ? toDays(supply.value, supply.code ?? supply.unit) : null;

  const refills = {
    allowed: dispense.numberOfRepeatsAllowed ?? null,
    quantity:
      quantityValue !== undefined ? [quantityValue, quantityUnit].filter(Boolean).join(' ') : null,
    supplyDays,
  };
  return refills.allowed === null && refills.quantity === null && refills.supplyDays === null
    ? null
    : refills;
}

/** Converts a UCUM duration to days; null for a unit that is not a fixed number of days. */
function toDays(value: number, unit: string | undefined): number | null {
  switch (unit?.toLowerCase()) {
    case 'd':
    case 'day':
    case 'days':
      return value;
    case 'wk':
    case 'week':
    case 'weeks':
      return value * 7;
    default:
      return null;
  }
}

function validDate(value: string | undefined): string | null {
  if (value === undefined || !FHIR_DATE_TIME_PATTERN.test(value)) return null;
  const parsed = Date.parse(value.length === 4 ? `${value}-01-01` : value);
  if (Number.isNaN(parsed)) return null;

  // Date.parse rolls an impossible day over (2023-02-29 becomes March 1), so check it survived.
  const calendarDay = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (calendarDay) {
    const [, year, month, day] = calendarDay.map(Number);
    const check = new Date(Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 1));
    if (check.getUTCMonth() + 1 !== month || check.getUTCDate() !== day) return null;
  }
  return value;
}

/** Maximum length of a refill-of-refill chain followed to find the original order. */
const MAX_REFILL_CHAIN = 20;

/**
 * Keeps refills (`intent=filler-order`) apart from orders: each refill goes under the order at
 * the root of its `basedOn` chain, which may pass through other refills. A refill whose chain
 * loops or leaves the list stays a prescription of its own, so no request disappears.
 */
function groupRefills(requests: MedicationRequest[]): {
  orders: MedicationRequest[];
  refillsByOrderId: Map<string, MedicationRequest[]>;
} {
  const byId = new Map(requests.map((request) => [request.id, request]));
  const refillsByOrderId = new Map<string, MedicationRequest[]>();
  const orders: MedicationRequest[] = [];

  for (const request of requests) {
    const root = request.intent === 'filler-order' ? findRootOrder(request, byId) : undefined;
    if (root?.id) {
      refillsByOrderId.set(root.id, [...(refillsByOrderId.get(root.id) ?? []), request]);
    } else {
      orders.push(request);
    }
  }
  return { orders, refillsByOrderId };
}

function findRootOrder(
  refill: MedicationRequest,
  byId: Map<string | undefined, MedicationRequest>,
): MedicationRequest | undefined {
  const visited = new Set<string | undefined>([refill.id]);
  let current = refill;
  for (let step = 0; step < MAX_REFILL_CHAIN; step += 1) {
    const parentId = parseReference(
      current.basedOn?.find(
        (reference) => parseReference(reference.reference)?.type === 'MedicationRequest',
      )?.reference,
    )?.id;
    const parent = byId.get(parentId);
    if (!parent || visited.has(parent.id)) return undefined;
    if (parent.intent !== 'filler-order') return parent;

    visited.add(parent.id);
    current = parent;
  }
  return undefined;
}

/** Returns whether the request's subject is the patient; logs the request id when it is not. */
export function isOwnedBy(request: MedicationRequest, patientId: string): boolean {
  const subject = parseReference(request.subject?.reference);
  if (subject?.type === 'Patient' && subject.id === patientId) return true;

  logBadData(request.id ?? 'unknown', 'returned for another subject');
  return false;
}

function compareForList(a: Prescription, b: Prescription): number {
  const activeOrder = Number(b.status.code === 'active') - Number(a.status.code === 'active');
  return activeOrder !== 0 ? activeOrder : compareDatesDescending(a.dateWritten, b.dateWritten);
}

function compareDatesDescending(a: string | null, b: string | null): number {
  return toTimestamp(b) - toTimestamp(a);
}

/** Milliseconds since the epoch of a FHIR date or dateTime; a missing date sorts as oldest. */
function toTimestamp(value: string | null): number {
  if (value === null) return 0;
  const parsed = Date.parse(value.length === 4 ? `${value}-01-01` : value);
  return Number.isNaN(parsed) ? 0 : parsed;
}

function logBadData(medicationRequestId: string, problem: string): void {
  getLogger().warn({ medicationRequestId, problem }, 'MedicationRequest has bad data');
}

export { MEDICATION_NAME_UNAVAILABLE };
