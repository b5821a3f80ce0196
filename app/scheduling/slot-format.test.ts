import { describe, expect, it } from 'vitest';

import {
  formatDateHeading,
  formatSlotTime,
  formatVisitDate,
  formatVisitDateTime,
} from './slot-format';

/** 01:30 EDT and, one hour later, 01:30 EST on the 2027 fall-back night in New York. */
const FIRST_ONE_THIRTY = '2027-11-07T05:30:00Z';
const SECOND_ONE_THIRTY = '2027-11-07T06:30:00Z';

describe('formatSlotTime', () => {
  it('names the zone of repeated 01:30', () => {
    expect(formatSlotTime(FIRST_ONE_THIRTY, 'America/New_York')).toBe('1:30 AM EDT');
    expect(formatSlotTime(SECOND_ONE_THIRTY, 'America/New_York')).toBe('1:30 AM EST');
  });

  it('gives the same text for equal instants', () => {
    expect(formatSlotTime('2027-11-07T01:30:00-04:00', 'America/New_York')).toBe('1:30 AM EDT');
    expect(formatSlotTime('2027-11-07T01:30:00-05:00', 'America/New_York')).toBe('1:30 AM EST');
  });

  it('uses the requested zone', () => {
    expect(formatSlotTime(SECOND_ONE_THIRTY, 'America/Los_Angeles')).toBe('11:30 PM PDT');
    expect(formatSlotTime('2027-07-01T16:05:00Z', 'America/Los_Angeles')).toBe('9:05 AM PDT');
  });

  it('writes plain spaces only', () => {
    const text = formatSlotTime(FIRST_ONE_THIRTY, 'America/New_York');

    expect(text).not.toMatch(/[\u00a0\u202f]/);
  });

  it('rejects a date-time without an offset', () => {
    expect(() => formatSlotTime('2027-11-07T01:30:00', 'America/New_York')).toThrow(RangeError);
  });

  it('rejects an unparseable value', () => {
    expect(() => formatSlotTime('not a date Z', 'America/New_York')).toThrow('"not a date Z"');
  });
});

describe('formatVisitDate', () => {
  it('uses the date in the zone', () => {
    expect(formatVisitDate(SECOND_ONE_THIRTY, 'America/New_York')).toBe('Sunday, November 7, 2027');
    expect(formatVisitDate('2027-11-08T03:30:00Z', 'America/New_York')).toBe(
      'Sunday, November 7, 2027',
    );
    expect(formatVisitDate('2027-11-08T03:30:00Z', 'Europe/Berlin')).toBe(
      'Monday, November 8, 2027',
    );
  });
});

describe('formatVisitDateTime', () => {
  it('joins date and time with "at"', () => {
    expect(formatVisitDateTime(SECOND_ONE_THIRTY, 'America/New_York')).toBe(
      'Sunday, November 7, 2027 at 1:30 AM EST',
    );
    expect(formatVisitDateTime(FIRST_ONE_THIRTY, 'America/New_York')).toBe(
      'Sunday, November 7, 2027 at 1:30 AM EDT',
    );
  });

  it('moves the date with the zone', () => {
    expect(formatVisitDateTime('2027-03-14T04:30:00Z', 'America/Los_Angeles')).toBe(
      'Saturday, March 13, 2027 at 8:30 PM PST',
    );
  });
});

describe('formatDateHeading', () => {
  it.each([
    ['2027-12-07', 'Tue, Dec 7'],
    ['2026-12-07', 'Mon, Dec 7'],
    ['2027-03-14', 'Sun, Mar 14'],
    ['2028-02-29', 'Tue, Feb 29'],
    ['2027-01-01', 'Fri, Jan 1'],
  ])('formats %s', (date, expected) => {
    expect(formatDateHeading(date)).toBe(expected);
  });

  it.each(['2027-02-30', '2027-13-01', '2027-3-14', '2027-03-14T00:00:00Z', ''])(
    'rejects %j',
    (date) => {
      expect(() => formatDateHeading(date)).toThrow(RangeError);
    },
  );
});
