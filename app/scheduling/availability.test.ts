import type { Appointment, Slot } from '@medplum/fhirtypes';
import { Temporal } from 'temporal-polyfill';
import { describe, expect, it } from 'vitest';

import {
  type AvailabilityPolicy,
  type BusyInterval,
  type CandidateSlot,
  busyIntervalsFromAppointments,
  candidateSlotsFromFhir,
  isWithinChangeCutoff,
  selectOpenSlots,
} from './availability';
import { formatIsoWithOffset, localDateOf, zonedDayRange } from './zoned-time';

const MINUTE_MS = 60 * 1000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

const CLINIC_ZONE = 'America/New_York';

function at(iso: string): Date {
  return new Date(iso);
}

function slot(id: string, startIso: string, minutes = 30): CandidateSlot {
  const start = at(startIso);
  return { id, start, end: new Date(start.getTime() + minutes * MINUTE_MS) };
}

function busy(startIso: string, endIso: string): BusyInterval {
  return { start: at(startIso), end: at(endIso) };
}

/** Builds a policy that lets every slot in 2027 through, so a test can vary one rule at a time. */
function openPolicy(overrides: Partial<AvailabilityPolicy> = {}): AvailabilityPolicy {
  return {
    now: at('2027-01-01T00:00:00Z'),
    minNoticeMinutes: 0,
    horizonDays: 400,
    visitLengthMinutes: 30,
    ...overrides,
  };
}

const ALL_OF_2027 = { start: at('2027-01-01T00:00:00Z'), end: at('2028-01-01T00:00:00Z') };

function ids(slots: CandidateSlot[]): string[] {
  return slots.map((candidate) => candidate.id);
}

/**
 * Builds one 30-minute slot for every wall-clock time every 30 minutes from `firstDate` to
 * `lastDate` in `timeZone`. A wall time that does not exist (spring forward) gets no slot, and
 * one that occurs twice (fall back) gets a slot for each instant.
 */
function wallClockSlots(firstDate: string, lastDate: string, timeZone: string): CandidateSlot[] {
  const slots: CandidateSlot[] = [];
  const last = Temporal.PlainDate.from(lastDate);

  for (
    let date = Temporal.PlainDate.from(firstDate);
    Temporal.PlainDate.compare(date, last) <= 0;
    date = date.add({ days: 1 })
  ) {
    for (let minuteOfDay = 0; minuteOfDay < 24 * 60; minuteOfDay += 30) {
      const wallTime = date.toPlainDateTime({
        hour: Math.floor(minuteOfDay / 60),
        minute: minuteOfDay % 60,
      });

      for (const instant of instantsAtWallTime(wallTime, timeZone)) {
        const start = new Date(instant.epochMilliseconds);
        slots.push({
          id: `slot-${start.toISOString()}`,
          start,
          end: new Date(start.getTime() + 30 * MINUTE_MS),
        });
      }
    }
  }

  return slots;
}

/** Lists the instants whose local time in `timeZone` is exactly `wallTime`: zero, one or two. */
function instantsAtWallTime(
  wallTime: Temporal.PlainDateTime,
  timeZone: string,
): Temporal.ZonedDateTime[] {
  const earlier = wallTime.toZonedDateTime(timeZone, { disambiguation: 'earlier' });
  const later = wallTime.toZonedDateTime(timeZone, { disambiguation: 'later' });

  const candidates = earlier.equals(later) ? [earlier] : [earlier, later];
  return candidates.filter((zoned) => zoned.toPlainDateTime().equals(wallTime));
}

function localTimesOn(date: string, timeZone: string, candidates: CandidateSlot[]): string[] {
  const open = selectOpenSlots(candidates, [], zonedDayRange(date, timeZone), openPolicy());
  return open.map((candidate) => formatIsoWithOffset(candidate.start, timeZone));
}

describe('candidateSlotsFromFhir', () => {
  const freeSlot: Slot = {
    resourceType: 'Slot',
    id: 'slot-1',
    schedule: { reference: 'Schedule/1' },
    status: 'free',
    start: '2027-03-10T14:00:00Z',
    end: '2027-03-10T14:30:00Z',
  };

  it('converts a free slot', () => {
    expect(candidateSlotsFromFhir([freeSlot])).toEqual([
      { id: 'slot-1', start: at('2027-03-10T14:00:00Z'), end: at('2027-03-10T14:30:00Z') },
    ]);
  });

  it('reads offsets in start and end', () => {
    const [candidate] = candidateSlotsFromFhir([
      { ...freeSlot, start: '2027-03-10T09:00:00-05:00', end: '2027-03-10T09:30:00-05:00' },
    ]);

    expect(candidate?.start.toISOString()).toBe('2027-03-10T14:00:00.000Z');
    expect(candidate?.end.toISOString()).toBe('2027-03-10T14:30:00.000Z');
  });

  it.each(['busy', 'busy-unavailable', 'busy-tentative', 'entered-in-error'] as const)(
    'drops a %s slot',
    (status) => {
      expect(candidateSlotsFromFhir([{ ...freeSlot, status }])).toEqual([]);
    },
  );

  it('drops a slot without an id', () => {
    expect(candidateSlotsFromFhir([{ ...freeSlot, id: undefined }])).toEqual([]);
    expect(candidateSlotsFromFhir([{ ...freeSlot, id: '' }])).toEqual([]);
  });

  it.each([
    ['start without offset', { start: '2027-03-10T14:00:00' }],
    ['unparseable start', { start: 'tomorrow' }],
    ['unparseable end', { end: '2027-03-10' }],
    ['end equal to start', { end: '2027-03-10T14:00:00Z' }],
    ['end before start', { end: '2027-03-10T13:30:00Z' }],
  ])('drops a slot with %s', (_case, change) => {
    expect(candidateSlotsFromFhir([{ ...freeSlot, ...change }])).toEqual([]);
  });

  it('keeps valid slots among invalid ones', () => {
    const slots: Slot[] = [
      { ...freeSlot, id: 'a' },
      { ...freeSlot, id: 'b', status: 'busy' },
      { ...freeSlot, id: 'c', start: '2027-03-10T15:00:00Z', end: '2027-03-10T15:30:00Z' },
    ];

    expect(ids(candidateSlotsFromFhir(slots))).toEqual(['a', 'c']);
  });
});

describe('busyIntervalsFromAppointments', () => {
  const booked: Appointment = {
    resourceType: 'Appointment',
    id: 'appointment-1',
    status: 'booked',
    start: '2027-03-10T14:00:00Z',
    end: '2027-03-10T14:30:00Z',
    participant: [{ status: 'accepted' }],
  };

  it('uses start and end', () => {
    expect(busyIntervalsFromAppointments([booked])).toEqual([
      busy('2027-03-10T14:00:00Z', '2027-03-10T14:30:00Z'),
    ]);
  });

  it('uses minutesDuration without end', () => {
    const appointment: Appointment = { ...booked, end: undefined, minutesDuration: 45 };

    expect(busyIntervalsFromAppointments([appointment])).toEqual([
      busy('2027-03-10T14:00:00Z', '2027-03-10T14:45:00Z'),
    ]);
  });

  it('prefers end over minutesDuration', () => {
    const appointment: Appointment = { ...booked, minutesDuration: 90 };

    expect(busyIntervalsFromAppointments([appointment])).toEqual([
      busy('2027-03-10T14:00:00Z', '2027-03-10T14:30:00Z'),
    ]);
  });

  it.each([
    'proposed',
    'pending',
    'booked',
    'arrived',
    'fulfilled',
    'checked-in',
    'waitlist',
  ] as const)('keeps a %s appointment', (status) => {
    expect(busyIntervalsFromAppointments([{ ...booked, status }])).toHaveLength(1);
  });

  it.each(['cancelled', 'noshow', 'entered-in-error'] as const)(
    'releases a %s appointment',
    (status) => {
      expect(busyIntervalsFromAppointments([{ ...booked, status }])).toEqual([]);
    },
  );

  it('skips an appointment without start', () => {
    expect(busyIntervalsFromAppointments([{ ...booked, start: undefined }])).toEqual([]);
  });

  it.each([
    ['no end or duration', { end: undefined }],
    ['zero duration', { end: undefined, minutesDuration: 0 }],
    ['end before start', { end: '2027-03-10T13:00:00Z' }],
    ['unparseable end', { end: 'later' }],
  ])('skips an appointment with %s', (_case, change) => {
    expect(busyIntervalsFromAppointments([{ ...booked, ...change }])).toEqual([]);
  });
});

describe('selectOpenSlots overlap', () => {
  const candidate = slot('s1', '2027-03-10T14:00:00Z');

  it.each([
    ['ends at slot start', busy('2027-03-10T13:00:00Z', '2027-03-10T14:00:00Z')],
    ['starts at visit end', busy('2027-03-10T14:30:00Z', '2027-03-10T15:00:00Z')],
    ['is earlier', busy('2027-03-10T10:00:00Z', '2027-03-10T11:00:00Z')],
  ])('keeps slot when busy time %s', (_case, interval) => {
    expect(ids(selectOpenSlots([candidate], [interval], ALL_OF_2027, openPolicy()))).toEqual([
      's1',
    ]);
  });

  it.each([
    ['ends 1 ms after slot start', busy('2027-03-10T13:00:00Z', '2027-03-10T14:00:00.001Z')],
    ['starts 1 ms before visit end', busy('2027-03-10T14:29:59.999Z', '2027-03-10T15:00:00Z')],
    ['lies inside the visit', busy('2027-03-10T14:10:00Z', '2027-03-10T14:20:00Z')],
    ['covers the visit', busy('2027-03-10T13:00:00Z', '2027-03-10T16:00:00Z')],
    ['matches the visit', busy('2027-03-10T14:00:00Z', '2027-03-10T14:30:00Z')],
  ])('drops slot when busy time %s', (_case, interval) => {
    expect(selectOpenSlots([candidate], [interval], ALL_OF_2027, openPolicy())).toEqual([]);
  });

  it('checks only the visit part of a long slot', () => {
    const longSlot = slot('long', '2027-03-10T14:00:00Z', 60);
    const laterBusy = busy('2027-03-10T14:30:00Z', '2027-03-10T15:00:00Z');

    expect(ids(selectOpenSlots([longSlot], [laterBusy], ALL_OF_2027, openPolicy()))).toEqual([
      'long',
    ]);
    expect(
      selectOpenSlots([longSlot], [laterBusy], ALL_OF_2027, openPolicy({ visitLengthMinutes: 31 })),
    ).toEqual([]);
  });

  it('applies booked appointments end to end', () => {
    const candidates = candidateSlotsFromFhir([
      {
        resourceType: 'Slot',
        id: 'nine',
        schedule: { reference: 'Schedule/1' },
        status: 'free',
        start: '2027-03-10T09:00:00-05:00',
        end: '2027-03-10T09:30:00-05:00',
      },
      {
        resourceType: 'Slot',
        id: 'nine-thirty',
        schedule: { reference: 'Schedule/1' },
        status: 'free',
        start: '2027-03-10T09:30:00-05:00',
        end: '2027-03-10T10:00:00-05:00',
      },
    ]);
    const busyIntervals = busyIntervalsFromAppointments([
      {
        resourceType: 'Appointment',
        status: 'booked',
        start: '2027-03-10T14:00:00Z',
        minutesDuration: 30,
        participant: [{ status: 'accepted' }],
      },
    ]);

    expect(ids(selectOpenSlots(candidates, busyIntervals, ALL_OF_2027, openPolicy()))).toEqual([
      'nine-thirty',
    ]);
  });
});

describe('selectOpenSlots policy', () => {
  const now = at('2027-03-10T12:00:00Z');

  it('keeps slot exactly at minimum notice', () => {
    const policy = openPolicy({ now, minNoticeMinutes: 120 });
    const atNotice = slot('at', '2027-03-10T14:00:00Z');
    const justBefore = slot('before', '2027-03-10T13:59:59.999Z');

    expect(ids(selectOpenSlots([atNotice, justBefore], [], ALL_OF_2027, policy))).toEqual(['at']);
  });

  it('drops slot in the past', () => {
    const policy = openPolicy({ now });

    expect(
      ids(selectOpenSlots([slot('past', '2027-03-10T11:30:00Z')], [], ALL_OF_2027, policy)),
    ).toEqual([]);
  });

  it('keeps slot exactly at horizon', () => {
    const policy = openPolicy({ now, horizonDays: 14 });
    const horizon = new Date(now.getTime() + 14 * DAY_MS);
    const atHorizon = slot('at', horizon.toISOString());
    const justAfter = slot('after', new Date(horizon.getTime() + 1).toISOString());

    expect(ids(selectOpenSlots([atHorizon, justAfter], [], ALL_OF_2027, policy))).toEqual(['at']);
  });

  it('counts horizon days as 24 hours across DST', () => {
    // 2027-03-14 has 23 hours in New York, so two 24-hour days end at 11:00 EDT, not 10:00.
    const policy = openPolicy({ now: at('2027-03-13T10:00:00-05:00'), horizonDays: 2 });
    const sameWallTime = slot('same-wall-time', '2027-03-15T10:00:00-04:00');
    const atHorizon = slot('horizon', '2027-03-15T11:00:00-04:00');
    const pastHorizon = slot('past-horizon', '2027-03-15T11:00:00.001-04:00');

    const open = selectOpenSlots([atHorizon, pastHorizon, sameWallTime], [], ALL_OF_2027, policy);

    expect(ids(open)).toEqual(['same-wall-time', 'horizon']);
  });

  it('keeps slot exactly one visit long', () => {
    const exact = slot('exact', '2027-03-10T14:00:00Z', 30);
    const short: CandidateSlot = {
      id: 'short',
      start: at('2027-03-10T15:00:00Z'),
      end: at('2027-03-10T15:29:59.999Z'),
    };
    const long = slot('long', '2027-03-10T16:00:00Z', 60);

    expect(ids(selectOpenSlots([exact, short, long], [], ALL_OF_2027, openPolicy()))).toEqual([
      'exact',
      'long',
    ]);
  });

  it('rejects a non-positive visit length', () => {
    expect(() =>
      selectOpenSlots([], [], ALL_OF_2027, openPolicy({ visitLengthMinutes: 0 })),
    ).toThrow('visitLengthMinutes is 0');
  });

  it('rejects a negative notice', () => {
    expect(() =>
      selectOpenSlots([], [], ALL_OF_2027, openPolicy({ minNoticeMinutes: -5 })),
    ).toThrow('minNoticeMinutes is -5');
  });

  it('rejects an infinite horizon', () => {
    expect(() =>
      selectOpenSlots([], [], ALL_OF_2027, openPolicy({ horizonDays: Number.POSITIVE_INFINITY })),
    ).toThrow(RangeError);
  });
});

describe('selectOpenSlots window', () => {
  const window = { start: at('2027-03-10T05:00:00Z'), end: at('2027-03-11T05:00:00Z') };

  it('includes window start and excludes window end', () => {
    const candidates = [
      slot('before', '2027-03-10T04:30:00Z'),
      slot('first', '2027-03-10T05:00:00Z'),
      slot('last', '2027-03-11T04:30:00Z'),
      slot('end', '2027-03-11T05:00:00Z'),
    ];

    expect(ids(selectOpenSlots(candidates, [], window, openPolicy()))).toEqual(['first', 'last']);
  });
});

describe('selectOpenSlots duplicates and order', () => {
  it('sorts by start', () => {
    const candidates = [
      slot('c', '2027-03-10T16:00:00Z'),
      slot('a', '2027-03-10T15:00:00Z'),
      slot('b', '2027-03-10T14:00:00Z'),
    ];

    expect(ids(selectOpenSlots(candidates, [], ALL_OF_2027, openPolicy()))).toEqual([
      'b',
      'a',
      'c',
    ]);
  });

  it('keeps one slot per id', () => {
    const candidates = [slot('a', '2027-03-10T14:00:00Z'), slot('a', '2027-03-10T15:00:00Z')];
    const open = selectOpenSlots(candidates, [], ALL_OF_2027, openPolicy());

    expect(open).toHaveLength(1);
    expect(open[0]?.start.toISOString()).toBe('2027-03-10T14:00:00.000Z');
  });

  it('keeps smallest id per start', () => {
    const candidates = [
      slot('slot-b', '2027-03-10T14:00:00Z'),
      slot('slot-a', '2027-03-10T14:00:00Z'),
      slot('slot-c', '2027-03-10T14:00:00Z'),
    ];

    expect(ids(selectOpenSlots(candidates, [], ALL_OF_2027, openPolicy()))).toEqual(['slot-a']);
  });

  it('treats equal instants with different offsets as one start', () => {
    const candidates = candidateSlotsFromFhir([
      {
        resourceType: 'Slot',
        id: 'utc',
        schedule: { reference: 'Schedule/1' },
        status: 'free',
        start: '2027-03-10T14:00:00Z',
        end: '2027-03-10T14:30:00Z',
      },
      {
        resourceType: 'Slot',
        id: 'eastern',
        schedule: { reference: 'Schedule/1' },
        status: 'free',
        start: '2027-03-10T09:00:00-05:00',
        end: '2027-03-10T09:30:00-05:00',
      },
    ]);

    expect(ids(selectOpenSlots(candidates, [], ALL_OF_2027, openPolicy()))).toEqual(['eastern']);
  });

  it('keeps a duplicate whose twin is filtered out', () => {
    const tooShort = slot('a', '2027-03-10T14:00:00Z', 15);
    const fullLength = slot('b', '2027-03-10T14:00:00Z', 30);

    expect(ids(selectOpenSlots([tooShort, fullLength], [], ALL_OF_2027, openPolicy()))).toEqual([
      'b',
    ]);
  });

  it('leaves its input unchanged', () => {
    const candidates = [slot('b', '2027-03-10T15:00:00Z'), slot('a', '2027-03-10T14:00:00Z')];

    selectOpenSlots(candidates, [], ALL_OF_2027, openPolicy());

    expect(ids(candidates)).toEqual(['b', 'a']);
  });
});

describe('selectOpenSlots across DST', () => {
  it('skips nonexistent 02:00 on spring-forward day', () => {
    const candidates = wallClockSlots('2027-03-13', '2027-03-15', CLINIC_ZONE);

    const times = localTimesOn('2027-03-14', CLINIC_ZONE, candidates);

    expect(times).toHaveLength(46);
    expect(times.filter((time) => /T02:/.test(time))).toEqual([]);
    expect(times.slice(0, 5)).toEqual([
      '2027-03-14T00:00:00-05:00',
      '2027-03-14T00:30:00-05:00',
      '2027-03-14T01:00:00-05:00',
      '2027-03-14T01:30:00-05:00',
      '2027-03-14T03:00:00-04:00',
    ]);
    expect(times.at(-1)).toBe('2027-03-14T23:30:00-04:00');
  });

  it('lists repeated 01:00 and 01:30 on fall-back day', () => {
    const candidates = wallClockSlots('2027-11-06', '2027-11-08', CLINIC_ZONE);

    const times = localTimesOn('2027-11-07', CLINIC_ZONE, candidates);

    expect(times).toHaveLength(50);
    expect(times.slice(0, 7)).toEqual([
      '2027-11-07T00:00:00-04:00',
      '2027-11-07T00:30:00-04:00',
      '2027-11-07T01:00:00-04:00',
      '2027-11-07T01:30:00-04:00',
      '2027-11-07T01:00:00-05:00',
      '2027-11-07T01:30:00-05:00',
      '2027-11-07T02:00:00-05:00',
    ]);
    expect(times.at(-1)).toBe('2027-11-07T23:30:00-05:00');
  });

  it('uses the patient day in Los Angeles', () => {
    const candidates = wallClockSlots('2027-11-06', '2027-11-08', CLINIC_ZONE);
    const window = zonedDayRange('2027-11-07', 'America/Los_Angeles');

    const open = selectOpenSlots(candidates, [], window, openPolicy());
    const patientTimes = open.map((openSlot) =>
      formatIsoWithOffset(openSlot.start, 'America/Los_Angeles'),
    );
    const clinicTimes = open.map((openSlot) => formatIsoWithOffset(openSlot.start, CLINIC_ZONE));

    // Los Angeles falls back on the same date, so its day also has 25 hours.
    expect(open).toHaveLength(50);
    for (const openSlot of open) {
      expect(localDateOf(openSlot.start, 'America/Los_Angeles')).toBe('2027-11-07');
    }
    expect(patientTimes[0]).toBe('2027-11-07T00:00:00-07:00');
    expect(patientTimes.at(-1)).toBe('2027-11-07T23:30:00-08:00');
    // New York is already on EST when Los Angeles midnight arrives, so the gap is two hours.
    expect(clinicTimes[0]).toBe('2027-11-07T02:00:00-05:00');
    expect(clinicTimes).not.toContain('2027-11-07T01:30:00-05:00');
    expect(clinicTimes.at(-1)).toBe('2027-11-08T02:30:00-05:00');
    expect(clinicTimes.filter((time) => time.startsWith('2027-11-07'))).toHaveLength(44);
    expect(clinicTimes.filter((time) => time.startsWith('2027-11-08'))).toHaveLength(6);
  });

  it('uses the patient day in Berlin', () => {
    const candidates = wallClockSlots('2027-11-06', '2027-11-08', CLINIC_ZONE);
    const window = zonedDayRange('2027-11-07', 'Europe/Berlin');

    const open = selectOpenSlots(candidates, [], window, openPolicy());
    const clinicTimes = open.map((openSlot) => formatIsoWithOffset(openSlot.start, CLINIC_ZONE));

    // Berlin left summer time on 2027-10-31, so this is an ordinary 24-hour day there.
    expect(open).toHaveLength(48);
    for (const openSlot of open) {
      expect(localDateOf(openSlot.start, 'Europe/Berlin')).toBe('2027-11-07');
    }
    expect(clinicTimes[0]).toBe('2027-11-06T19:00:00-04:00');
    expect(clinicTimes.at(-1)).toBe('2027-11-07T17:30:00-05:00');
    expect(clinicTimes.filter((time) => time.startsWith('2027-11-06'))).toHaveLength(10);
  });

  it('puts 23:30 on its date and 00:00 on the next', () => {
    const lateEvening = slot('late-evening', '2027-03-13T23:30:00-05:00');
    const midnight = slot('midnight', '2027-03-14T00:00:00-05:00');
    const candidates = [lateEvening, midnight];

    const saturday = selectOpenSlots(
      candidates,
      [],
      zonedDayRange('2027-03-13', CLINIC_ZONE),
      openPolicy(),
    );
    const sunday = selectOpenSlots(
      candidates,
      [],
      zonedDayRange('2027-03-14', CLINIC_ZONE),
      openPolicy(),
    );

    expect(ids(saturday)).toEqual(['late-evening']);
    expect(ids(sunday)).toEqual(['midnight']);
    expect(localDateOf(lateEvening.start, CLINIC_ZONE)).toBe('2027-03-13');
    expect(localDateOf(midnight.start, CLINIC_ZONE)).toBe('2027-03-14');
  });
});

describe('isWithinChangeCutoff', () => {
  const start = at('2027-03-14T15:00:00Z');

  it('allows a change before the cutoff', () => {
    expect(isWithinChangeCutoff(start, at('2027-03-13T14:59:59.999Z'), 24)).toBe(false);
  });

  it('blocks a change exactly at the cutoff', () => {
    expect(isWithinChangeCutoff(start, at('2027-03-13T15:00:00Z'), 24)).toBe(true);
  });

  it('blocks a change after the visit started', () => {
    expect(isWithinChangeCutoff(start, at('2027-03-14T15:30:00Z'), 24)).toBe(true);
  });

  it('counts cutoff hours as elapsed time across DST', () => {
    // The night of 2027-03-14 has 23 hours in New York, so 24 hours before 11:00 EDT is 10:00 EST.
    const visitStart = at('2027-03-14T11:00:00-04:00');

    expect(isWithinChangeCutoff(visitStart, at('2027-03-13T09:59:59-05:00'), 24)).toBe(false);
    expect(isWithinChangeCutoff(visitStart, at('2027-03-13T10:00:00-05:00'), 24)).toBe(true);
  });

  it('with zero cutoff blocks only from the start', () => {
    expect(isWithinChangeCutoff(start, at('2027-03-14T14:59:59Z'), 0)).toBe(false);
    expect(isWithinChangeCutoff(start, start, 0)).toBe(true);
  });
});
