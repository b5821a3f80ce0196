import type { PatientSession } from '~/auth/session.server';
import { getEnv } from '~/config/env.server';

import { loadSchedulingContext } from './scheduling-context.server';
import { DATE_LINK_COUNT } from './scheduling-views';
import { slotInputSchema, slotToConfirm, type SlotInput } from './slot-input.server';
import { addDays, isIsoDate, localDateOf } from './zoned-time';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

export interface SchedulingDays {
  /** The day whose slots the page lists. */
  selected: string;
  /** Days offered as links, from today. */
  links: string[];
  /** First and last dates the date field accepts: today and the booking horizon. */
  min: string;
  max: string;
}

/**
 * Works out the days the scheduling pages offer, in the patient's time zone. A requested date
 * outside today to the horizon, or not a date, falls back to the first day that can have
 * bookable slots.
 */
export function schedulingPageDays(
  timeZone: string,
  requested: string | null,
  now = new Date(),
): SchedulingDays {
  const { minNoticeMinutes, horizonDays } = getEnv().scheduling;
  const min = localDateOf(now, timeZone);
  const max = localDateOf(new Date(now.getTime() + horizonDays * DAY_MS), timeZone);
  const earliest = localDateOf(new Date(now.getTime() + minNoticeMinutes * MINUTE_MS), timeZone);

  const valid = requested !== null && isIsoDate(requested) && requested >= min && requested <= max;
  const links = Array.from({ length: DATE_LINK_COUNT }, (_, index) => addDays(min, index)).filter(
    (day) => day <= max,
  );
  return { selected: valid ? requested : earliest, links, min, max };
}

/**
 * Returns the slot a failed booking or reschedule should show again, so the patient keeps the
 * choice. Nothing is kept when the slot was taken, or when it is not a valid slot of the patient's
 * practitioner.
 */
export async function choiceToKeep(
  session: PatientSession,
  submitted: unknown,
  failureCode: string,
): Promise<SlotInput | null> {
  if (failureCode === 'slot_taken') return null;
  // A request over the write limit must not reach FHIR, so its slot comes back as the patient
  // submitted it. The slot is valid in form but not checked against their practitioner, and
  // booking it later checks it against FHIR again.
  if (failureCode === 'rate_limited') return slotInputSchema.safeParse(submitted).data ?? null;
  try {
    return slotToConfirm(submitted, await loadSchedulingContext(session));
  } catch {
    return null;
  }
}
