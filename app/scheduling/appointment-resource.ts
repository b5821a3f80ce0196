import type { Appointment, Endpoint, Reference } from '@medplum/fhirtypes';

/** The telehealth appointment type Canvas accepts: SNOMED CT 448337001. */
export const TELEHEALTH_APPOINTMENT_TYPE = {
  coding: [
    {
      system: 'http://snomed.info/sct',
      code: '448337001',
      display: 'Telemedicine consultation with patient',
    },
  ],
};

/** `id` Canvas documents for the contained Endpoint that carries the video link. */
const MEETING_ENDPOINT_ID = 'appointment-meeting-endpoint-0';

/**
 * `Identifier.system` of the booking ledger row id on an Appointment the portal creates. The value
 * is `urn:uuid:<booking id>`, FHIR's form for an identifier that is itself a URI.
 */
const URI_IDENTIFIER_SYSTEM = 'urn:ietf:rfc:3986';

export interface NewAppointment {
  patientId: string;
  practitionerId: string;
  slotId: string;
  start: Date;
  end: Date;
  /** `Location/<id>` of the practitioner's Schedule, when known. */
  location: string | undefined;
  joinUrl: string;
  /** Id of the booking ledger row, kept in `identifier` so a reconciler can match the two. */
  bookingId: string;
}

/**
 * Builds the FHIR Appointment the portal creates in Canvas: booked, telehealth type, patient
 * and practitioner both accepted, and in `supportingInformation` the location and a contained
 * Endpoint whose `address` is the Zoom join link.
 */
export function buildAppointment(input: NewAppointment): Appointment {
  const minutes = Math.round((input.end.getTime() - input.start.getTime()) / 60_000);
  const supportingInformation: Reference[] = [
    ...(input.location ? [{ reference: input.location, type: 'Location' as const }] : []),
    { reference: `#${MEETING_ENDPOINT_ID}`, type: 'Endpoint' as const },
  ];
  return {
    resourceType: 'Appointment',
    // NOTE: Canvas documents searching Appointments by identifier but not whether a create keeps
    // any identifier the client sends. The reconciler also matches by join link for that reason.
    identifier: [{ system: URI_IDENTIFIER_SYSTEM, value: `urn:uuid:${input.bookingId}` }],
    status: 'booked',
    appointmentType: TELEHEALTH_APPOINTMENT_TYPE,
    description: 'Video visit',
    start: toInstant(input.start),
    end: toInstant(input.end),
    minutesDuration: minutes,
    slot: [{ reference: `Slot/${input.slotId}`, type: 'Slot' }],
    contained: [meetingEndpoint(input.joinUrl)],
    supportingInformation,
    participant: [
      {
        actor: { reference: `Patient/${input.patientId}`, type: 'Patient' },
        required: 'required',
        status: 'accepted',
      },
      {
        actor: { reference: `Practitioner/${input.practitionerId}`, type: 'Practitioner' },
        required: 'required',
        status: 'accepted',
      },
    ],
  };
}

/** Returns the appointment moved to a new time and slot, and with the join link given. */
export function rescheduleAppointment(
  appointment: Appointment,
  change: { slotId: string; start: Date; end: Date; joinUrl: string | undefined },
): Appointment {
  const minutes = Math.round((change.end.getTime() - change.start.getTime()) / 60_000);
  const moved: Appointment = {
    ...appointment,
    start: toInstant(change.start),
    end: toInstant(change.end),
    minutesDuration: minutes,
    slot: [{ reference: `Slot/${change.slotId}`, type: 'Slot' }],
  };
  if (change.joinUrl && !joinUrlOf(appointment)) {
    moved.contained = [
      ...(appointment.contained ?? []).filter((resource) => resource.id !== MEETING_ENDPOINT_ID),
      meetingEndpoint(change.joinUrl),
    ];
    moved.supportingInformation = [
      ...(appointment.supportingInformation ?? []),
      { reference: `#${MEETING_ENDPOINT_ID}`, type: 'Endpoint' },
    ];
  }
  return moved;
}

/** Returns the appointment cancelled with `cancelationReason` (FHIR R4 spells it so). */
export function cancelAppointment(appointment: Appointment, reason: string): Appointment {
  return {
    ...appointment,
    status: 'cancelled',
    cancelationReason: { text: reason },
    // The meeting is deleted, so its link is marked off.
    contained: appointment.contained?.map((resource) =>
      resource.resourceType === 'Endpoint' && resource.id === MEETING_ENDPOINT_ID
        ? { ...resource, status: 'off' as const }
        : resource,
    ),
  };
}

/** Reads the join link from a contained Endpoint named in `supportingInformation`. */
export function joinUrlOf(appointment: Appointment): string | undefined {
  for (const reference of appointment.supportingInformation ?? []) {
    if (!reference.reference?.startsWith('#')) continue;
    const contained = appointment.contained?.find(
      (resource) => `#${resource.id}` === reference.reference,
    );
    if (contained?.resourceType === 'Endpoint' && /^https:\/\//.test(contained.address)) {
      return contained.address;
    }
  }
  return undefined;
}

/** True when the appointment carries the identifier buildAppointment gives a booking's visit. */
export function hasBookingIdentifier(appointment: Appointment, bookingId: string): boolean {
  return (appointment.identifier ?? []).some(
    (identifier) =>
      identifier.system === URI_IDENTIFIER_SYSTEM && identifier.value === `urn:uuid:${bookingId}`,
  );
}

/** Returns the practitioner id among the appointment's participants. */
export function practitionerOf(appointment: Appointment): string | undefined {
  for (const participant of appointment.participant) {
    const match = /^Practitioner\/([A-Za-z0-9\-.]{1,64})$/.exec(participant.actor?.reference ?? '');
    if (match?.[1]) return match[1];
  }
  return undefined;
}

/** True when `Patient/<patientId>` is one of the appointment's participants. */
export function hasPatient(appointment: Appointment, patientId: string): boolean {
  return appointment.participant.some(
    (participant) => participant.actor?.reference === `Patient/${patientId}`,
  );
}

function meetingEndpoint(joinUrl: string): Endpoint {
  return {
    resourceType: 'Endpoint',
    id: MEETING_ENDPOINT_ID,
    status: 'active',
    name: 'Zoom video visit',
    connectionType: { code: 'https' },
    payloadType: [{ coding: [{ code: 'video-call' }], text: 'Video call' }],
    address: joinUrl,
  };
}

/** Formats a time as a FHIR instant in UTC to the second, e.g. `2026-12-07T14:00:00Z`. */
export function toInstant(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
