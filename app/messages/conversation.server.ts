import type { Communication, Patient, Reference } from '@medplum/fhirtypes';

import type { PatientSession } from '~/auth/session.server';
import { getEnv } from '~/config/env.server';
import { readResource, searchResources } from '~/clients/fhir.server';
import {
  findAssignedPractitioner,
  startCareTeamSearch,
  type AssignedPractitioner,
} from '~/patients/care-team.server';
import { formatHumanName, pickHumanName } from '~/patients/fhir-format';
import { PatientNotFoundError } from '~/patients/profile.server';
import { patientTimeZone } from '~/patients/time-zone';
import { parseReference } from '~/prescriptions/reference-cache.server';

import { compareMessages, type ConversationMessage } from './message';
import { toMessageParts } from './message-parts.server';
import { readPractitionerNames } from './practitioner-names.server';
import { markMessagesRead, selectReadMessageIds } from './read-receipts.server';

/** How far back a poll looks when the conversation had no dated message to start from. */
const EMPTY_CURSOR_LOOKBACK_MS = 60_000;

/** The conversation a patient opens on `/messages` and `GET /api/patient/messages`. */
export interface Conversation {
  messages: ConversationMessage[];
  /** Pass back as `since` to poll for newer messages. */
  cursor: string;
  /** IANA time zone in which the page shows times. */
  timeZone: string;
  /** The practitioner who receives the patient's messages, or null when none is assigned. */
  practitioner: { id: string; name: string } | null;
}

/** Result of a poll: only the messages updated since the cursor, and the next cursor. */
export interface ConversationUpdate {
  messages: ConversationMessage[];
  cursor: string;
}

/**
 * Reads every Communication in which the patient is the subject, the sender or a recipient,
 * following every page, and returns them oldest first. Opening the conversation marks the care
 * team's messages read, and `isNew` marks the ones that were unread until now.
 */
export async function openConversation(session: PatientSession): Promise<Conversation> {
  const { patientId } = session;
  const patientReference = `Patient/${patientId}`;

  const careTeams = startCareTeamSearch(patientId);
  const [patient, ...searches] = await Promise.all([
    readResource('Patient', patientId),
    searchResources('Communication', { patient: patientReference }),
    searchResources('Communication', { sender: patientReference }),
    searchResources('Communication', { recipient: patientReference }),
  ]);
  if (!patient) throw new PatientNotFoundError(`Patient ${patientId} was not found in FHIR`);

  const communications = uniqueById(searches.flat()).filter((communication) =>
    involvesPatient(communication, patientId),
  );
  const [assigned, messages] = await Promise.all([
    findAssignedPractitioner({ ...patient, id: patientId }, { careTeams }),
    toConversationMessages(communications, patientId, patient),
  ]);

  return {
    messages,
    cursor: nextCursor(communications, undefined),
    timeZone: patientTimeZone(patient, getEnv().scheduling.clinicTimeZone),
    practitioner: assigned ? await describePractitioner(assigned) : null,
  };
}

/**
 * Returns the messages addressed to the patient that changed after `since`, with one
 * FHIR search, and marks the care team's ones read. The patient's own messages reach the page
 * when they are sent, so a poll only looks for replies.
 */
export async function pollConversation(
  session: PatientSession,
  since: string,
): Promise<ConversationUpdate> {
  const { patientId } = session;
  // NOTE: Canvas documents only patient, sender and recipient for Communication search. If it
  // ignores _lastUpdated, the filter below still returns only newer messages, at the cost of
  // reading every page; /sandbox/stats shows the calls per poll.
  const found = await searchResources('Communication', {
    recipient: `Patient/${patientId}`,
    _lastUpdated: `gt${since}`,
  });
  const sinceMs = Date.parse(since);
  const communications = found.filter(
    (communication) =>
      involvesPatient(communication, patientId) &&
      Date.parse(communication.meta?.lastUpdated ?? communication.sent ?? since) > sinceMs,
  );

  return {
    messages: await toConversationMessages(communications, patientId, undefined),
    cursor: nextCursor(communications, since),
  };
}

/**
 * Counts care-team messages addressed to the patient that the patient has not opened, for the
 * dashboard and notifications. One FHIR search and one query.
 */
export async function countUnreadMessages(session: PatientSession): Promise<number> {
  const { patientId } = session;
  const received = await searchResources('Communication', { recipient: `Patient/${patientId}` });
  const careTeamIds = received
    .filter((communication) => isAddressedToPatient(communication, patientId))
    .flatMap((communication) => (communication.id ? [communication.id] : []));

  const read = await selectReadMessageIds(patientId, careTeamIds);
  return careTeamIds.filter((id) => !read.has(id)).length;
}

async function toConversationMessages(
  communications: Communication[],
  patientId: string,
  patient: Patient | undefined,
): Promise<ConversationMessage[]> {
  // Only messages addressed to the patient can be unread, as the dashboard counts them.
  const careTeamIds = communications
    .filter((communication) => isAddressedToPatient(communication, patientId))
    .flatMap((communication) => (communication.id ? [communication.id] : []));
  const unreadable = new Set(careTeamIds);
  const [names, alreadyRead] = await Promise.all([
    readPractitionerNames(communications.map((communication) => communication.sender)),
    selectReadMessageIds(patientId, careTeamIds),
  ]);
  await markMessagesRead(patientId, careTeamIds);

  const patientName = formatHumanName(pickHumanName(patient?.name));
  return communications
    .flatMap((communication): ConversationMessage[] => {
      if (!communication.id) return [];
      const fromPatient = isSentByPatient(communication, patientId);
      return [
        {
          id: communication.id,
          sentAt: communication.sent ?? communication.meta?.lastUpdated ?? null,
          lastUpdated: communication.meta?.lastUpdated ?? null,
          from: fromPatient ? 'patient' : 'care-team',
          senderName: fromPatient ? (patientName ?? 'You') : senderNameOf(communication, names),
          parts: toMessageParts(communication.payload, fromPatient),
          isNew: unreadable.has(communication.id) && !alreadyRead.has(communication.id),
        },
      ];
    })
    .sort(compareMessages);
}

/**
 * Names the sender of a message the patient did not write: the Practitioner's name, a
 * contained resource's name, the reference's `display`, or a generic label.
 */
function senderNameOf(communication: Communication, names: Map<string, string>): string {
  const sender = communication.sender;
  const parsed = parseReference(sender?.reference);
  if (parsed?.type === 'Practitioner') {
    const name = names.get(parsed.id);
    if (name) return name;
  }
  if (sender?.reference?.startsWith('#')) {
    const contained = communication.contained?.find(
      (resource) => `#${resource.id}` === sender.reference,
    );
    if (contained && 'name' in contained) {
      const name =
        typeof contained.name === 'string'
          ? contained.name
          : formatHumanName(pickHumanName(contained.name));
      if (name) return name;
    }
  }
  if (sender?.display?.trim()) return sender.display.trim();
  if (parsed?.type === 'Device') return 'Automated message';
  return 'Your care team';
}

async function describePractitioner(
  assigned: AssignedPractitioner,
): Promise<{ id: string; name: string }> {
  const names = await readPractitionerNames([{ reference: `Practitioner/${assigned.id}` }]);
  return { id: assigned.id, name: names.get(assigned.id) ?? assigned.display ?? 'Your clinician' };
}

/**
 * True when the patient is the subject, the sender or a recipient. Results are checked again
 * here, because a server that ignored a search parameter would return other patients' messages.
 */
export function involvesPatient(communication: Communication, patientId: string): boolean {
  const references: (Reference | undefined)[] = [
    communication.subject,
    communication.sender,
    ...(communication.recipient ?? []),
  ];
  return references.some((reference) => isPatientReference(reference, patientId));
}

/** True when the patient is a recipient of a message someone else sent. */
export function isAddressedToPatient(communication: Communication, patientId: string): boolean {
  return (
    !isSentByPatient(communication, patientId) &&
    (communication.recipient ?? []).some((reference) => isPatientReference(reference, patientId))
  );
}

export function isSentByPatient(communication: Communication, patientId: string): boolean {
  return isPatientReference(communication.sender, patientId);
}

function isPatientReference(reference: Reference | undefined, patientId: string): boolean {
  const parsed = parseReference(reference?.reference);
  return parsed?.type === 'Patient' && parsed.id === patientId;
}

function uniqueById(communications: Communication[]): Communication[] {
  const byId = new Map<string, Communication>();
  for (const communication of communications) {
    if (communication.id && !byId.has(communication.id)) byId.set(communication.id, communication);
  }
  return [...byId.values()];
}

/**
 * Returns the newest `meta.lastUpdated` seen, which the next poll starts from. Without one, a poll
 * starts a minute before now, so a reply written while the page loaded is not missed.
 */
function nextCursor(communications: Communication[], previous: string | undefined): string {
  let newest = previous ? Date.parse(previous) : Number.NEGATIVE_INFINITY;
  for (const communication of communications) {
    const updated = Date.parse(communication.meta?.lastUpdated ?? '');
    if (updated > newest) newest = updated;
  }
  if (Number.isFinite(newest)) return new Date(newest).toISOString();
  return new Date(Date.now() - EMPTY_CURSOR_LOOKBACK_MS).toISOString();
}
