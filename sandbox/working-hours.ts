/**
 * Weekly working hours of the demo practitioners, and the free 30-minute Slots that the sandbox
 * generates from them. Working hours are local wall-clock times in the practitioner's IANA time
 * zone, and Temporal converts each of them to instants. A local time that a DST change skips
 * yields no slot, and a local time that occurs twice yields one slot per UTC offset.
 */

import type { WithId } from '@medplum/core';
import type { Slot } from '@medplum/fhirtypes';
import { Temporal } from 'temporal-polyfill';

/** A day code of FHIR's days-of-week value set, as in `PractitionerRole.availableTime`. */
export type DayOfWeek = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** Day codes in Temporal's order: `dayOfWeek` 1 is Monday and 7 is Sunday. */
const DAY_CODES: readonly DayOfWeek[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** One weekly block of working hours, shaped like FHIR's `PractitionerRole.availableTime`. */
export interface AvailableTime {
  daysOfWeek: readonly DayOfWeek[];
  /** Local wall-clock start, `HH:MM:SS`. */
  availableStartTime: string;
  /** Local wall-clock end, `HH:MM:SS`, later than the start on the same day. */
  availableEndTime: string;
}

/** The weekly working hours of one practitioner. */
export interface PractitionerWorkingHours {
  practitionerId: string;
  /** IANA time zone in which `availableTime` is read, e.g. `America/New_York`. */
  timeZone: string;
  availableTime: readonly AvailableTime[];
}

/** Length of a generated Slot in minutes. Slots start every 30 minutes from a block's start. */
export const SLOT_MINUTES = 30;

/** Days after `now` that the seed fills with Slots, unless the DST extension reaches further. */
export const SLOT_HORIZON_DAYS = 60;

/** Days after the time zone's next DST transition that the seed still fills with Slots. */
export const SLOT_DAYS_AFTER_DST_TRANSITION = 7;

const WEEKDAYS: readonly DayOfWeek[] = ['mon', 'tue', 'wed', 'thu', 'fri'];

/**
 * Working hours of the demo practitioners, keyed by Practitioner id.
 *
 * Dr. Okafor also has an on-call block from 00:00 to 04:00 on Sundays, when US daylight saving
 * time changes at 02:00 local time. On the spring-forward Sunday her 02:00 and 02:30 slots do not
 * exist. On the fall-back Sunday her 01:00 and 01:30 slots occur twice, first at UTC-04:00 and
 * then at UTC-05:00.
 */
export const DEMO_WORKING_HOURS = {
  'demo-dr-okafor': {
    practitionerId: 'demo-dr-okafor',
    timeZone: 'America/New_York',
    availableTime: [
      { daysOfWeek: WEEKDAYS, availableStartTime: '09:00:00', availableEndTime: '17:00:00' },
      { daysOfWeek: ['sun'], availableStartTime: '00:00:00', availableEndTime: '04:00:00' },
    ],
  },
  'demo-dr-lindqvist': {
    practitionerId: 'demo-dr-lindqvist',
    timeZone: 'America/Los_Angeles',
    availableTime: [
      { daysOfWeek: WEEKDAYS, availableStartTime: '08:00:00', availableEndTime: '16:00:00' },
    ],
  },
} as const satisfies Record<string, PractitionerWorkingHours>;

/** Returns the id of a practitioner's Schedule, in Canvas's `Location.<id>-Staff.<id>` form. */
export function scheduleIdFor(practitionerId: string): string {
  return `Location.1-Staff.${practitionerId}`;
}

/**
 * Returns the id of a generated Slot: the practitioner id, `-slot-` and the UTC start in ISO 8601
 * basic format, e.g. `demo-dr-okafor-slot-20261207T140000Z`. A start in UTC keeps the two slots
 * of a repeated local hour apart.
 */
export function slotIdFor(practitionerId: string, start: Temporal.Instant): string {
  return `${practitionerId}-slot-${start.toString({ smallestUnit: 'second' }).replace(/[-:]/g, '')}`;
}

/**
 * Returns the range that the seed fills with Slots for a practitioner in `timeZone`. It runs from
 * `now` to 60 days later, or to 7 days after the zone's next DST transition if that is later, so
 * the seed always contains a transition. A zone without DST gets the 60 days.
 */
export function slotGenerationRange(
  timeZone: string,
  now: Temporal.Instant,
): { from: Temporal.Instant; to: Temporal.Instant } {
  const horizonEnd = now.add({ hours: SLOT_HORIZON_DAYS * 24 });
  const transition = now.toZonedDateTimeISO(timeZone).getTimeZoneTransition('next');
  if (!transition) {
    return { from: now, to: horizonEnd };
  }

  const afterTransition = transition
    .toInstant()
    .add({ hours: SLOT_DAYS_AFTER_DST_TRANSITION * 24 });
  const to =
    Temporal.Instant.compare(afterTransition, horizonEnd) > 0 ? afterTransition : horizonEnd;
  return { from: now, to };
}

/**
 * Generates the free Slots of a practitioner's working hours whose start lies in `[from, to)`,
 * ordered by start. Each slot starts at a local wall-clock time of a working-hours block and lasts
 * 30 minutes of elapsed time. A local time skipped by a DST change yields no slot, and a local time
 * that occurs twice yields two, one per UTC offset. `start` and `end` are FHIR instants in UTC
 * without fractional seconds, and `schedule` points at the practitioner's Schedule.
 */
export function generateWorkingHourSlots(
  workingHours: PractitionerWorkingHours,
  from: Temporal.Instant,
  to: Temporal.Instant,
): WithId<Slot>[] {
  const { practitionerId, timeZone } = workingHours;
  const scheduleReference = `Schedule/${scheduleIdFor(practitionerId)}`;
  const lastDate = to.toZonedDateTimeISO(timeZone).toPlainDate();

  const slots: WithId<Slot>[] = [];
  let date = from.toZonedDateTimeISO(timeZone).toPlainDate();
  while (Temporal.PlainDate.compare(date, lastDate) <= 0) {
    for (const localStart of localSlotStarts(workingHours, date)) {
      for (const start of instantsAtWallClockTime(localStart, timeZone)) {
        const inRange =
          Temporal.Instant.compare(start, from) >= 0 && Temporal.Instant.compare(start, to) < 0;
        if (!inRange) {
          continue;
        }
        slots.push({
          resourceType: 'Slot',
          id: slotIdFor(practitionerId, start),
          schedule: { reference: scheduleReference, type: 'Schedule' },
          status: 'free',
          start: fhirInstant(start),
          end: fhirInstant(start.add({ minutes: SLOT_MINUTES })),
        });
      }
    }
    date = date.add({ days: 1 });
  }

  return slots.sort((first, second) => first.start.localeCompare(second.start));
}

/** Formats an instant as a FHIR instant in UTC without fractional seconds. */
export function fhirInstant(instant: Temporal.Instant): string {
  return instant.toString({ smallestUnit: 'second' });
}

/**
 * Returns the instants at which the wall clock of `timeZone` shows `local`: none in a
 * spring-forward gap, two in a fall-back overlap, and one otherwise.
 */
export function instantsAtWallClockTime(
  local: Temporal.PlainDateTime,
  timeZone: string,
): Temporal.Instant[] {
  // 'earlier' and 'later' pick the two candidates of an overlap. In a gap both move the time off
  // `local`, so keeping only results that still show `local` drops a time that does not exist.
  const instants: Temporal.Instant[] = [];
  for (const disambiguation of ['earlier', 'later'] as const) {
    const zoned = local.toZonedDateTime(timeZone, { disambiguation });
    const showsLocal = zoned.toPlainDateTime().equals(local);
    const seen = instants.some((instant) => instant.equals(zoned.toInstant()));
    if (showsLocal && !seen) {
      instants.push(zoned.toInstant());
    }
  }
  return instants;
}

/** Returns the local start times of the slots on `date`, from every block that covers the day. */
function localSlotStarts(
  workingHours: PractitionerWorkingHours,
  date: Temporal.PlainDate,
): Temporal.PlainDateTime[] {
  const dayCode = DAY_CODES[date.dayOfWeek - 1];
  const starts: Temporal.PlainDateTime[] = [];

  for (const block of workingHours.availableTime) {
    if (!dayCode || !block.daysOfWeek.includes(dayCode)) {
      continue;
    }
    const blockStart = minutesAfterMidnight(Temporal.PlainTime.from(block.availableStartTime));
    const blockEnd = minutesAfterMidnight(Temporal.PlainTime.from(block.availableEndTime));
    for (let minute = blockStart; minute + SLOT_MINUTES <= blockEnd; minute += SLOT_MINUTES) {
      const time = new Temporal.PlainTime(Math.floor(minute / 60), minute % 60);
      starts.push(date.toPlainDateTime(time));
    }
  }
  return starts;
}

function minutesAfterMidnight(time: Temporal.PlainTime): number {
  return time.hour * 60 + time.minute;
}
