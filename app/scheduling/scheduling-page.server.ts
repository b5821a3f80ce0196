import { getEnv } from '~/config/env.server';

import { DATE_LINK_COUNT } from './scheduling-views';
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
