import { describe, expect, it } from 'vitest';

// Tests may build fixtures from the FedEx stand-in's seed data, but app code never imports it.
// eslint-disable-next-line no-restricted-imports
import {
  buildCompleteTrackResult,
  SANDBOX_TRACKING_NUMBERS,
  TRACKING_NUMBER_NOT_FOUND_MESSAGE,
} from '../../sandbox/fedex-tracking-data';
import {
  parseTrackResponse,
  TrackingParseError,
  VALID_TRACKING_NUMBER,
  type TrackingResult,
} from './fedex-tracking';

const NOW = new Date('2025-03-12T18:30:00Z');
const TRACKING_NUMBER = '794644790138';

type FoundResult = Extract<TrackingResult, { kind: 'found' }>;

/** Builds a track response with the stand-in's result for each number, as FedEx sends it. */
function seededResponse(...trackingNumbers: string[]): unknown {
  return {
    transactionId: 'b2ff9d63-7e07-4e43-a201-bdb936c15cc2',
    output: {
      completeTrackResults: trackingNumbers.map((trackingNumber) =>
        buildCompleteTrackResult(trackingNumber, NOW, true),
      ),
    },
  };
}

function parseSeeded(trackingNumber: string): FoundResult {
  const result = parseTrackResponse(seededResponse(trackingNumber), trackingNumber);
  if (result.kind !== 'found') throw new Error(`Expected a found result, got ${result.kind}`);
  return result;
}

/** Builds a track response with one hand-written track result for TRACKING_NUMBER. */
function responseWith(trackResult: Record<string, unknown>): unknown {
  return {
    transactionId: 't-1',
    output: {
      completeTrackResults: [
        {
          trackingNumber: TRACKING_NUMBER,
          trackResults: [
            { trackingNumberInfo: { trackingNumber: TRACKING_NUMBER }, ...trackResult },
          ],
        },
      ],
    },
  };
}

function parseFound(trackResult: Record<string, unknown>): FoundResult {
  const result = parseTrackResponse(responseWith(trackResult), TRACKING_NUMBER);
  if (result.kind !== 'found') throw new Error(`Expected a found result, got ${result.kind}`);
  return result;
}

function hoursFromNow(hours: number): string {
  const instant = new Date(NOW.getTime() + hours * 3_600_000);
  instant.setUTCSeconds(0, 0);
  return instant.toISOString();
}

function expectNewestFirst(result: FoundResult): void {
  const times = result.events.map((event) => Date.parse(event.occurredAt));
  expect(times).toEqual([...times].sort((a, b) => b - a));
}

function parseError(body: unknown): TrackingParseError {
  try {
    parseTrackResponse(body, TRACKING_NUMBER);
  } catch (error) {
    if (error instanceof TrackingParseError) return error;
    throw error;
  }
  throw new Error('parseTrackResponse did not throw');
}

describe('parseTrackResponse with seeded shipments', () => {
  it('maps label created to label_created', () => {
    const result = parseSeeded(SANDBOX_TRACKING_NUMBERS.labelCreated);

    expect(result.trackingNumber).toBe(SANDBOX_TRACKING_NUMBERS.labelCreated);
    expect(result.statusCode).toBe('OC');
    expect(result.shipmentStatus).toBe('label_created');
    expect(result.statusDescription).toBe('Shipment information sent to FedEx');
    expect(result.latestLocation).toBeUndefined();
    expect(result.estimatedDelivery).toBeUndefined();
    expect(result.deliveredAt).toBeUndefined();
    expect(result.events).toEqual([
      {
        occurredAt: hoursFromNow(-6),
        description: 'Shipment information sent to FedEx',
        code: 'OC',
        locationUnavailable: true,
      },
    ]);
  });

  it('maps picked up to shipped', () => {
    const result = parseSeeded(SANDBOX_TRACKING_NUMBERS.pickedUp);

    expect(result.statusCode).toBe('PU');
    expect(result.shipmentStatus).toBe('shipped');
    expect(result.statusDescription).toBe('Picked up');
    expect(result.latestLocation).toEqual({
      city: 'INDIANAPOLIS',
      state: 'IN',
      postalCode: '46241',
      countryCode: 'US',
      text: 'Indianapolis, IN 46241',
    });
    expect(result.events.map((event) => event.code)).toEqual(['PU', 'OC']);
  });

  it('sorts in-transit events newest first', () => {
    const result = parseSeeded(SANDBOX_TRACKING_NUMBERS.inTransit);

    expect(result.shipmentStatus).toBe('shipped');
    expect(result.events.map((event) => event.code)).toEqual(['IT', 'AR', 'DP', 'AR', 'PU', 'OC']);
    expectNewestFirst(result);
    expect(result.events[0]).toEqual({
      occurredAt: hoursFromNow(-6),
      description: 'In transit',
      code: 'IT',
      location: {
        city: 'OAKLAND',
        state: 'CA',
        postalCode: '94621',
        countryCode: 'US',
        text: 'Oakland, CA 94621',
      },
      locationUnavailable: false,
    });
    expect(result.events[2]?.location?.text).toBe('Memphis, TN 38118');
  });

  it('reads the estimated delivery window in UTC', () => {
    const result = parseSeeded(SANDBOX_TRACKING_NUMBERS.inTransit);

    expect(result.estimatedDelivery).toEqual({ begins: hoursFromNow(18), ends: hoursFromNow(22) });
  });

  it('maps out for delivery to shipped', () => {
    const result = parseSeeded(SANDBOX_TRACKING_NUMBERS.outForDelivery);

    expect(result.statusCode).toBe('OD');
    expect(result.shipmentStatus).toBe('shipped');
    expect(result.statusDescription).toBe('On FedEx vehicle for delivery');
    expect(result.events[0]?.code).toBe('OD');
    expect(result.estimatedDelivery).toEqual({ begins: hoursFromNow(1), ends: hoursFromNow(6) });
  });

  it.each([
    ['delivered', SANDBOX_TRACKING_NUMBERS.delivered, 436, 'Seattle, WA 98101'],
    ['deliveredDemo', SANDBOX_TRACKING_NUMBERS.deliveredDemo, 72, 'Chicago, IL 60601'],
  ])('maps %s to delivered with its date', (_name, trackingNumber, hoursAgo, place) => {
    const result = parseSeeded(trackingNumber);

    expect(result.statusCode).toBe('DL');
    expect(result.shipmentStatus).toBe('delivered');
    expect(result.deliveredAt).toBe(hoursFromNow(-hoursAgo));
    expect(result.estimatedDelivery).toBeUndefined();
    expect(result.latestLocation?.text).toBe(place);
    expect(result.events[0]).toMatchObject({ code: 'DL', occurredAt: hoursFromNow(-hoursAgo) });
    expectNewestFirst(result);
  });

  it('keeps a delivery exception without a status', () => {
    const result = parseSeeded(SANDBOX_TRACKING_NUMBERS.deliveryException);

    expect(result.statusCode).toBe('DE');
    expect(result.shipmentStatus).toBeUndefined();
    expect(result.statusDescription).toBe('Delivery exception');
    expect(result.latestLocation?.text).toBe('Chicago, IL 60601');
    expect(result.events[0]).toMatchObject({ code: 'DE', description: 'Delivery exception' });
    expect(result.estimatedDelivery?.begins).toBe(hoursFromNow(20));
  });

  it('returns not_found for the not-found number', () => {
    const trackingNumber = SANDBOX_TRACKING_NUMBERS.notFound;

    const result = parseTrackResponse(seededResponse(trackingNumber), trackingNumber);

    expect(result).toEqual({
      kind: 'not_found',
      trackingNumber,
      message: TRACKING_NUMBER_NOT_FOUND_MESSAGE,
    });
  });

  it('keeps an event without scanLocation', () => {
    const result = parseSeeded(SANDBOX_TRACKING_NUMBERS.eventWithoutLocation);

    expect(result.events).toHaveLength(5);
    const middle = result.events[2];
    expect(middle).toEqual({
      occurredAt: hoursFromNow(-20),
      description: 'In transit',
      code: 'IT',
      locationUnavailable: true,
    });
    expect(result.events[1]?.location?.text).toBe('Memphis, TN 38118');
    expect(result.events[3]?.location?.text).toBe('Indianapolis, IN 46241');
  });

  it('maps AR on the demo shipment to shipped', () => {
    const result = parseSeeded(SANDBOX_TRACKING_NUMBERS.inTransitDemo);

    expect(result.statusCode).toBe('AR');
    expect(result.shipmentStatus).toBe('shipped');
    expect(result.statusDescription).toBe('At destination sort facility');
    expect(result.latestLocation?.text).toBe('Seattle, WA 98108');
  });

  it('picks the requested number from several', () => {
    const { inTransit, delivered } = SANDBOX_TRACKING_NUMBERS;

    const result = parseTrackResponse(seededResponse(inTransit, delivered), delivered);

    expect(result).toMatchObject({ kind: 'found', trackingNumber: delivered, statusCode: 'DL' });
  });
});

describe('parseTrackResponse with FedEx errors', () => {
  it('throws the codes of top-level errors', () => {
    const error = parseError({
      transactionId: 't-2',
      errors: [
        {
          code: 'NOT.AUTHORIZED.ERROR',
          message: `Access token expired for ${TRACKING_NUMBER}.`,
        },
        { code: 'TRACKING.TRACKINGNUMBER.EMPTY', message: 'Please provide tracking number.' },
      ],
    });

    expect(error.codes).toEqual(['NOT.AUTHORIZED.ERROR', 'TRACKING.TRACKINGNUMBER.EMPTY']);
    expect(error.message).toContain('NOT.AUTHORIZED.ERROR');
    expect(error.message).not.toContain(TRACKING_NUMBER);
  });

  it('throws top-level errors even beside output', () => {
    const body = { ...(responseWith({ latestStatusDetail: { code: 'IT' } }) as object) };

    const error = parseError({ ...body, errors: [{ code: 'INTERNAL.SERVER.ERROR' }] });

    expect(error.codes).toEqual(['INTERNAL.SERVER.ERROR']);
  });

  it('throws another per-number error with its code', () => {
    const error = parseError(
      responseWith({
        error: { code: 'TRACKING.TRACKINGNUMBER.INVALID', message: 'Invalid tracking number.' },
      }),
    );

    expect(error.codes).toEqual(['TRACKING.TRACKINGNUMBER.INVALID']);
    expect(error.message).not.toContain(TRACKING_NUMBER);
  });

  it('uses a default message when not-found has none', () => {
    const result = parseTrackResponse(
      responseWith({ error: { code: 'TRACKING.TRACKINGNUMBER.NOTFOUND' } }),
      TRACKING_NUMBER,
    );

    expect(result).toEqual({
      kind: 'not_found',
      trackingNumber: TRACKING_NUMBER,
      message: 'FedEx cannot find this tracking number.',
    });
  });

  it('ignores an empty error object on a found result', () => {
    const result = parseFound({ error: {}, latestStatusDetail: { code: 'IT' } });

    expect(result.statusCode).toBe('IT');
  });
});

describe('parseTrackResponse with sparse or odd results', () => {
  it('accepts a result with only a status code', () => {
    const result = parseFound({ latestStatusDetail: { code: 'IT' } });

    expect(result).toEqual({
      kind: 'found',
      trackingNumber: TRACKING_NUMBER,
      statusCode: 'IT',
      statusDescription: 'IT',
      shipmentStatus: 'shipped',
      events: [],
    });
  });

  it('falls back to statusByLocale and derivedCode', () => {
    const result = parseFound({
      latestStatusDetail: { derivedCode: 'DL', statusByLocale: 'Delivered', description: '' },
    });

    expect(result.statusCode).toBe('DL');
    expect(result.statusDescription).toBe('Delivered');
    expect(result.shipmentStatus).toBe('delivered');
    expect(result.deliveredAt).toBeUndefined();
  });

  it('shows an unknown code as FedEx describes it', () => {
    const result = parseFound({
      latestStatusDetail: { code: 'ZZ', derivedCode: 'ZZ', description: 'Held for inspection' },
    });

    expect(result.statusCode).toBe('ZZ');
    expect(result.statusDescription).toBe('Held for inspection');
    expect(result.shipmentStatus).toBeUndefined();
  });

  it('maps no status for a prototype name', () => {
    const result = parseFound({ latestStatusDetail: { code: 'constructor' } });

    expect(result.shipmentStatus).toBeUndefined();
  });

  it('accepts unknown fields and null values', () => {
    const result = parseFound({
      futureField: { nested: true },
      latestStatusDetail: {
        code: 'IT',
        description: 'In transit',
        delayDetail: { status: '' },
        scanLocation: { city: 'Memphis', stateOrProvinceCode: 'TN', postalCode: null },
      },
      scanEvents: null,
      dateAndTimes: null,
      estimatedDeliveryTimeWindow: { window: null },
    });

    expect(result.latestLocation).toEqual({ city: 'Memphis', state: 'TN', text: 'Memphis, TN' });
    expect(result.events).toEqual([]);
    expect(result.estimatedDelivery).toBeUndefined();
  });

  it('sorts events by instant across time zones', () => {
    const result = parseFound({
      latestStatusDetail: { code: 'OD' },
      scanEvents: [
        { date: '2024-04-25T08:55:00-07:00', eventType: 'AR', eventDescription: 'At facility' },
        { date: '2024-04-24T15:30:57-05:00', eventType: 'OC', eventDescription: 'Label' },
        { date: '2024-04-25T10:30:00-05:00', eventType: 'DP', eventDescription: 'Departed' },
        { date: '2024-04-25T09:26:00-07:00', eventType: 'OD', eventDescription: 'On vehicle' },
      ],
    });

    expect(result.events.map((event) => event.occurredAt)).toEqual([
      '2024-04-25T16:26:00.000Z',
      '2024-04-25T15:55:00.000Z',
      '2024-04-25T15:30:00.000Z',
      '2024-04-24T20:30:57.000Z',
    ]);
    expect(result.events.map((event) => event.code)).toEqual(['OD', 'AR', 'DP', 'OC']);
  });

  it('marks blank and missing scan locations unavailable', () => {
    const result = parseFound({
      latestStatusDetail: { code: 'IT' },
      scanEvents: [
        {
          date: '2024-04-25T10:00:00-05:00',
          eventType: 'IT',
          eventDescription: 'In transit',
          scanLocation: { streetLines: [''], residential: false },
        },
        { date: '2024-04-25T09:00:00-05:00', eventType: 'IT', eventDescription: 'In transit' },
        {
          date: '2024-04-25T08:00:00-05:00',
          eventType: 'IT',
          eventDescription: 'In transit',
          scanLocation: { city: '', countryCode: 'US' },
        },
      ],
    });

    for (const event of result.events) {
      expect(event.locationUnavailable).toBe(true);
      expect(event.location).toBeUndefined();
    }
    expect(result.latestLocation).toBeUndefined();
  });

  it('takes latestLocation from the newest located scan', () => {
    const result = parseFound({
      latestStatusDetail: { code: 'DL', scanLocation: { residential: false } },
      scanEvents: [
        {
          date: '2024-04-26T08:52:00-07:00',
          eventType: 'OD',
          eventDescription: 'On FedEx vehicle for delivery',
          scanLocation: { city: 'CLOVIS', stateOrProvinceCode: 'CA', postalCode: '93612' },
        },
        {
          date: '2024-04-26T09:26:00-07:00',
          eventType: 'DL',
          eventDescription: 'Delivered',
          scanLocation: { streetLines: [''], residential: false },
        },
      ],
    });

    expect(result.latestLocation?.text).toBe('Clovis, CA 93612');
    expect(result.deliveredAt).toBe('2024-04-26T16:26:00.000Z');
  });

  it('prefers ACTUAL_DELIVERY over the DL scan', () => {
    const result = parseFound({
      latestStatusDetail: { code: 'DL' },
      dateAndTimes: [
        { type: 'ACTUAL_PICKUP', dateTime: '2024-04-25T08:55:00-07:00' },
        { type: 'ACTUAL_DELIVERY', dateTime: '2024-04-26T09:30:00-07:00' },
      ],
      scanEvents: [
        { date: '2024-04-26T09:26:00-07:00', eventType: 'DL', eventDescription: 'Delivered' },
      ],
    });

    expect(result.deliveredAt).toBe('2024-04-26T16:30:00.000Z');
  });

  it('reads a date with a space before the offset', () => {
    const result = parseFound({
      latestStatusDetail: { code: 'IT' },
      scanEvents: [{ date: '2024-08-12T15:18:10 -0500', eventType: 'IT', eventDescription: 'x' }],
    });

    expect(result.events[0]?.occurredAt).toBe('2024-08-12T20:18:10.000Z');
  });

  it('keeps one bound of a delivery window', () => {
    const result = parseFound({
      latestStatusDetail: { code: 'IT' },
      estimatedDeliveryTimeWindow: { window: { ends: '2024-04-25T10:30:00-07:00' } },
    });

    expect(result.estimatedDelivery).toEqual({ ends: '2024-04-25T17:30:00.000Z' });
  });

  it('uses derivedStatus when an event has no description', () => {
    const result = parseFound({
      latestStatusDetail: { code: 'IT' },
      scanEvents: [
        { date: '2024-04-25T10:00:00-05:00', eventType: 'AF', derivedStatus: 'In transit' },
      ],
    });

    expect(result.events[0]).toMatchObject({ code: 'AF', description: 'In transit' });
  });

  it('writes a foreign country into the location text', () => {
    const result = parseFound({
      latestStatusDetail: {
        code: 'IT',
        scanLocation: {
          city: 'MISSISSAUGA',
          stateOrProvinceCode: 'ON',
          postalCode: 'L5T 2T1',
          countryCode: 'CA',
        },
      },
    });

    expect(result.latestLocation?.text).toBe('Mississauga, ON L5T 2T1, CA');
  });

  it('picks the newest shipment of a reused number', () => {
    const body = responseWith({});
    const older = {
      trackingNumberInfo: { trackingNumber: TRACKING_NUMBER },
      latestStatusDetail: { code: 'DL' },
      scanEvents: [{ date: '2019-02-01T10:00:00-05:00', eventType: 'DL', eventDescription: 'x' }],
    };
    const newer = {
      trackingNumberInfo: { trackingNumber: TRACKING_NUMBER },
      latestStatusDetail: { code: 'IT' },
      scanEvents: [{ date: '2024-02-01T10:00:00-05:00', eventType: 'IT', eventDescription: 'y' }],
    };
    const output = (body as { output: { completeTrackResults: { trackResults: unknown[] }[] } })
      .output;
    output.completeTrackResults[0]!.trackResults = [older, newer];

    const result = parseTrackResponse(body, TRACKING_NUMBER);

    expect(result).toMatchObject({ kind: 'found', statusCode: 'IT' });
  });
});

describe('parseTrackResponse with malformed bodies', () => {
  it.each([
    ['null', null],
    ['a string', 'not json'],
    ['an array', []],
    ['output without results', { output: {} }],
    ['non-array results', { output: { completeTrackResults: {} } }],
    [
      'non-array scanEvents',
      responseWith({ latestStatusDetail: { code: 'IT' }, scanEvents: 'none' }),
    ],
    ['a numeric status code', responseWith({ latestStatusDetail: { code: 42 } })],
  ])('throws for %s', (_case, body) => {
    expect(() => parseTrackResponse(body, TRACKING_NUMBER)).toThrow(TrackingParseError);
  });

  it('names the malformed path without values', () => {
    const error = parseError(
      responseWith({ latestStatusDetail: { code: 'IT' }, scanEvents: [{ eventType: 'IT' }] }),
    );

    expect(error.message).toContain(
      'output.completeTrackResults.0.trackResults.0.scanEvents.0.date',
    );
    expect(error.message).not.toContain(TRACKING_NUMBER);
  });

  it('throws when no result has a status', () => {
    expect(() => parseTrackResponse(responseWith({}), TRACKING_NUMBER)).toThrow(
      /latestStatusDetail/,
    );
  });

  it('throws for an event time without an offset', () => {
    const body = responseWith({
      latestStatusDetail: { code: 'IT' },
      scanEvents: [{ date: '2024-04-25T10:00:00', eventType: 'IT', eventDescription: 'x' }],
    });

    expect(() => parseTrackResponse(body, TRACKING_NUMBER)).toThrow(/offset/);
  });

  it('throws for an event with no description or type', () => {
    const body = responseWith({
      latestStatusDetail: { code: 'IT' },
      scanEvents: [{ date: '2024-04-25T10:00:00-05:00' }],
    });

    expect(() => parseTrackResponse(body, TRACKING_NUMBER)).toThrow(/no description/);
  });

  it('throws when only another number has results', () => {
    const body = seededResponse(SANDBOX_TRACKING_NUMBERS.inTransit);

    expect(() => parseTrackResponse(body, TRACKING_NUMBER)).toThrow(/no result/);
  });

  it('throws for an empty result list', () => {
    const body = { transactionId: 't', output: { completeTrackResults: [] } };

    expect(() => parseTrackResponse(body, TRACKING_NUMBER)).toThrow(TrackingParseError);
  });
});

describe('VALID_TRACKING_NUMBER', () => {
  it.each(['794644790138', '123456789012345', '96119999999999999999', '9611999999999999999999'])(
    'accepts %s',
    (trackingNumber) => {
      expect(VALID_TRACKING_NUMBER.test(trackingNumber)).toBe(true);
    },
  );

  it.each([
    '79464479013',
    '7946447901381',
    '1234567890123456',
    '79464479013A',
    ' 794644790138',
    '7946 4479 0138',
    '',
  ])('rejects "%s"', (trackingNumber) => {
    expect(VALID_TRACKING_NUMBER.test(trackingNumber)).toBe(false);
  });
});
