import type { Communication } from '@medplum/fhirtypes';
import { z } from 'zod';

import type { PatientSession } from '~/auth/session.server';
import { createResource, readResource, searchResources } from '~/clients/fhir.server';
import { runIdempotent, type IdempotentAttempt } from '~/http/idempotency.server';
import { findAssignedPractitioner, NoAssignedPractitionerError } from '~/patients/care-team.server';
import { formatHumanName, pickHumanName } from '~/patients/fhir-format';
import { PatientNotFoundError } from '~/patients/profile.server';
import { parseReference } from '~/prescriptions/reference-cache.server';
import { getLogger } from '~/utils/logger.server';

import { MESSAGE_MAX_CHARACTERS, type ConversationMessage } from './message';

/** Clock allowance when matching a write whose response was lost to the attempt that made it. */
const CLOCK_SKEW_MS = 5_000;

/** Text with nothing a reader would see: empty, or only spaces and zero-width characters. */
const INVISIBLE_ONLY = /^[\s\u200B-\u200D\u2060\uFEFF]*$/;
/** C0 and C1 control characters other than tab, line feed and carriage return. */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
/** A UTF-16 surrogate without its pair, which no text encoding can carry. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A message as the patient submits it, from the page's form or the JSON API. */
export const messageInputSchema = z.strictObject({
  text: z
    .string({ error: 'Write a message before sending.' })
    .trim()
    .refine((text) => INVISIBLE_ONLY.test(text) === false, 'Write a message before sending.')
    .refine(
      (text) => !CONTROL_CHARACTERS.test(text) && !LONE_SURROGATE.test(text),
      'Remove the unusual characters from your message (for example pasted control characters).',
    )
    .refine((text) => [...text].length <= MESSAGE_MAX_CHARACTERS, {
      error: (issue) =>
        `Messages can be up to ${MESSAGE_MAX_CHARACTERS.toLocaleString('en-US')} characters. Yours has ${String([...(issue.input as string)].length)}.`,
    }),
});

export type MessageInput = z.infer<typeof messageInputSchema>;

/**
 * Sends the patient's message to their assigned practitioner as a FHIR Communication, at most
 * once per idempotency key. A retry after a failure that may have reached FHIR first looks for
 * the Communication that attempt may have created.
 */
export async function sendMessage(
  session: PatientSession,
  input: MessageInput,
  idempotencyKey: string | undefined,
): Promise<{ message: ConversationMessage; replayed: boolean }> {
  const { result, replayed } = await runIdempotent({
    patientId: session.patientId,
    operation: 'send-message',
    key: idempotencyKey,
    request: input,
    perform: (attempt) => createCommunication(session, input.text, attempt),
  });
  return { message: result, replayed };
}

async function createCommunication(
  session: PatientSession,
  text: string,
  attempt: IdempotentAttempt,
): Promise<ConversationMessage> {
  const { patientId } = session;
  const patient = await readResource('Patient', patientId);
  if (!patient) throw new PatientNotFoundError(`Patient ${patientId} was not found in FHIR`);

  const practitioner = await findAssignedPractitioner({ ...patient, id: patientId });
  if (!practitioner) {
    throw new NoAssignedPractitionerError(`Patient ${patientId} has no assigned practitioner`);
  }

  const senderName = formatHumanName(pickHumanName(patient.name)) ?? 'You';
  if (attempt.earlierOutcomeUnknown) {
    const earlier = await findEarlierWrite(
      patientId,
      practitioner.id,
      text,
      attempt.firstClaimedAt,
    );
    if (earlier) {
      getLogger().info(
        { patientId, communicationId: earlier.id },
        'message found from an earlier attempt',
      );
      return toSentMessage(earlier, text, senderName);
    }
  }

  // NOTE: the text goes to Canvas as typed. Canvas allows HTML in contentString, and whether its
  // clinician view escapes patient text is not verified; escaping here would change what it shows.
  const created = await createResource<Communication>({
    resourceType: 'Communication',
    status: 'completed',
    sender: { reference: `Patient/${patientId}`, type: 'Patient' },
    recipient: [{ reference: `Practitioner/${practitioner.id}`, type: 'Practitioner' }],
    sent: new Date().toISOString(),
    payload: [{ contentString: text }],
  });
  getLogger().info({ patientId, communicationId: created.id }, 'message sent');
  return toSentMessage(created, text, senderName);
}

/**
 * Finds a Communication an earlier attempt created: sent by the patient to the practitioner
 * after the key was first claimed, with the same text. Canvas keeps no client-chosen
 * identifier that could be searched for.
 */
async function findEarlierWrite(
  patientId: string,
  practitionerId: string,
  text: string,
  firstClaimedAt: Date,
): Promise<(Communication & { id: string }) | undefined> {
  const sent = await searchResources('Communication', { sender: `Patient/${patientId}` });
  const earliest = firstClaimedAt.getTime() - CLOCK_SKEW_MS;
  return sent.find(
    (communication): communication is Communication & { id: string } =>
      communication.id !== undefined &&
      Date.parse(communication.sent ?? '') >= earliest &&
      (communication.recipient ?? []).some((recipient) => {
        const parsed = parseReference(recipient.reference);
        return parsed?.type === 'Practitioner' && parsed.id === practitionerId;
      }) &&
      communication.payload?.some((item) => item.contentString?.trim() === text) === true,
  );
}

function toSentMessage(
  communication: Communication & { id: string },
  text: string,
  senderName: string,
): ConversationMessage {
  const sentAt = communication.sent ?? new Date().toISOString();
  return {
    id: communication.id,
    sentAt,
    lastUpdated: communication.meta?.lastUpdated ?? null,
    from: 'patient',
    senderName,
    parts: [{ kind: 'text', text }],
    isNew: false,
  };
}
