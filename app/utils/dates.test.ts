import { describe, expect, it } from 'vitest';

import { formatCalendarDate, formatInstant } from './dates';

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
