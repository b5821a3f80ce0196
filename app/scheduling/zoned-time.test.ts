import { describe, expect, it } from 'vitest';

import {
  addDays,
  formatIsoWithOffset,
  isIsoDate,
  localDateOf,
  parseInstantWithOffset,
  zonedDayRange,
} from './zoned-time';

const HOUR_MS = 60 * 60 * 1000;

describe('isIsoDate', () => {
  it.each(['2027-03-14', '2028-02-29', '2000-02-29', '1999-12-31'])('accepts %s', (value) => {
    expect(isIsoDate(value)).toBe(true);
  });

  it.each([
    '2027-02-29',
    '1900-02-29',
    '2027-04-31',
    '2027-13-01',
    '2027-00-10',
    '2027-01-00',
    '2027-1-05',
    '27-01-05',
    '2027-01-05T00:00:00Z',
    ' 2027-01-05',
    '20270105',
    '',
  ])('rejects %j', (value) => {
    expect(isIsoDate(value)).toBe(false);
  });
});

describe('zonedDayRange', () => {
  it('spans 24 hours on an ordinary day', () => {
    const range = zonedDayRange('2027-06-01', 'America/New_York');

    expect(range.start.toISOString()).toBe('2027-06-01T04:00:00.000Z');
    expect(range.end.toISOString()).toBe('2027-06-02T04:00:00.000Z');
  });

  it('spans 23 hours on spring-forward day', () => {
    const range = zonedDayRange('2027-03-14', 'America/New_York');

    expect(range.start.toISOString()).toBe('2027-03-14T05:00:00.000Z');
    expect(range.end.toISOString()).toBe('2027-03-15T04:00:00.000Z');
    expect(range.end.getTime() - range.start.getTime()).toBe(23 * HOUR_MS);
  });

  it('spans 25 hours on fall-back day', () => {
    const range = zonedDayRange('2027-11-07', 'America/New_York');

    expect(range.start.toISOString()).toBe('2027-11-07T04:00:00.000Z');
    expect(range.end.toISOString()).toBe('2027-11-08T05:00:00.000Z');
    expect(range.end.getTime() - range.start.getTime()).toBe(25 * HOUR_MS);
  });

  it('starts at 01:00 where midnight is skipped in Santiago', () => {
    const range = zonedDayRange('2026-09-06', 'America/Santiago');

    expect(formatIsoWithOffset(range.start, 'America/Santiago')).toBe('2026-09-06T01:00:00-03:00');
    expect(range.end.getTime() - range.start.getTime()).toBe(23 * HOUR_MS);
  });

  it('starts at 01:00 where midnight is skipped in Havana', () => {
    const range = zonedDayRange('2027-03-14', 'America/Havana');

    expect(formatIsoWithOffset(range.start, 'America/Havana')).toBe('2027-03-14T01:00:00-04:00');
    expect(formatIsoWithOffset(range.end, 'America/Havana')).toBe('2027-03-15T00:00:00-04:00');
  });

  it('ends where the next day starts', () => {
    const today = zonedDayRange('2027-11-07', 'Asia/Tokyo');
    const tomorrow = zonedDayRange('2027-11-08', 'Asia/Tokyo');

    expect(today.end.getTime()).toBe(tomorrow.start.getTime());
  });

  it('rejects an impossible date', () => {
    expect(() => zonedDayRange('2027-02-30', 'America/New_York')).toThrow(RangeError);
    expect(() => zonedDayRange('2027-02-30', 'America/New_York')).toThrow('"2027-02-30"');
  });

  it('rejects an unknown time zone', () => {
    expect(() => zonedDayRange('2027-02-01', 'Mars/Olympus_Mons')).toThrow(RangeError);
  });
});

describe('localDateOf', () => {
  it('uses the date in the given zone', () => {
    const instant = new Date('2027-11-08T03:30:00Z');

    expect(localDateOf(instant, 'America/New_York')).toBe('2027-11-07');
    expect(localDateOf(instant, 'UTC')).toBe('2027-11-08');
    expect(localDateOf(instant, 'Asia/Kolkata')).toBe('2027-11-08');
  });

  it('accepts a string with an offset', () => {
    expect(localDateOf('2027-11-07T23:30:00-05:00', 'America/New_York')).toBe('2027-11-07');
    expect(localDateOf('2027-11-07T23:30:00-05:00', 'Europe/Paris')).toBe('2027-11-08');
  });

  it('rejects a string without an offset', () => {
    expect(() => localDateOf('2027-11-07T23:30:00', 'America/New_York')).toThrow(RangeError);
  });

  it('rejects an invalid Date', () => {
    expect(() => localDateOf(new Date(Number.NaN), 'America/New_York')).toThrow(RangeError);
  });
});

describe('addDays', () => {
  it.each([
    ['2027-03-13', 1, '2027-03-14'],
    ['2027-02-28', 1, '2027-03-01'],
    ['2028-02-28', 1, '2028-02-29'],
    ['2027-12-31', 1, '2028-01-01'],
    ['2027-01-01', -1, '2026-12-31'],
    ['2027-11-07', 0, '2027-11-07'],
    ['2027-01-31', 30, '2027-03-02'],
  ])('adds to %s %i days', (date, days, expected) => {
    expect(addDays(date, days)).toBe(expected);
  });

  it('rejects a fractional day count', () => {
    expect(() => addDays('2027-01-01', 1.5)).toThrow(RangeError);
  });

  it('rejects an invalid date', () => {
    expect(() => addDays('2027-1-1', 1)).toThrow(RangeError);
  });
});

describe('formatIsoWithOffset', () => {
  it('shows both offsets of repeated 01:30', () => {
    const first = new Date('2027-11-07T05:30:00Z');
    const second = new Date(first.getTime() + HOUR_MS);

    expect(formatIsoWithOffset(first, 'America/New_York')).toBe('2027-11-07T01:30:00-04:00');
    expect(formatIsoWithOffset(second, 'America/New_York')).toBe('2027-11-07T01:30:00-05:00');
  });

  it('writes UTC as +00:00', () => {
    expect(formatIsoWithOffset(new Date('2027-01-01T09:15:00Z'), 'UTC')).toBe(
      '2027-01-01T09:15:00+00:00',
    );
    expect(formatIsoWithOffset(new Date('2027-01-01T09:15:00Z'), 'Europe/London')).toBe(
      '2027-01-01T09:15:00+00:00',
    );
  });

  it('drops milliseconds', () => {
    expect(formatIsoWithOffset(new Date('2027-01-01T09:15:42.987Z'), 'UTC')).toBe(
      '2027-01-01T09:15:42+00:00',
    );
  });

  it('handles a half-hour offset', () => {
    expect(formatIsoWithOffset('2027-01-01T00:00:00Z', 'Asia/Kolkata')).toBe(
      '2027-01-01T05:30:00+05:30',
    );
  });

  it('round-trips through parseInstantWithOffset', () => {
    const instant = new Date('2027-03-14T07:00:00Z');
    const formatted = formatIsoWithOffset(instant, 'America/New_York');

    expect(formatted).toBe('2027-03-14T03:00:00-04:00');
    expect(parseInstantWithOffset(formatted)?.getTime()).toBe(instant.getTime());
  });
});

describe('parseInstantWithOffset', () => {
  it.each([
    ['2027-11-07T05:30:00Z', '2027-11-07T05:30:00.000Z'],
    ['2027-11-07T05:30:00z', '2027-11-07T05:30:00.000Z'],
    ['2027-11-07T01:30:00-04:00', '2027-11-07T05:30:00.000Z'],
    ['2027-11-07T01:30:00-05:00', '2027-11-07T06:30:00.000Z'],
    ['2027-11-07T11:00+05:30', '2027-11-07T05:30:00.000Z'],
    ['2027-11-07T05:30:00.123Z', '2027-11-07T05:30:00.123Z'],
    ['2027-11-07T05:30:00.123456789Z', '2027-11-07T05:30:00.123Z'],
  ])('parses %s', (value, expected) => {
    expect(parseInstantWithOffset(value)?.toISOString()).toBe(expected);
  });

  it.each([
    '2027-11-07T05:30:00',
    '2027-11-07',
    '2027-11-07 05:30:00Z',
    '20271107T053000Z',
    '2027-11-07T05:30:00-0500',
    '2027-11-07T05:30:00Z[America/New_York]',
    '2027-11-07T05:30:00-05:00[America/New_York]',
    '2027-13-07T05:30:00Z',
    '2027-02-30T05:30:00Z',
    '2027-11-07T25:30:00Z',
    '2027-11-07T05:30:00+25:00',
    'Sun Nov 07 2027 05:30:00 GMT+0000',
    '',
  ])('rejects %j', (value) => {
    expect(parseInstantWithOffset(value)).toBeUndefined();
  });
});
