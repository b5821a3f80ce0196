/**
 * Canvas's rules for Appointment, checked on every HTTP create and update. They follow the
 * Appointment page of the Canvas FHIR API documentation
 * (https://docs.canvasmedical.com/api/appointment/), narrowed to what the portal books:
 * - `appointmentType` carries one of the configured types in ACCEPTED_APPOINTMENT_TYPES,
 * - `participant` has exactly one Patient actor and at least one Practitioner actor,
 * - `start` and `end` are present and `end` is after `start`,
 * - each `slot` is a stored Slot whose status is `free`, and
 * - each `supportingInformation` reference resolves: `Location/<id>` to a stored Location, and
 *   `#<id>` to a contained resource, such as the Endpoint that carries a video link.
 * A broken rule gets 422 with one `processing` issue per problem.
 *
 * NOTE: Canvas's documentation names the contained meeting Endpoint
 * `appointment-meeting-endpoint-0`. The sandbox accepts any contained id, so it cannot catch a
 * client that uses another one.
 *
 * Booking never changes a Slot, because Canvas allows double booking by default. The seed stores
 * its resources without these checks.
 */

import type { Appointment, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { Temporal } from 'temporal-polyfill';

import {
  processingIssue,
  unprocessableResponse,
  type FhirEngineResponse,
} from './fhir-responses.js';

const SNOMED_SYSTEM = 'http://snomed.info/sct';

/** Appointment types configured on the sandbox's Canvas instance, as SNOMED CT codings. */
export const ACCEPTED_APPOINTMENT_TYPES = [
  { system: SNOMED_SYSTEM, code: '448337001', display: 'Telemedicine consultation with patient' },
  { system: SNOMED_SYSTEM, code: '185389009', display: 'Follow-up visit' },
] as const;

/** Reads a stored resource by type and id, or returns undefined when there is none. */
export type StoredResourceReader = (
  resourceType: 'Slot' | 'Location',
  id: string,
) => Promise<Resource | undefined>;

const ID = '[A-Za-z0-9\\-.]{1,64}';
const ACTOR_PATTERN = new RegExp(`^(Patient|Practitioner)/${ID}$`);
const SLOT_PATTERN = new RegExp(`^Slot/(${ID})$`);
const LOCATION_PATTERN = new RegExp(`^Location/(${ID})$`);

/**
 * Checks an Appointment create or update against Canvas's rules and returns a 422 response that
 * lists every broken rule, or undefined when the Appointment may be stored. The body has not been
 * validated yet, so every element is checked for its shape before it is read.
 */
export async function rejectInvalidAppointment(
  appointment: Appointment,
  readStored: StoredResourceReader,
): Promise<FhirEngineResponse | undefined> {
  const issues = [
    ...checkAppointmentType(appointment),
    ...checkParticipants(appointment),
    ...checkPeriod(appointment),
    ...(await checkSlots(appointment, readStored)),
    ...(await checkSupportingInformation(appointment, readStored)),
  ];
  return issues.length > 0 ? unprocessableResponse(issues) : undefined;
}

function checkAppointmentType(appointment: Appointment): OperationOutcomeIssue[] {
  const expected = ACCEPTED_APPOINTMENT_TYPES.map(
    (type) => `${type.system}|${type.code} (${type.display})`,
  ).join(' or ');
  const codings = asArray(appointment.appointmentType?.coding);
  const accepted = codings.some((coding) =>
    ACCEPTED_APPOINTMENT_TYPES.some(
      (type) => coding?.system === type.system && coding.code === type.code,
    ),
  );
  if (accepted) {
    return [];
  }

  const sent = codings.map((coding) => `${coding?.system ?? '(no system)'}|${coding?.code ?? ''}`);
  const text =
    sent.length === 0
      ? `Appointment.appointmentType is missing or has no coding. Send a coding of ${expected}.`
      : `Appointment.appointmentType ${sent.join(', ')} is not an appointment type configured on Canvas. Send a coding of ${expected}.`;
  return [processingIssue('Appointment.appointmentType', text)];
}

function checkParticipants(appointment: Appointment): OperationOutcomeIssue[] {
  const counts = { Patient: 0, Practitioner: 0 };
  for (const participant of asArray(appointment.participant)) {
    const reference = participant?.actor?.reference;
    const match = typeof reference === 'string' ? ACTOR_PATTERN.exec(reference) : null;
    if (match?.[1] === 'Patient' || match?.[1] === 'Practitioner') {
      counts[match[1]] += 1;
    }
  }

  const issues: OperationOutcomeIssue[] = [];
  if (counts.Patient !== 1) {
    issues.push(
      processingIssue(
        'Appointment.participant',
        `Appointment.participant must have exactly one actor of the form Patient/<id>, but it has ${counts.Patient}.`,
      ),
    );
  }
  if (counts.Practitioner === 0) {
    issues.push(
      processingIssue(
        'Appointment.participant',
        'Appointment.participant must have at least one actor of the form Practitioner/<id>, but it has none.',
      ),
    );
  }
  return issues;
}

function checkPeriod(appointment: Appointment): OperationOutcomeIssue[] {
  const start = parseInstant(appointment.start);
  const end = parseInstant(appointment.end);
  const issues: OperationOutcomeIssue[] = [];

  for (const [element, value, parsed] of [
    ['start', appointment.start, start],
    ['end', appointment.end, end],
  ] as const) {
    if (value === undefined) {
      issues.push(
        processingIssue(
          `Appointment.${element}`,
          `Appointment.${element} is missing. Canvas requires start and end on every appointment.`,
        ),
      );
    } else if (!parsed) {
      issues.push(
        processingIssue(
          `Appointment.${element}`,
          `Appointment.${element} "${String(value)}" is not a FHIR instant such as 2026-12-07T14:00:00Z.`,
        ),
      );
    }
  }

  if (start && end && Temporal.Instant.compare(end, start) <= 0) {
    issues.push(
      processingIssue(
        ['Appointment.start', 'Appointment.end'],
        `Appointment.end (${appointment.end ?? ''}) must be after Appointment.start (${appointment.start ?? ''}).`,
      ),
    );
  }
  return issues;
}

async function checkSlots(
  appointment: Appointment,
  readStored: StoredResourceReader,
): Promise<OperationOutcomeIssue[]> {
  const issues: OperationOutcomeIssue[] = [];

  for (const [index, slot] of asArray(appointment.slot).entries()) {
    const expression = `Appointment.slot[${index}]`;
    const reference = slot?.reference;
    const id = typeof reference === 'string' ? SLOT_PATTERN.exec(reference)?.[1] : undefined;
    if (!id) {
      issues.push(
        processingIssue(
          expression,
          `${expression} must be a reference of the form Slot/<id>, but it is ${describeReference(reference)}.`,
        ),
      );
      continue;
    }

    const stored = await readStored('Slot', id);
    if (stored?.resourceType !== 'Slot') {
      issues.push(
        processingIssue(
          expression,
          `${expression} refers to Slot/${id}, which does not exist, so the slot is rejected. Book a Slot from a Slot search.`,
        ),
      );
    } else if (stored.status !== 'free') {
      issues.push(
        processingIssue(
          expression,
          `${expression} refers to Slot/${id}, whose status is ${stored.status} and not free, so the slot is rejected. Book a free Slot from a Slot search.`,
        ),
      );
    }
  }
  return issues;
}

async function checkSupportingInformation(
  appointment: Appointment,
  readStored: StoredResourceReader,
): Promise<OperationOutcomeIssue[]> {
  const containedIds = new Set(
    asArray(appointment.contained).flatMap((resource) =>
      typeof resource?.id === 'string' ? [resource.id] : [],
    ),
  );
  const issues: OperationOutcomeIssue[] = [];

  for (const [index, information] of asArray(appointment.supportingInformation).entries()) {
    const expression = `Appointment.supportingInformation[${index}]`;
    const reference = information?.reference;
    if (typeof reference !== 'string') {
      continue;
    }

    if (reference.startsWith('#')) {
      if (!containedIds.has(reference.slice(1))) {
        issues.push(
          processingIssue(
            expression,
            `${expression} refers to the contained resource "${reference}", but Appointment.contained has no resource with id "${reference.slice(1)}".`,
          ),
        );
      }
      continue;
    }

    const locationId = LOCATION_PATTERN.exec(reference)?.[1];
    if (locationId && (await readStored('Location', locationId))?.resourceType !== 'Location') {
      issues.push(
        processingIssue(
          expression,
          `${expression} refers to Location/${locationId}, which does not exist. Use an id from a Location search.`,
        ),
      );
    }
  }
  return issues;
}

/** Parses a FHIR instant; FHIR requires the seconds and a UTC offset or `Z`. */
function parseInstant(value: unknown): Temporal.Instant | undefined {
  const pattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
  if (typeof value !== 'string' || !pattern.test(value)) {
    return undefined;
  }
  try {
    return Temporal.Instant.from(value);
  } catch {
    return undefined;
  }
}

/**
 * Returns the elements of an array, or none for a value of another shape. Elements may be
 * undefined or of another type, because the body has not been validated.
 */
function asArray<T>(value: readonly T[] | undefined): readonly (T | undefined)[] {
  // Array.isArray narrows to any[], so the element type is restored here.
  return Array.isArray(value) ? (value as readonly T[]) : [];
}

function describeReference(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : 'a reference without a target';
}
