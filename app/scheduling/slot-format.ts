/*
 * Patient-facing text for appointment slots and visits. Page components call these on the server
 * and in the browser, so they use only `Date` and `Intl` with an explicit `timeZone` and the
 * `en-US` locale, never the runtime's own zone or locale.
 */

const OFFSET_SUFFIX_PATTERN = /(Z|[+-]\d{2}:\d{2})$/i;
const ISO_DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/**
 * CLDR 42 and later put a narrow no-break space (U+202F) before "AM"/"PM", and some runtimes patch
 * it back to a plain space. Replacing U+202F and U+00A0 with a plain space keeps server and browser
 * text identical.
 */
const NO_BREAK_SPACE_PATTERN = /[\u00a0\u202f]/g;

/** Formats the time of day of `iso` in `timeZone` with the zone's short name: `1:30 AM EST`. */
export function formatSlotTime(iso: string, timeZone: string): string {
  const format = new Intl.DateTimeFormat('en-US', {
    hour: 'numeric',
    minute: '2-digit',
    timeZone,
    timeZoneName: 'short',
  });
  return normalizeSpaces(format.format(parseInstant(iso)));
}

/** Formats the calendar date of `iso` in `timeZone`, e.g. `Sunday, November 7, 2027`. */
export function formatVisitDate(iso: string, timeZone: string): string {
  const format = new Intl.DateTimeFormat('en-US', {
    weekday: 'long',
    month: 'long',
    day: 'numeric',
    year: 'numeric',
    timeZone,
  });
  return normalizeSpaces(format.format(parseInstant(iso)));
}

/**
 * Formats `iso` as date and time in `timeZone`, e.g. `Sunday, November 7, 2027 at 1:30 AM EST`.
 * The two parts are joined here rather than by `Intl`, because ICU versions differ in the
 * word or comma they put between a long date and a time.
 */
export function formatVisitDateTime(iso: string, timeZone: string): string {
  return `${formatVisitDate(iso, timeZone)} at ${formatSlotTime(iso, timeZone)}`;
}

/**
 * Formats a `YYYY-MM-DD` calendar date as a short heading, e.g. `Mon, Dec 7`. The date is read in
 * UTC on both sides, so it is never shifted into a neighbouring day.
 */
export function formatDateHeading(date: string): string {
  const midnightUtc = new Date(`${date}T00:00:00Z`);
  const isRealDate =
    ISO_DATE_PATTERN.test(date) &&
    !Number.isNaN(midnightUtc.getTime()) &&
    midnightUtc.toISOString().slice(0, 10) === date;
  if (!isRealDate) {
    throw new RangeError(`Invalid date "${date}": expected a real calendar date as YYYY-MM-DD.`);
  }

  const format = new Intl.DateTimeFormat('en-US', {
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    timeZone: 'UTC',
  });
  return normalizeSpaces(format.format(midnightUtc));
}

/**
 * Parses an ISO 8601 date-time. It must carry an offset or `Z`, because `Date` reads a local
 * date-time in the runtime's own zone, which differs between server and browser.
 */
function parseInstant(iso: string): Date {
  const instant = new Date(iso);
  if (!OFFSET_SUFFIX_PATTERN.test(iso) || Number.isNaN(instant.getTime())) {
    throw new RangeError(
      `Invalid date-time "${iso}": expected an ISO 8601 date-time with an offset or Z.`,
    );
  }
  return instant;
}

function normalizeSpaces(text: string): string {
  return text.replace(NO_BREAK_SPACE_PATTERN, ' ');
}
