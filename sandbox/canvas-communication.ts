/**
 * Canvas's rules for Communication, the resource that carries patient messages. They follow the
 * "Communication create" page of the Canvas FHIR API documentation
 * (https://docs.canvasmedical.com/api/communication/):
 * - the sender and the one recipient are a Patient and a Practitioner, one of each,
 * - `payload[].contentString` is required,
 * - a message is stored as `completed` whatever status the client sent, and
 * - `sent` defaults to the time of the create.
 * Canvas has no update interaction for Communication, so the sandbox returns 405 for a PUT.
 *
 * The engine applies these rules to HTTP creates only. Seeded resources, including the official
 * FHIR examples whose senders are a Device or an Organization, are stored as they are.
 */

import type {
  Communication,
  OperationOutcome,
  OperationOutcomeIssue,
  Reference,
} from '@medplum/fhirtypes';

import { processingIssue, type FhirEngineResponse } from './fhir-responses.js';

/** Message of the 405 that a `PUT /Communication/<id>` receives. */
export const COMMUNICATION_UPDATE_REJECTION =
  'Canvas does not allow updating a Communication. Create a new Communication instead.';

const PARTICIPANT_REFERENCE_PATTERN = /^(Patient|Practitioner)\/[A-Za-z0-9\-.]{1,64}$/;

type ParticipantType = 'Patient' | 'Practitioner';

/** One `sender` or `recipient` entry, with the FHIRPath of the element it came from. */
interface Participant {
  expression: string;
  reference: Reference | undefined;
}

/**
 * Sets what Canvas sets on a new Communication: `status` becomes `completed`, and a missing `sent`
 * becomes `now`. Call it before validation, so that a body without `status` is accepted as on
 * Canvas.
 */
export function prepareCommunicationCreate(communication: Communication, now: Date): void {
  communication.status = 'completed';
  communication.sent ??= now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Checks a Communication create against Canvas's rules and returns a 422 response that lists
 * every broken rule, or undefined when the Communication may be stored.
 */
export function rejectInvalidCommunication(
  communication: Communication,
): FhirEngineResponse | undefined {
  const issues = [...checkParticipants(communication), ...checkPayload(communication)];
  if (issues.length === 0) {
    return undefined;
  }

  const outcome: OperationOutcome = { resourceType: 'OperationOutcome', issue: issues };
  return { status: 422, body: outcome, headers: {} };
}

function checkParticipants(communication: Communication): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];

  if (!communication.sender) {
    issues.push(
      processingIssue(
        'Communication.sender',
        'Communication.sender is missing: set it to the Patient or the Practitioner who sent the message.',
      ),
    );
  }
  const recipients = communication.recipient ?? [];
  if (recipients.length !== 1) {
    issues.push(
      processingIssue(
        'Communication.recipient',
        `Communication.recipient must contain exactly one reference, but it contains ${recipients.length}.`,
      ),
    );
  }

  const participants: Participant[] = [
    ...(communication.sender
      ? [{ expression: 'Communication.sender', reference: communication.sender }]
      : []),
    ...recipients.map((reference, index) => ({
      expression: `Communication.recipient[${index}]`,
      reference,
    })),
  ];

  const counts: Record<ParticipantType, number> = { Patient: 0, Practitioner: 0 };
  for (const participant of participants) {
    const type = participantType(participant.reference);
    if (type) {
      counts[type] += 1;
    } else {
      issues.push(
        processingIssue(
          participant.expression,
          `${participant.expression} must be a reference of the form Patient/<id> or Practitioner/<id>, but it is ${describeReference(participant.reference)}.`,
        ),
      );
    }
  }

  for (const type of ['Patient', 'Practitioner'] as const) {
    if (counts[type] !== 1) {
      issues.push(
        processingIssue(
          ['Communication.sender', 'Communication.recipient'],
          `Between sender and recipient there must be exactly one ${type}, but there are ${counts[type]}.`,
        ),
      );
    }
  }
  return issues;
}

function checkPayload(communication: Communication): OperationOutcomeIssue[] {
  const hasText = (communication.payload ?? []).some(
    (payload) => (payload.contentString ?? '').trim() !== '',
  );
  if (hasText) {
    return [];
  }
  return [
    processingIssue(
      'Communication.payload',
      'Communication.payload must contain an entry with a non-empty contentString, the text of the message.',
    ),
  ];
}

function participantType(reference: Reference | undefined): ParticipantType | undefined {
  const target = reference?.reference ?? '';
  if (!PARTICIPANT_REFERENCE_PATTERN.test(target)) {
    return undefined;
  }
  return target.startsWith('Patient/') ? 'Patient' : 'Practitioner';
}

function describeReference(reference: Reference | undefined): string {
  if (reference?.reference) {
    return `"${reference.reference}"`;
  }
  return reference?.identifier ? 'a reference by identifier only' : 'a reference without a target';
}
