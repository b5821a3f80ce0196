import { Temporal } from 'temporal-polyfill';

/*
 * Calendar dates and instants in a named IANA time zone. A calendar date is a `YYYY-MM-DD`
 * string. An instant is a `Date` or an ISO 8601 date-time string with an offset or `Z`.
 * `isIsoDate` and `parseInstantWithOffset` report invalid input by their return value. The other
 * functions throw a RangeError for an invalid date, instant or time zone.
 */

const ISO_DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Extended ISO 8601 / RFC 3339 date-time with an explicit offset or `Z`, seconds and fraction
 * optional. It rejects the basic format, a space separator, bracketed zones and local times,
 * because a local time names a different instant in every zone.
 */
const ISO_INSTANT_PATTERN =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** Returns whether `value` is a strict `YYYY-MM-DD` string naming a real calendar date. */
export function isIsoDate(value: string): boolean {
  if (!ISO_DATE_PATTERN.test(value)) return false;

  try {
    Temporal.PlainDate.from(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Computes the instants at which calendar day `date` starts and the next day starts in
 * `timeZone`. The range is 23 hours long on a spring-forward day and 25 hours on a fall-back day.
 * The start is the first instant of the day, which is 01:00 where a zone skips midnight
 * (for example `America/Santiago` on 2026-09-06).
 */
export function zonedDayRange(date: string, timeZone: string): { start: Date; end: Date } {
  const day = parseIsoDate(date);

  const start = day.toZonedDateTime({ timeZone }).startOfDay();
  const end = day.add({ days: 1 }).toZonedDateTime({ timeZone }).startOfDay();

  return {
    start: new Date(start.epochMilliseconds),
    end: new Date(end.epochMilliseconds),
  };
}

/** Returns the `YYYY-MM-DD` calendar date of `instant` in `timeZone`. */
export function localDateOf(instant: Date | string, timeZone: string): string {
  return toInstant(instant).toZonedDateTimeISO(timeZone).toPlainDate().toString();
}

/** Adds `days` (an integer, possibly negative) to a `YYYY-MM-DD` date and returns the new date. */
export function addDays(date: string, days: number): string {
  return parseIsoDate(date).add({ days }).toString();
}

/**
 * Formats `instant` as an ISO 8601 date-time in `timeZone` with whole seconds and the UTC offset
 * in force there, e.g. `2027-11-07T01:30:00-04:00`. UTC is written as `+00:00`, and the zone name
 * is left out. Milliseconds are truncated.
 */
export function formatIsoWithOffset(instant: Date | string, timeZone: string): string {
  return toInstant(instant).toZonedDateTimeISO(timeZone).toString({
    fractionalSecondDigits: 0,
    timeZoneName: 'never',
    calendarName: 'never',
  });
}

/**
 * Parses an ISO 8601 date-time with an explicit offset or `Z` into a `Date`. Returns undefined
 * for a local date-time, a date without a time, or anything else. Precision beyond milliseconds
 * is truncated.
 */
export function parseInstantWithOffset(value: string): Date | undefined {
  if (!ISO_INSTANT_PATTERN.test(value)) return undefined;

  try {
    return new Date(Temporal.Instant.from(value).epochMilliseconds);
  } catch {
    // The pattern matched but a field is out of range, e.g. month 13 or offset +25:00.
    return undefined;
  }
}

function parseIsoDate(date: string): Temporal.PlainDate {
  if (!isIsoDate(date)) {
    throw new RangeError(`Invalid date "${date}": expected a real calendar date as YYYY-MM-DD.`);
  }
  return Temporal.PlainDate.from(date);
}

function toInstant(instant: Date | string): Temporal.Instant {
  if (typeof instant === 'string') {
    const parsed = parseInstantWithOffset(instant);
    if (!parsed) {
      throw new RangeError(
        `Invalid instant "${instant}": expected an ISO 8601 date-time with an offset or Z.`,
      );
    }
    return Temporal.Instant.fromEpochMilliseconds(parsed.getTime());
  }

  const milliseconds = instant.getTime();
  if (Number.isNaN(milliseconds)) {
    throw new RangeError('Invalid instant: the Date is invalid (NaN).');
  }
  return Temporal.Instant.fromEpochMilliseconds(milliseconds);
}
