import { describe, expect, it } from 'vitest';

import { type CalendarInvite, buildCalendarFile } from './calendar-file';

const JOIN_URL = 'https://zoom.example/j/81234567890?pwd=Q2hlY2tNZQ';

function invite(overrides: Partial<CalendarInvite> = {}): CalendarInvite {
  return {
    method: 'REQUEST',
    uid: 'appointment-42@portal.example',
    sequence: 0,
    start: new Date('2027-11-07T06:30:00Z'),
    end: new Date('2027-11-07T07:00:00Z'),
    summary: 'Video visit with Nia Okafor',
    description: 'Your follow-up visit with your pharmacist.',
    joinUrl: JOIN_URL,
    organizer: { name: 'Care Team', email: 'care@portal.example' },
    attendee: { name: 'Sam Rivera', email: 'sam.rivera@example.com' },
    createdAt: new Date('2027-10-01T12:00:00.456Z'),
    ...overrides,
  };
}

interface ContentLine {
  name: string;
  parameters: Record<string, string>;
  value: string;
}

/** Unfolds (CRLF followed by a space or tab) and splits a file into its content lines. */
function unfold(file: string): string[] {
  return file
    .replace(/\r\n[ \t]/g, '')
    .split('\r\n')
    .filter((line) => line !== '');
}

/** Splits `NAME;PARAM=value;PARAM="quoted:value":VALUE`, honouring quotes in parameters. */
function parseContentLine(line: string): ContentLine {
  let index = 0;
  let inQuotes = false;
  while (index < line.length) {
    const character = line[index];
    if (character === '"') inQuotes = !inQuotes;
    if (!inQuotes && character === ':') break;
    index += 1;
  }

  const [name = '', ...parameterTexts] = splitOutsideQuotes(line.slice(0, index), ';');
  const parameters: Record<string, string> = {};
  for (const text of parameterTexts) {
    const separator = text.indexOf('=');
    parameters[text.slice(0, separator)] = text.slice(separator + 1);
  }
  return { name, parameters, value: line.slice(index + 1) };
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let inQuotes = false;
  for (const character of text) {
    if (character === '"') inQuotes = !inQuotes;
    if (!inQuotes && character === separator) {
      parts.push(current);
      current = '';
    } else {
      current += character;
    }
  }
  parts.push(current);
  return parts;
}

function parseFile(file: string): ContentLine[] {
  return unfold(file).map(parseContentLine);
}

function property(file: string, name: string): ContentLine | undefined {
  return parseFile(file).find((line) => line.name === name);
}

function propertyValue(file: string, name: string): string | undefined {
  return property(file, name)?.value;
}

/** Reverses RFC 5545 TEXT escaping. */
function unescapeText(value: string): string {
  return value.replace(/\\([\\;,nN])/g, (_match, escaped: string) =>
    escaped === 'n' || escaped === 'N' ? '\n' : escaped,
  );
}

describe('buildCalendarFile structure', () => {
  it('wraps one event in a calendar', () => {
    const names = parseFile(buildCalendarFile(invite())).map((line) => line.name);

    expect(names[0]).toBe('BEGIN');
    expect(names.at(-1)).toBe('END');
    expect(names.filter((name) => name === 'BEGIN')).toHaveLength(2);
    expect(names.filter((name) => name === 'UID')).toHaveLength(1);
    for (const name of ['VERSION', 'PRODID', 'METHOD', 'DTSTAMP', 'ORGANIZER', 'ATTENDEE']) {
      expect(names).toContain(name);
    }
  });

  it('opens and closes VCALENDAR and VEVENT', () => {
    const lines = unfold(buildCalendarFile(invite()));

    expect(lines[0]).toBe('BEGIN:VCALENDAR');
    expect(lines).toContain('VERSION:2.0');
    expect(lines.indexOf('BEGIN:VEVENT')).toBeGreaterThan(lines.indexOf('METHOD:REQUEST'));
    expect(lines.at(-2)).toBe('END:VEVENT');
    expect(lines.at(-1)).toBe('END:VCALENDAR');
  });

  it('uses CRLF line endings only', () => {
    const file = buildCalendarFile(invite({ description: 'Line one\nLine two\r\nLine three' }));

    expect(file.endsWith('END:VCALENDAR\r\n')).toBe(true);
    expect(file.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });
});

describe('buildCalendarFile REQUEST', () => {
  const file = buildCalendarFile(invite());

  it('sets method, status and sequence', () => {
    expect(propertyValue(file, 'METHOD')).toBe('REQUEST');
    expect(propertyValue(file, 'STATUS')).toBe('CONFIRMED');
    expect(propertyValue(file, 'SEQUENCE')).toBe('0');
  });

  it('writes times in UTC', () => {
    expect(propertyValue(file, 'DTSTART')).toBe('20271107T063000Z');
    expect(propertyValue(file, 'DTEND')).toBe('20271107T070000Z');
    expect(propertyValue(file, 'DTSTAMP')).toBe('20271001T120000Z');
  });

  it('puts the join link in URL, LOCATION and DESCRIPTION', () => {
    expect(propertyValue(file, 'URL')).toBe(JOIN_URL);
    expect(unescapeText(propertyValue(file, 'LOCATION') ?? '')).toBe(JOIN_URL);
    expect(unescapeText(propertyValue(file, 'DESCRIPTION') ?? '')).toBe(
      `Your follow-up visit with your pharmacist.\n\nJoin the video visit: ${JOIN_URL}`,
    );
  });

  it('names organizer and attendee', () => {
    const organizer = property(file, 'ORGANIZER');
    const attendee = property(file, 'ATTENDEE');

    expect(organizer?.value).toBe('mailto:care@portal.example');
    expect(organizer?.parameters.CN).toBe('"Care Team"');
    expect(attendee?.value).toBe('mailto:sam.rivera@example.com');
    expect(attendee?.parameters.CN).toBe('"Sam Rivera"');
    expect(attendee?.parameters.PARTSTAT).toBe('ACCEPTED');
    expect(attendee?.parameters.RSVP).toBe('FALSE');
  });

  it('leaves out URL and LOCATION without join link', () => {
    const withoutLink = buildCalendarFile(invite({ joinUrl: undefined }));

    expect(property(withoutLink, 'URL')).toBeUndefined();
    expect(property(withoutLink, 'LOCATION')).toBeUndefined();
    expect(unescapeText(propertyValue(withoutLink, 'DESCRIPTION') ?? '')).toBe(
      'Your follow-up visit with your pharmacist.',
    );
  });
});

describe('buildCalendarFile CANCEL', () => {
  const file = buildCalendarFile(invite({ method: 'CANCEL', sequence: 2 }));

  it('sets method, status and sequence', () => {
    expect(propertyValue(file, 'METHOD')).toBe('CANCEL');
    expect(propertyValue(file, 'STATUS')).toBe('CANCELLED');
    expect(propertyValue(file, 'SEQUENCE')).toBe('2');
  });

  it('keeps the booking UID', () => {
    const booking = buildCalendarFile(invite());
    const reschedule = buildCalendarFile(
      invite({
        sequence: 1,
        start: new Date('2027-11-08T15:00:00Z'),
        end: new Date('2027-11-08T15:30:00Z'),
      }),
    );

    expect(propertyValue(file, 'UID')).toBe('appointment-42@portal.example');
    expect(propertyValue(booking, 'UID')).toBe(propertyValue(file, 'UID'));
    expect(propertyValue(reschedule, 'UID')).toBe(propertyValue(file, 'UID'));
    expect(propertyValue(reschedule, 'DTSTART')).toBe('20271108T150000Z');
  });

  it('leaves out the join link', () => {
    expect(file).not.toContain('zoom.example');
    expect(file.replace(/\r\n[ \t]/g, '')).not.toContain(JOIN_URL);
    expect(property(file, 'URL')).toBeUndefined();
    expect(property(file, 'LOCATION')).toBeUndefined();
  });

  it('still names organizer and attendee', () => {
    expect(propertyValue(file, 'ORGANIZER')).toBe('mailto:care@portal.example');
    expect(propertyValue(file, 'ATTENDEE')).toBe('mailto:sam.rivera@example.com');
  });
});

describe('buildCalendarFile escaping', () => {
  it('escapes backslash, semicolon, comma and newline', () => {
    const summary = 'Visit, follow-up; room C:\\clinic';
    const description = 'Bring your list; include doses, times\nand questions \\ notes';
    const file = buildCalendarFile(invite({ summary, description, joinUrl: undefined }));

    expect(propertyValue(file, 'SUMMARY')).toBe('Visit\\, follow-up\\; room C:\\\\clinic');
    expect(propertyValue(file, 'DESCRIPTION')).toBe(
      'Bring your list\\; include doses\\, times\\nand questions \\\\ notes',
    );
    expect(unescapeText(propertyValue(file, 'SUMMARY') ?? '')).toBe(summary);
    expect(unescapeText(propertyValue(file, 'DESCRIPTION') ?? '')).toBe(description);
  });

  it('turns CRLF and CR into \\n', () => {
    const file = buildCalendarFile(
      invite({ description: 'one\r\ntwo\rthree', joinUrl: undefined }),
    );

    expect(propertyValue(file, 'DESCRIPTION')).toBe('one\\ntwo\\nthree');
  });

  it('removes control characters', () => {
    const file = buildCalendarFile(
      invite({ summary: 'Video\u0000 visit\u0007', joinUrl: undefined }),
    );

    expect(propertyValue(file, 'SUMMARY')).toBe('Video visit');
  });

  it('quotes names with separators', () => {
    const file = buildCalendarFile(
      invite({ attendee: { name: 'Rivera, Sam; Jr: "Sammy"', email: 'sam@example.com' } }),
    );
    const attendee = property(file, 'ATTENDEE');

    expect(attendee?.parameters.CN).toBe(`"Rivera, Sam; Jr: ^'Sammy^'"`);
    expect(attendee?.value).toBe('mailto:sam@example.com');
  });

  it('percent-encodes % ? # in email', () => {
    const file = buildCalendarFile(
      invite({ attendee: { name: 'Sam', email: 'sam%team?x#y@example.com' } }),
    );

    expect(propertyValue(file, 'ATTENDEE')).toBe('mailto:sam%25team%3Fx%23y@example.com');
  });
});

describe('buildCalendarFile folding', () => {
  function octetLengths(file: string): number[] {
    return file
      .split('\r\n')
      .filter((line) => line !== '')
      .map((line) => Buffer.byteLength(line, 'utf8'));
  }

  it('folds long ASCII lines at 75 octets', () => {
    const description = 'Please have your medication list ready. '.repeat(10);
    const file = buildCalendarFile(invite({ description }));

    expect(Math.max(...octetLengths(file))).toBeLessThanOrEqual(75);
    expect(file).toMatch(/\r\n [^\r\n]/);
    expect(unescapeText(propertyValue(file, 'DESCRIPTION') ?? '')).toContain(description);
  });

  it('folds multi-byte text by octets', () => {
    const name = 'Zoë Ñúñez-Øberg Ærøskøbing Łódź Śląsk Müller Ğüneş Đặng Thị Ánh Nguyệt';
    const summary = `Video visit with ${name} 🩺🩺🩺`;
    const file = buildCalendarFile(
      invite({ summary, organizer: { name, email: 'care@portal.example' } }),
    );

    expect(Math.max(...octetLengths(file))).toBeLessThanOrEqual(75);
    expect(file).not.toContain('\uFFFD');
    expect(unescapeText(propertyValue(file, 'SUMMARY') ?? '')).toBe(summary);
    expect(property(file, 'ORGANIZER')?.parameters.CN).toBe(`"${name}"`);
  });

  it('fills folded lines to the limit', () => {
    const file = buildCalendarFile(invite({ summary: 'x'.repeat(200), joinUrl: undefined }));
    const summaryLines = file
      .split('\r\n')
      .filter((line) => line.startsWith('SUMMARY:') || line.startsWith(' x'));

    expect(summaryLines.map((line) => line.length)).toEqual([75, 75, 60]);
  });
});

describe('buildCalendarFile validation', () => {
  it.each([
    ['end before start', { end: new Date('2027-11-07T06:00:00Z') }],
    ['end equal to start', { end: new Date('2027-11-07T06:30:00Z') }],
    ['invalid start', { start: new Date(Number.NaN) }],
    ['negative sequence', { sequence: -1 }],
    ['fractional sequence', { sequence: 1.5 }],
    ['empty uid', { uid: ' ' }],
    ['email without @', { attendee: { name: 'Sam', email: 'sam.example.com' } }],
    ['email with a space', { organizer: { name: 'Care', email: 'care team@portal.example' } }],
    ['email with a line break', { attendee: { name: 'Sam', email: 'sam@example.com\r\nX:1' } }],
    ['relative join link', { joinUrl: '/j/123' }],
    ['javascript join link', { joinUrl: 'javascript:alert(1)' }],
  ])('rejects %s', (_case, change) => {
    expect(() => buildCalendarFile(invite(change))).toThrow(RangeError);
  });

  it('keeps the email out of the error', () => {
    const build = (): string =>
      buildCalendarFile(invite({ attendee: { name: 'Sam', email: 'private person@example.com' } }));

    expect(build).toThrow(RangeError);
    expect(build).not.toThrow('private person');
  });
});
