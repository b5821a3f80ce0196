import { describe, expect, it } from 'vitest';

import { formatCalendarDate, formatFhirDate, formatInstant } from './dates';

describe('formatInstant', () => {
  it('names the zone of the clinic by default', () => {
    expect(formatInstant('2026-07-01T18:30:00Z')).toBe('Wed, Jul 1, 2026, 2:30 PM EDT');
  });

  it('uses the zone it is given', () => {
    expect(formatInstant('2026-01-15T18:30:00Z', 'America/Los_Angeles')).toBe(
      'Thu, Jan 15, 2026, 10:30 AM PST',
    );
  });
});

describe('formatCalendarDate', () => {
  it('keeps the calendar day in every zone', () => {
    expect(formatCalendarDate('2026-12-31')).toBe('Dec 31, 2026');
    expect(formatCalendarDate('2026-01-01')).toBe('Jan 1, 2026');
  });
});

describe('formatFhirDate', () => {
  it.each([
    ['2015', 'America/Los_Angeles', '2015'],
    ['2015-01', 'Pacific/Kiritimati', 'Jan 2015'],
    ['2015-01-15', 'Pacific/Pago_Pago', 'Jan 15, 2015'],
    ['2015-01-15', 'Pacific/Kiritimati', 'Jan 15, 2015'],
    ['2015-01-15T23:30:00Z', 'America/New_York', 'Jan 15, 2015'],
    ['2015-01-15T23:30:00Z', 'Asia/Tokyo', 'Jan 16, 2015'],
  ])('formats %s in %s as %s', (value, timeZone, expected) => {
    expect(formatFhirDate(value, timeZone)).toBe(expected);
  });
});
