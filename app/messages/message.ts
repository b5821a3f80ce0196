/**
 * The conversation as the portal's pages and JSON API return it. Client-safe: the page's
 * components and the polling code import these types and helpers.
 */

/** One part of a message (FHIR `Communication.payload[]`). */
export type MessagePart =
  | { kind: 'text'; text: string }
  /** HTML from the EHR, already reduced to the portal's allow-list on the server. */
  | { kind: 'html'; html: string }
  | {
      kind: 'attachment';
      title: string;
      contentType: string | undefined;
      typeLabel: string;
      sizeBytes: number | undefined;
    }
  | { kind: 'reference'; label: string };

export interface ConversationMessage {
  /** `Communication.id`. */
  id: string;
  /** `Communication.sent`, else `meta.lastUpdated`, as an ISO 8601 instant; null when neither is set. */
  sentAt: string | null;
  /** `meta.lastUpdated`, used as the polling cursor; null when the server sent none. */
  lastUpdated: string | null;
  /** `patient` when the signed-in patient sent it, otherwise the care team (or a system) did. */
  from: 'patient' | 'care-team';
  senderName: string;
  parts: MessagePart[];
  /** For care-team messages: true when the patient had not seen it before this response. */
  isNew: boolean;
}

/** Most characters (Unicode code points) a message may have, counted after trimming. */
export const MESSAGE_MAX_CHARACTERS = 2000;

/** Text shown to a patient who has no practitioner to receive their messages. */
export const NO_PRACTITIONER_MESSAGE =
  'You do not have a clinician assigned yet, so messages cannot be sent from the portal. Please call the pharmacy and we will connect you with your care team.';

/** Orders messages oldest first by `sentAt`, then by id so the order is stable. */
export function compareMessages(a: ConversationMessage, b: ConversationMessage): number {
  const byTime = timeOf(a) - timeOf(b);
  if (byTime !== 0) return byTime;
  // Servers may keep `sent` to the second, so the update time breaks ties.
  const byUpdate = Date.parse(a.lastUpdated ?? '') - Date.parse(b.lastUpdated ?? '');
  if (!Number.isNaN(byUpdate) && byUpdate !== 0) return byUpdate;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}

function timeOf(message: ConversationMessage): number {
  // A message without any time sorts first: it is older than anything the server dated.
  return message.sentAt ? Date.parse(message.sentAt) : Number.NEGATIVE_INFINITY;
}

/** Merges message lists by id, the later list winning, and orders the result. */
export function mergeMessages(...lists: ConversationMessage[][]): ConversationMessage[] {
  const byId = new Map<string, ConversationMessage>();
  for (const list of lists) for (const message of list) byId.set(message.id, message);
  return [...byId.values()].sort(compareMessages);
}

/** Formats a byte count for people, e.g. 104274 → "102 KB". */
export function formatByteSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const rounded = value >= 10 ? Math.round(value) : Math.round(value * 10) / 10;
  return `${rounded} ${units[unit]}`;
}
