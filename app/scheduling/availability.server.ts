import type { Appointment, Schedule } from '@medplum/fhirtypes';

import type { PatientSession } from '~/auth/session.server';
import { searchResources } from '~/clients/fhir.server';
import { getEnv } from '~/config/env.server';
import { parseReference } from '~/prescriptions/reference-cache.server';

import {
  busyIntervalsFromAppointments,
  candidateSlotsFromFhir,
  selectOpenSlots,
  type BusyInterval,
  type CandidateSlot,
} from './availability';
import { selectLedgerBusyIntervals } from './booking-ledger.server';
import { loadSchedulingContext, type SchedulingContext } from './scheduling-context.server';
import type { Availability, OpenSlot } from './slot';
import { formatIsoWithOffset, localDateOf, zonedDayRange } from './zoned-time';

const MINUTE_MS = 60_000;
/** Appointments that start this long before a window can still reach into it. */
const MAX_VISIT_MS = 24 * 60 * MINUTE_MS;

/**
 * Returns the open slots on `date`, a calendar day in the patient's time zone, for the
 * patient's assigned practitioner. These are the free FHIR Slots of the practitioner's
 * Schedules that overlap none of the practitioner's Appointments or ledger bookings and start
 * within the notice and horizon settings.
 */
export async function getAvailability(
  session: PatientSession,
  date: string,
): Promise<Availability> {
  const context = await loadSchedulingContext(session);
  return findOpenSlots(context, date);
}

export async function findOpenSlots(
  context: SchedulingContext,
  date: string,
  options: { ignoreAppointmentId?: string } = {},
): Promise<Availability> {
  const window = zonedDayRange(date, context.timeZone);
  const open = await openCandidates(context.practitioner.id, window, options);

  return {
    date,
    timeZone: context.timeZone,
    practitioner: context.practitioner,
    slots: open.map((slot) => toOpenSlot(slot, context)),
  };
}

/** Days ahead searched for the first day with an open slot. */
const FIRST_OPEN_DAY_SEARCH_DAYS = 14;

/**
 * Returns the first date, in the patient's time zone, with an open slot in the next two weeks,
 * or undefined when there is none. One search covers all the days.
 */
export async function findFirstOpenDate(context: SchedulingContext): Promise<string | undefined> {
  const start = new Date();
  const end = new Date(start.getTime() + FIRST_OPEN_DAY_SEARCH_DAYS * 24 * 60 * MINUTE_MS);
  const [first] = await openCandidates(context.practitioner.id, { start, end });
  return first ? localDateOf(first.start, context.timeZone) : undefined;
}

/**
 * Returns the practitioner's open candidate slots whose start is in `window`. Booking calls it
 * again with the one slot's own time, so the check at booking is the same as the list's.
 */
export async function openCandidates(
  practitionerId: string,
  window: { start: Date; end: Date },
  options: { ignoreAppointmentId?: string; ignoreBookingId?: string } = {},
): Promise<CandidateSlot[]> {
  const { scheduling } = getEnv();
  const schedules = await findSchedules(practitionerId);
  const [slotLists, appointments, ledgerBusy] = await Promise.all([
    Promise.all(schedules.map((schedule) => searchFreeSlots(schedule, window))),
    searchPractitionerAppointments(practitionerId, window),
    selectLedgerBusyIntervals(practitionerId, window, options.ignoreBookingId),
  ]);

  const busy: BusyInterval[] = [
    ...busyIntervalsFromAppointments(
      appointments.filter((appointment) => appointment.id !== options.ignoreAppointmentId),
    ),
    ...ledgerBusy,
  ];
  return selectOpenSlots(candidateSlotsFromFhir(slotLists.flat()), busy, window, {
    now: new Date(),
    minNoticeMinutes: scheduling.minNoticeMinutes,
    horizonDays: scheduling.horizonDays,
    visitLengthMinutes: scheduling.visitLengthMinutes,
  });
}

function toOpenSlot(slot: CandidateSlot, context: SchedulingContext): OpenSlot {
  const visitEnd = new Date(
    slot.start.getTime() + getEnv().scheduling.visitLengthMinutes * MINUTE_MS,
  );
  return {
    slotId: slot.id,
    start: formatIsoWithOffset(slot.start, context.timeZone),
    end: formatIsoWithOffset(visitEnd, context.timeZone),
    timeZone: context.timeZone,
    practitioner: context.practitioner,
  };
}

/** Finds the practitioner's active Schedules; Canvas names them `Location.<id>-Staff.<id>`. */
export async function findSchedules(
  practitionerId: string,
): Promise<(Schedule & { id: string })[]> {
  const schedules = await searchResources('Schedule', {
    actor: `Practitioner/${practitionerId}`,
    active: 'true',
  });
  return schedules.filter(
    (schedule): schedule is Schedule & { id: string } =>
      schedule.id !== undefined &&
      (schedule.actor ?? []).some((actor) => {
        const parsed = parseReference(actor.reference);
        return parsed?.type === 'Practitioner' && parsed.id === practitionerId;
      }),
  );
}

function searchFreeSlots(schedule: Schedule & { id: string }, window: { start: Date; end: Date }) {
  // Canvas requires `schedule` on every Slot search.
  return searchResources('Slot', {
    schedule: `Schedule/${schedule.id}`,
    start: [`ge${window.start.toISOString()}`, `lt${window.end.toISOString()}`],
    status: 'free',
  });
}

function searchPractitionerAppointments(
  practitionerId: string,
  window: { start: Date; end: Date },
): Promise<Appointment[]> {
  return searchResources('Appointment', {
    practitioner: `Practitioner/${practitionerId}`,
    date: [
      `ge${new Date(window.start.getTime() - MAX_VISIT_MS).toISOString()}`,
      `lt${window.end.toISOString()}`,
    ],
  });
}

/** Location of a Canvas Schedule id `Location.<id>-Staff.<id>`, e.g. `Location/1`. */
export function locationOfSchedule(scheduleId: string): string | undefined {
  const match = /^Location\.([A-Za-z0-9.-]+?)-Staff\./.exec(scheduleId);
  return match ? `Location/${match[1]}` : undefined;
}
