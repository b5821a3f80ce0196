/** Time zone used until the patient's own is known. */
export const CLINIC_TIME_ZONE = 'America/New_York';

/**
 * Formats an ISO 8601 instant as a date and time in `timeZone`, naming the zone. The zone is
 * always explicit, so the server and the browser print the same text.
 */
export function formatInstant(iso: string, timeZone = CLINIC_TIME_ZONE): string {
  return new Intl.DateTimeFormat('en-US', {
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    year: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZone,
    timeZoneName: 'short',
  }).format(new Date(iso));
}

/** Formats a calendar date (YYYY-MM-DD) without shifting it through a time zone. */
export function formatCalendarDate(date: string): string {
  return new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeZone: 'UTC' }).format(
    new Date(`${date}T00:00:00Z`),
  );
}
