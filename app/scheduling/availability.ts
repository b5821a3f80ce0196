import type { Appointment, Slot } from '@medplum/fhirtypes';

import { parseInstantWithOffset } from './zoned-time';

const MINUTE_MS = 60 * 1000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** A free FHIR `Slot` reduced to its id and time range. */
export interface CandidateSlot {
  id: string;
  start: Date;
  end: Date;
}

/** A half-open time range `[start, end)` that a booked visit may not overlap. */
export interface BusyInterval {
  start: Date;
  end: Date;
}

/** Booking rules applied to candidate slots. */
export interface AvailabilityPolicy {
  now: Date;
  /** Earliest bookable start is `now` plus this many minutes. */
  minNoticeMinutes: number;
  /** Latest bookable start is `now` plus this many 24-hour days. */
  horizonDays: number;
  /** A visit occupies `[slot.start, slot.start + visitLengthMinutes)`. */
  visitLengthMinutes: number;
}

/**
 * Appointment statuses that release their time. Every other status, including `proposed` and
 * `waitlist`, keeps the time busy so that time already held is not offered again.
 */
const RELEASED_APPOINTMENT_STATUSES: ReadonlySet<Appointment['status']> = new Set([
  'cancelled',
  'noshow',
  'entered-in-error',
]);

/**
 * Converts FHIR `Slot` resources into candidate slots. A slot is kept only when its status is
 * `free`, it has an id, and `Slot.start` and `Slot.end` are instants with an offset and end after
 * start.
 */
export function candidateSlotsFromFhir(slots: Slot[]): CandidateSlot[] {
  const candidates: CandidateSlot[] = [];

  for (const slot of slots) {
    if (slot.status !== 'free' || !slot.id) continue;

    const start = parseInstantWithOffset(slot.start);
    const end = parseInstantWithOffset(slot.end);
    if (!start || !end || end <= start) continue;

    candidates.push({ id: slot.id, start, end });
  }

  return candidates;
}

/**
 * Converts FHIR `Appointment` resources into the intervals they keep busy. An appointment counts
 * unless its status is `cancelled`, `noshow` or `entered-in-error`. Its interval runs from
 * `Appointment.start` to `Appointment.end`, or to start plus `Appointment.minutesDuration` when
 * `end` is missing. Appointments without a parseable start are skipped.
 */
export function busyIntervalsFromAppointments(appointments: Appointment[]): BusyInterval[] {
  const intervals: BusyInterval[] = [];

  for (const appointment of appointments) {
    if (RELEASED_APPOINTMENT_STATUSES.has(appointment.status)) continue;

    const start = appointment.start ? parseInstantWithOffset(appointment.start) : undefined;
    if (!start) continue;

    const end = appointmentEnd(appointment, start);
    // NOTE: an appointment with neither `end` nor a positive `minutesDuration` has no known
    // length, so it blocks nothing. FHIR R4 invariant app-3 allows a missing `end` only on
    // proposed, cancelled and waitlist appointments.
    if (!end || end <= start) continue;

    intervals.push({ start, end });
  }

  return intervals;
}

/**
 * Selects the slots a patient may book, sorted by start. A slot is kept when its start lies in
 * `[window.start, window.end)` and between `now + minNoticeMinutes` and `now + horizonDays`
 * (both inclusive), it is at least `visitLengthMinutes` long, and the visit interval overlaps
 * no busy interval. Intervals that only touch do not overlap. Among kept slots that share an id
 * or a start instant, the one with the smallest id wins, and for equal ids the earlier in
 * `candidates`.
 */
export function selectOpenSlots(
  candidates: CandidateSlot[],
  busy: BusyInterval[],
  window: { start: Date; end: Date },
  policy: AvailabilityPolicy,
): CandidateSlot[] {
  assertValidPolicy(policy);

  const earliestStartMs = policy.now.getTime() + policy.minNoticeMinutes * MINUTE_MS;
  const latestStartMs = policy.now.getTime() + policy.horizonDays * DAY_MS;
  const visitLengthMs = policy.visitLengthMinutes * MINUTE_MS;

  const bookable = candidates.filter((slot) => {
    const startMs = slot.start.getTime();
    const visitEndMs = startMs + visitLengthMs;

    return (
      startMs >= window.start.getTime() &&
      startMs < window.end.getTime() &&
      startMs >= earliestStartMs &&
      startMs <= latestStartMs &&
      slot.end.getTime() - startMs >= visitLengthMs &&
      !busy.some((interval) => overlaps(startMs, visitEndMs, interval))
    );
  });

  return removeDuplicateSlots(bookable).sort(
    (left, right) => left.start.getTime() - right.start.getTime(),
  );
}

/**
 * Returns true when it is too late to reschedule or cancel a visit that starts at `start`, that
 * is when `now` is at or after `cutoffHours` before the start.
 */
export function isWithinChangeCutoff(start: Date, now: Date, cutoffHours: number): boolean {
  return now.getTime() >= start.getTime() - cutoffHours * HOUR_MS;
}

function appointmentEnd(appointment: Appointment, start: Date): Date | undefined {
  if (appointment.end) return parseInstantWithOffset(appointment.end);

  const minutes = appointment.minutesDuration;
  if (minutes === undefined || !(minutes > 0)) return undefined;
  return new Date(start.getTime() + minutes * MINUTE_MS);
}

/** Half-open overlap test of `[startMs, endMs)` against `[interval.start, interval.end)`. */
function overlaps(startMs: number, endMs: number, interval: BusyInterval): boolean {
  return startMs < interval.end.getTime() && interval.start.getTime() < endMs;
}

/**
 * Keeps the first slot per id and per start instant, in id order. Ids are compared by UTF-16 code
 * units, not by locale, so the choice is the same on every machine.
 */
function removeDuplicateSlots(slots: CandidateSlot[]): CandidateSlot[] {
  const byId = [...slots].sort((left, right) => compareCodeUnits(left.id, right.id));

  const seenIds = new Set<string>();
  const seenStartsMs = new Set<number>();
  const unique: CandidateSlot[] = [];

  for (const slot of byId) {
    const startMs = slot.start.getTime();
    if (seenIds.has(slot.id) || seenStartsMs.has(startMs)) continue;

    seenIds.add(slot.id);
    seenStartsMs.add(startMs);
    unique.push(slot);
  }

  return unique;
}

function compareCodeUnits(left: string, right: string): number {
  if (left < right) return -1;
  if (left > right) return 1;
  return 0;
}

function assertValidPolicy(policy: AvailabilityPolicy): void {
  if (Number.isNaN(policy.now.getTime())) {
    throw new RangeError('Invalid availability policy: now is an invalid Date.');
  }

  assertNonNegative('minNoticeMinutes', policy.minNoticeMinutes);
  assertNonNegative('horizonDays', policy.horizonDays);

  const visitLength = policy.visitLengthMinutes;
  if (!Number.isFinite(visitLength) || visitLength <= 0) {
    throw new RangeError(
      `Invalid availability policy: visitLengthMinutes is ${visitLength}, but it must be a positive number.`,
    );
  }
}

function assertNonNegative(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(
      `Invalid availability policy: ${name} is ${value}, but it must be a finite number of 0 or more.`,
    );
  }
}
