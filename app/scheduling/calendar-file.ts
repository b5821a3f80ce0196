/*
 * iCalendar (RFC 5545) invitations for video visits, sent as iTIP (RFC 5546) REQUEST or CANCEL.
 *
 * This is a small builder of its own rather than `createEvent` from the `ics` package, because
 * `ics` 3.12.0 folds lines at 75 characters instead of 75 octets, so a name with accented letters
 * produces over-long lines. It also writes a double quote inside a CN parameter as `\"`, which
 * RFC 5545 does not allow and which ends the quoted value early.
 */

/** One visit as a calendar invitation. */
export interface CalendarInvite {
  method: 'REQUEST' | 'CANCEL';
  /** Stable across booking, rescheduling and cancelling, e.g. `appointment-<id>@portal.example`. */
  uid: string;
  /** 0 on booking, raised on every change so that calendars replace the older copy. */
  sequence: number;
  start: Date;
  end: Date;
  /** Event title, e.g. "Video visit with Nia Okafor". */
  summary: string;
  description: string;
  /** Zoom join link for the patient, written only into REQUEST invitations. */
  joinUrl?: string;
  organizer: { name: string; email: string };
  attendee: { name: string; email: string };
  /** Time the invitation was created, written as DTSTAMP. */
  createdAt: Date;
}

const PRODUCT_ID = '-//Patient Portal//Visit Scheduling//EN';

/** Maximum line length in octets, excluding the CRLF (RFC 5545 section 3.1). */
const MAX_LINE_OCTETS = 75;

/** SEQUENCE is an INTEGER, a signed 32-bit value (RFC 5545 section 3.3.8). */
const MAX_SEQUENCE = 2_147_483_647;

const EVENT_STATUS_BY_METHOD: Record<CalendarInvite['method'], string> = {
  REQUEST: 'CONFIRMED',
  CANCEL: 'CANCELLED',
};

/** Control characters other than tab, line feed and carriage return, which TEXT may not contain. */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER_PATTERN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/** Characters that cannot appear unencoded in a `mailto:` address, plus whitespace and controls. */
// eslint-disable-next-line no-control-regex
const INVALID_EMAIL_PATTERN = /[\s\u0000-\u001f\u007f"(),:;<>[\\\]]/;

/**
 * Builds an iCalendar file with one VEVENT, with CRLF line endings and lines folded at 75 octets.
 * A REQUEST confirms the visit and carries the join link in URL, LOCATION and DESCRIPTION. A
 * CANCEL cancels it and leaves the join link out even when `joinUrl` is set. Throws a RangeError
 * when a date, the sequence, the UID, an email address or the join link is invalid.
 */
export function buildCalendarFile(invite: CalendarInvite): string {
  assertValidInvite(invite);

  const joinUrl =
    invite.method === 'REQUEST' && invite.joinUrl ? normalizeJoinUrl(invite.joinUrl) : undefined;
  const description = joinUrl
    ? `${invite.description}\n\nJoin the video visit: ${joinUrl}`
    : invite.description;

  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    `PRODID:${PRODUCT_ID}`,
    'CALSCALE:GREGORIAN',
    `METHOD:${invite.method}`,
    'BEGIN:VEVENT',
    `UID:${escapeText(invite.uid)}`,
    `SEQUENCE:${invite.sequence}`,
    `DTSTAMP:${formatUtcDateTime(invite.createdAt)}`,
    `DTSTART:${formatUtcDateTime(invite.start)}`,
    `DTEND:${formatUtcDateTime(invite.end)}`,
    `SUMMARY:${escapeText(invite.summary)}`,
    `DESCRIPTION:${escapeText(description)}`,
    ...(joinUrl ? [`URL:${joinUrl}`, `LOCATION:${escapeText(joinUrl)}`] : []),
    `ORGANIZER;CN=${quoteParameter(invite.organizer.name)}:${mailtoUri(invite.organizer.email)}`,
    // The patient booked the visit, so the invitation marks them as accepted and requests no reply.
    `ATTENDEE;CN=${quoteParameter(invite.attendee.name)};ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE:${mailtoUri(invite.attendee.email)}`,
    `STATUS:${EVENT_STATUS_BY_METHOD[invite.method]}`,
    'END:VEVENT',
    'END:VCALENDAR',
  ];

  return lines.map(foldLine).join('\r\n') + '\r\n';
}

function assertValidInvite(invite: CalendarInvite): void {
  for (const [name, date] of [
    ['start', invite.start],
    ['end', invite.end],
    ['createdAt', invite.createdAt],
  ] as const) {
    if (Number.isNaN(date.getTime())) {
      throw new RangeError(`Invalid calendar invite: ${name} is an invalid Date.`);
    }
  }
  if (invite.end <= invite.start) {
    throw new RangeError('Invalid calendar invite: end must be after start.');
  }

  if (!Number.isInteger(invite.sequence) || invite.sequence < 0 || invite.sequence > MAX_SEQUENCE) {
    throw new RangeError(
      `Invalid calendar invite: sequence is ${invite.sequence}, but it must be an integer from 0 to ${MAX_SEQUENCE}.`,
    );
  }

  if (invite.uid.trim() === '') {
    throw new RangeError('Invalid calendar invite: uid is empty.');
  }
}

/** Formats a UTC DATE-TIME, e.g. `20271107T063000Z` (RFC 5545 section 3.3.5, form 2). */
function formatUtcDateTime(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/**
 * Escapes a TEXT value (RFC 5545 section 3.3.11): backslash, semicolon and comma get a backslash,
 * every line break becomes `\n`, and other control characters except tab are removed.
 */
function escapeText(value: string): string {
  return value
    .replace(CONTROL_CHARACTER_PATTERN, '')
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\r\n|\r|\n/g, '\\n');
}

/**
 * Quotes a parameter value such as CN. A quoted value may contain `:`, `;` and `,` but no double
 * quote or line break, so those are written with the RFC 6868 caret escapes `^'` and `^n`.
 */
function quoteParameter(value: string): string {
  const escaped = value
    .replace(/\^/g, '^^')
    .replace(/\r\n|\r|\n/g, '^n')
    .replace(/"/g, "^'")
    .replace(CONTROL_CHARACTER_PATTERN, '');
  return `"${escaped}"`;
}

/** Builds a `mailto:` CAL-ADDRESS, percent-encoding `%`, `?` and `#` as RFC 6068 requires. */
function mailtoUri(email: string): string {
  const parts = email.split('@');
  const isValid =
    parts.length === 2 && parts.every((part) => part !== '') && !INVALID_EMAIL_PATTERN.test(email);
  if (!isValid) {
    // The address itself stays out of the message, because error messages reach the logs.
    throw new RangeError(
      'Invalid calendar invite: an email address is not a plain address like name@example.com.',
    );
  }

  const encoded = email.replace(/[%?#]/g, (character) => {
    return `%${character.charCodeAt(0).toString(16).toUpperCase()}`;
  });
  return `mailto:${encoded}`;
}

/** Parses the join link and returns it in its serialized form, which has no spaces or controls. */
function normalizeJoinUrl(joinUrl: string): string {
  let url: URL;
  try {
    url = new URL(joinUrl);
  } catch {
    throw new RangeError('Invalid calendar invite: joinUrl is not an absolute URL.');
  }

  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new RangeError(
      `Invalid calendar invite: joinUrl uses ${url.protocol}, but it must use https: or http:.`,
    );
  }
  return url.href;
}

/**
 * Folds a content line so that no physical line exceeds 75 octets of UTF-8. Each continuation
 * line starts with one space, which counts toward its length. A fold never splits a code point.
 */
function foldLine(line: string): string {
  const physicalLines: string[] = [];
  let current = '';
  let currentOctets = 0;

  for (const codePoint of line) {
    const octets = utf8Length(codePoint);
    if (currentOctets + octets > MAX_LINE_OCTETS) {
      physicalLines.push(current);
      current = ' ';
      currentOctets = 1;
    }
    current += codePoint;
    currentOctets += octets;
  }
  physicalLines.push(current);

  return physicalLines.join('\r\n');
}

function utf8Length(codePoint: string): number {
  const value = codePoint.codePointAt(0) ?? 0;
  if (value < 0x80) return 1;
  if (value < 0x800) return 2;
  if (value < 0x10000) return 3;
  return 4;
}
