import type { Slot } from '@medplum/fhirtypes';
import { Temporal } from 'temporal-polyfill';
import { describe, expect, it } from 'vitest';

import {
  DEMO_WORKING_HOURS,
  generateWorkingHourSlots,
  instantsAtWallClockTime,
  scheduleIdFor,
  slotGenerationRange,
  slotIdFor,
  type PractitionerWorkingHours,
} from './working-hours.js';

const OKAFOR = DEMO_WORKING_HOURS['demo-dr-okafor'];
const LINDQVIST = DEMO_WORKING_HOURS['demo-dr-lindqvist'];

/** Generates the slots whose start falls on one local date of the practitioner's time zone. */
function slotsOnLocalDate(workingHours: PractitionerWorkingHours, isoDate: string): Slot[] {
  const date = Temporal.PlainDate.from(isoDate);
  const from = date.toZonedDateTime(workingHours.timeZone).toInstant();
  const to = date.add({ days: 1 }).toZonedDateTime(workingHours.timeZone).toInstant();
  return generateWorkingHourSlots(workingHours, from, to);
}

/** Describes each slot by its local start and UTC offset, e.g. `01:30-05:00`. */
function localStarts(slots: Slot[], timeZone: string): string[] {
  return slots.map((slot) => {
    const zoned = Temporal.Instant.from(slot.start).toZonedDateTimeISO(timeZone);
    return `${zoned.toPlainTime().toString({ smallestUnit: 'minute' })}${zoned.offset}`;
  });
}

describe('DEMO_WORKING_HOURS', () => {
  it('names each practitioner and time zone', () => {
    expect(OKAFOR.practitionerId).toBe('demo-dr-okafor');
    expect(OKAFOR.timeZone).toBe('America/New_York');
    expect(LINDQVIST.practitionerId).toBe('demo-dr-lindqvist');
    expect(LINDQVIST.timeZone).toBe('America/Los_Angeles');
  });
});

describe('generateWorkingHourSlots on weekdays', () => {
  it('fills 09:00 to 17:00 in New York', () => {
    const slots = slotsOnLocalDate(OKAFOR, '2026-12-07');

    expect(slots).toHaveLength(16);
    expect(slots[0]?.start).toBe('2026-12-07T14:00:00Z');
    expect(slots[0]?.end).toBe('2026-12-07T14:30:00Z');
    expect(slots.at(-1)?.start).toBe('2026-12-07T21:30:00Z');
    expect(slots.at(-1)?.end).toBe('2026-12-07T22:00:00Z');
  });

  it('fills 08:00 to 16:00 in Los Angeles', () => {
    const slots = slotsOnLocalDate(LINDQVIST, '2026-12-07');

    expect(slots).toHaveLength(16);
    expect(slots[0]?.start).toBe('2026-12-07T16:00:00Z');
    expect(slots.at(-1)?.start).toBe('2026-12-07T23:30:00Z');
  });

  it('follows the UTC offset across DST', () => {
    const summer = slotsOnLocalDate(LINDQVIST, '2026-07-06');

    expect(summer[0]?.start).toBe('2026-07-06T15:00:00Z');
    expect(localStarts(summer, LINDQVIST.timeZone)[0]).toBe('08:00-07:00');
  });

  it('leaves Saturdays empty', () => {
    expect(slotsOnLocalDate(OKAFOR, '2026-12-12')).toEqual([]);
    expect(slotsOnLocalDate(LINDQVIST, '2026-12-12')).toEqual([]);
  });

  it('gives Dr. Lindqvist no Sunday slots', () => {
    expect(slotsOnLocalDate(LINDQVIST, '2026-12-13')).toEqual([]);
  });

  it('builds free slots on the practitioner schedule', () => {
    const [slot] = slotsOnLocalDate(OKAFOR, '2026-12-07');

    expect(slot).toEqual({
      resourceType: 'Slot',
      id: 'demo-dr-okafor-slot-20261207T140000Z',
      schedule: { reference: `Schedule/${scheduleIdFor('demo-dr-okafor')}`, type: 'Schedule' },
      status: 'free',
      start: '2026-12-07T14:00:00Z',
      end: '2026-12-07T14:30:00Z',
    });
  });
});

describe('generateWorkingHourSlots on DST days', () => {
  it('fills an ordinary on-call Sunday with 8 slots', () => {
    const slots = slotsOnLocalDate(OKAFOR, '2026-12-13');

    expect(localStarts(slots, OKAFOR.timeZone)).toEqual([
      '00:00-05:00',
      '00:30-05:00',
      '01:00-05:00',
      '01:30-05:00',
      '02:00-05:00',
      '02:30-05:00',
      '03:00-05:00',
      '03:30-05:00',
    ]);
  });

  for (const springForward of ['2026-03-08', '2027-03-14']) {
    it(`skips 02:00 and 02:30 on ${springForward}`, () => {
      const slots = slotsOnLocalDate(OKAFOR, springForward);

      expect(localStarts(slots, OKAFOR.timeZone)).toEqual([
        '00:00-05:00',
        '00:30-05:00',
        '01:00-05:00',
        '01:30-05:00',
        '03:00-04:00',
        '03:30-04:00',
      ]);
    });

    it(`ends the 01:30 slot at 03:00 on ${springForward}`, () => {
      const slot = slotsOnLocalDate(OKAFOR, springForward)[3];
      const end = Temporal.Instant.from(slot?.end ?? '').toZonedDateTimeISO(OKAFOR.timeZone);

      expect(end.toPlainTime().toString()).toBe('03:00:00');
      expect(end.offset).toBe('-04:00');
    });
  }

  for (const fallBack of ['2026-11-01', '2027-11-07']) {
    it(`doubles 01:00 and 01:30 on ${fallBack}`, () => {
      const slots = slotsOnLocalDate(OKAFOR, fallBack);

      expect(localStarts(slots, OKAFOR.timeZone)).toEqual([
        '00:00-04:00',
        '00:30-04:00',
        '01:00-04:00',
        '01:30-04:00',
        '01:00-05:00',
        '01:30-05:00',
        '02:00-05:00',
        '02:30-05:00',
        '03:00-05:00',
        '03:30-05:00',
      ]);
    });

    it(`keeps slots 30 minutes apart on ${fallBack}`, () => {
      const slots = slotsOnLocalDate(OKAFOR, fallBack);
      const starts = slots.map((slot) => Date.parse(slot.start));

      for (const [index, slot] of slots.entries()) {
        expect(Date.parse(slot.end) - Date.parse(slot.start)).toBe(30 * 60_000);
        if (index > 0) {
          expect((starts[index] ?? 0) - (starts[index - 1] ?? 0)).toBe(30 * 60_000);
        }
      }
      expect(new Set(slots.map((slot) => slot.id)).size).toBe(slots.length);
    });
  }

  it('leaves weekday hours whole on the Monday after a change', () => {
    const slots = slotsOnLocalDate(OKAFOR, '2026-03-09');

    expect(slots).toHaveLength(16);
    expect(slots[0]?.start).toBe('2026-03-09T13:00:00Z');
  });
});

describe('generateWorkingHourSlots range', () => {
  it('includes from and excludes to', () => {
    const from = Temporal.Instant.from('2026-12-07T14:00:00Z');
    const to = Temporal.Instant.from('2026-12-07T15:00:00Z');

    const slots = generateWorkingHourSlots(OKAFOR, from, to);

    expect(slots.map((slot) => slot.start)).toEqual([
      '2026-12-07T14:00:00Z',
      '2026-12-07T14:30:00Z',
    ]);
  });

  it('leaves out a slot that started before from', () => {
    const from = Temporal.Instant.from('2026-12-07T14:10:00Z');
    const to = Temporal.Instant.from('2026-12-07T15:00:00Z');

    const slots = generateWorkingHourSlots(OKAFOR, from, to);

    expect(slots.map((slot) => slot.start)).toEqual(['2026-12-07T14:30:00Z']);
  });

  it('writes instants in UTC without milliseconds', () => {
    const from = Temporal.Instant.from('2026-12-01T00:00:00Z');
    const to = Temporal.Instant.from('2027-01-01T00:00:00Z');

    for (const slot of generateWorkingHourSlots(OKAFOR, from, to)) {
      expect(slot.start).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$/);
      expect(slot.end).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$/);
      expect(slot.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
    }
  });
});

describe('slotGenerationRange', () => {
  it('reaches 7 days past the March transition in December', () => {
    const now = Temporal.Instant.from('2026-12-07T12:00:00Z');

    const range = slotGenerationRange('America/New_York', now);

    expect(range.from.toString()).toBe('2026-12-07T12:00:00Z');
    expect(range.to.toString()).toBe('2027-03-21T07:00:00Z');
  });

  it('uses the zone of the practitioner', () => {
    const now = Temporal.Instant.from('2026-12-07T12:00:00Z');

    const range = slotGenerationRange('America/Los_Angeles', now);

    expect(range.to.toString()).toBe('2027-03-21T10:00:00Z');
  });

  it('keeps 60 days when the transition is sooner', () => {
    const now = Temporal.Instant.from('2026-10-15T12:00:00Z');

    const range = slotGenerationRange('America/New_York', now);

    expect(range.to.toString()).toBe('2026-12-14T12:00:00Z');
  });

  it('keeps 60 days in a zone without DST', () => {
    const now = Temporal.Instant.from('2026-12-07T12:00:00Z');

    const range = slotGenerationRange('UTC', now);

    expect(range.to.toString()).toBe('2027-02-05T12:00:00Z');
  });

  it('includes both slots of the repeated hour from spring', () => {
    const now = Temporal.Instant.from('2026-05-04T12:00:00Z');
    const { from, to } = slotGenerationRange(OKAFOR.timeZone, now);

    const ids = generateWorkingHourSlots(OKAFOR, from, to).map((slot) => slot.id);

    expect(ids).toContain('demo-dr-okafor-slot-20261101T050000Z');
    expect(ids).toContain('demo-dr-okafor-slot-20261101T060000Z');
  });
});

describe('slotIdFor', () => {
  it('uses the UTC start in basic format', () => {
    const id = slotIdFor('demo-dr-lindqvist', Temporal.Instant.from('2026-12-07T16:00:00.000Z'));

    expect(id).toBe('demo-dr-lindqvist-slot-20261207T160000Z');
  });
});

describe('instantsAtWallClockTime', () => {
  it('returns none, one or two instants', () => {
    const count = (local: string): number =>
      instantsAtWallClockTime(Temporal.PlainDateTime.from(local), 'America/New_York').length;

    expect(count('2026-03-08T02:30')).toBe(0);
    expect(count('2026-03-08T03:00')).toBe(1);
    expect(count('2026-11-01T01:30')).toBe(2);
    expect(count('2026-11-01T02:00')).toBe(1);
  });
});
