export interface CapturedAttachment {
  filename: string;
  type: string | null;
  content: string;
}

/** One email as delivered to one recipient. */
export interface CapturedMessage {
  /** The `X-Message-Id` returned for the send request, which all its recipients share. */
  messageId: string;
  from: string;
  to: string;
  subject: string;
  text: string | null;
  html: string | null;
  /** Attached files, their base64 content decoded as UTF-8 text (calendar files are text). */
  attachments: CapturedAttachment[];
  /** ISO 8601 time at which the stand-in accepted the message. */
  sentAt: string;
}

/** Messages kept before the oldest are dropped, so that a long benchmark cannot exhaust memory. */
export const MAX_CAPTURED_MESSAGES = 1000;

/** Emails captured by the SendGrid stand-in, in memory and newest last. */
export class Mailbox {
  private messages: CapturedMessage[] = [];

  add(message: CapturedMessage): void {
    this.messages.push(message);
    if (this.messages.length > MAX_CAPTURED_MESSAGES) {
      this.messages.splice(0, this.messages.length - MAX_CAPTURED_MESSAGES);
    }
  }

  /**
   * Returns the messages newest first, only those to `recipient` (compared case-insensitively) if
   * given.
   */
  list(recipient?: string): CapturedMessage[] {
    const wanted = recipient?.trim().toLowerCase();
    const matching = wanted
      ? this.messages.filter((message) => message.to.toLowerCase() === wanted)
      : this.messages;
    return matching.slice().reverse();
  }

  clear(): void {
    this.messages = [];
  }
}
