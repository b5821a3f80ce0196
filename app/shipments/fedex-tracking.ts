import { z } from 'zod';

import type { ShipmentStatus } from './shipment-status';

export type { ShipmentStatus };

/**
 * Parsing of FedEx Track API v1 responses (`POST /track/v1/trackingnumbers`) into the portal's
 * tracking model. Pure and framework-free: no I/O, no clock.
 */

export interface TrackingLocation {
  city?: string;
  state?: string;
  postalCode?: string;
  countryCode?: string;
  /** Human text, e.g. "Memphis, TN 38118". */
  text?: string;
}

export interface TrackingEvent {
  /** ISO 8601 in UTC. */
  occurredAt: string;
  description: string;
  /** FedEx's event type, e.g. `OD` for out for delivery. */
  code?: string;
  location?: TrackingLocation;
  /** True when FedEx sent no city, state or postal code for this scan. */
  locationUnavailable: boolean;
}

export type TrackingResult =
  | {
      kind: 'found';
      trackingNumber: string;
      /** FedEx's status code, e.g. `IT`. */
      statusCode: string;
      statusDescription: string;
      /** Our status when FedEx's code maps to one. */
      shipmentStatus?: ShipmentStatus;
      /** Location of the latest status, or else of the newest scan that has one. */
      latestLocation?: TrackingLocation;
      /** Newest first. */
      events: TrackingEvent[];
      /** FedEx's delivery window in ISO 8601 UTC, absent once delivered. */
      estimatedDelivery?: { begins?: string; ends?: string };
      /** ISO 8601 in UTC, set only when delivered. */
      deliveredAt?: string;
    }
  | { kind: 'not_found'; trackingNumber: string; message: string };

/**
 * A FedEx response that the portal cannot use: FedEx's own errors, or a body that is not a track
 * response. The message and `codes` carry FedEx's error codes, never the tracking number.
 */
export class TrackingParseError extends Error {
  override name = 'TrackingParseError';

  constructor(
    message: string,
    readonly codes: readonly string[] = [],
  ) {
    super(message);
  }
}

// NOTE: FedEx documents no format for tracking numbers in Track API v1. These lengths are an
// assumption from the numbers in use: 12 digits for Express, 15 for Ground, and 20 or 22 for
// Ground Economy barcodes. A number of another length is rejected without asking FedEx.
export const VALID_TRACKING_NUMBER = /^(?:\d{12}|\d{15}|\d{20}|\d{22})$/;

const NOT_FOUND_CODE = 'TRACKING.TRACKINGNUMBER.NOTFOUND';
const DEFAULT_NOT_FOUND_MESSAGE = 'FedEx cannot find this tracking number.';

/**
 * FedEx status codes that map to our statuses. Codes left out, such as DE (delivery exception),
 * DY (delay), CA (cancelled) and RS (return to shipper), keep FedEx's own description and no
 * status, because none of ours describes them.
 */
const SHIPMENT_STATUS_BY_CODE: ReadonlyMap<string, ShipmentStatus> = new Map<
  string,
  ShipmentStatus
>([
  ['OC', 'label_created'],
  ['PU', 'shipped'],
  ['PX', 'shipped'],
  ['IT', 'shipped'],
  ['IX', 'shipped'],
  ['AR', 'shipped'],
  ['AF', 'shipped'],
  ['AA', 'shipped'],
  ['AO', 'shipped'],
  ['AE', 'shipped'],
  ['DP', 'shipped'],
  ['LO', 'shipped'],
  ['OF', 'shipped'],
  ['FD', 'shipped'],
  ['SF', 'shipped'],
  ['PF', 'shipped'],
  ['PL', 'shipped'],
  ['TR', 'shipped'],
  ['CC', 'shipped'],
  ['OD', 'shipped'],
  ['ED', 'shipped'],
  ['DL', 'delivered'],
]);

/** FedEx sends empty strings, and sometimes null, for fields it has no value for. */
const text = z
  .string()
  .nullish()
  .transform((value) => value?.trim() || undefined);

const addressSchema = z
  .object({ city: text, stateOrProvinceCode: text, postalCode: text, countryCode: text })
  .nullish();

const scanEventSchema = z.object({
  date: z.string(),
  eventType: text,
  eventDescription: text,
  derivedStatus: text,
  scanLocation: addressSchema,
});

const statusDetailSchema = z.object({
  code: text,
  derivedCode: text,
  statusByLocale: text,
  description: text,
  scanLocation: addressSchema,
});

const fedexErrorSchema = z.object({ code: text, message: text });

const trackResultSchema = z.object({
  trackingNumberInfo: z.object({ trackingNumber: text }).nullish(),
  latestStatusDetail: statusDetailSchema.nullish(),
  scanEvents: z.array(scanEventSchema).nullish(),
  estimatedDeliveryTimeWindow: z
    .object({ window: z.object({ begins: text, ends: text }).nullish() })
    .nullish(),
  dateAndTimes: z.array(z.object({ type: text, dateTime: text })).nullish(),
  error: fedexErrorSchema.nullish(),
});

const trackResponseSchema = z.object({
  errors: z.array(fedexErrorSchema).nullish(),
  output: z
    .object({
      completeTrackResults: z.array(
        z.object({ trackingNumber: text, trackResults: z.array(trackResultSchema) }),
      ),
    })
    .nullish(),
});

type FedexTrackResult = z.infer<typeof trackResultSchema>;
type FedexAddress = z.infer<typeof addressSchema>;

/**
 * Parses a FedEx track response for `trackingNumber`. Returns `found` with events sorted newest
 * first, or `not_found` when FedEx reports TRACKING.TRACKINGNUMBER.NOTFOUND (which it sends
 * with HTTP 200). Throws TrackingParseError for FedEx's `errors[]`, another per-number error,
 * or a body that is not a track response for that number.
 */
export function parseTrackResponse(body: unknown, requestedNumber: string): TrackingResult {
  const trackingNumber = requestedNumber.trim();
  const parsed = trackResponseSchema.safeParse(body);
  if (!parsed.success) {
    const paths = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)');
    throw new TrackingParseError(
      `FedEx track response is malformed at ${[...new Set(paths)].join(', ')}.`,
    );
  }

  const { errors, output } = parsed.data;
  if (errors && errors.length > 0) {
    const codes = errors.map((error) => error.code ?? 'UNKNOWN');
    throw new TrackingParseError(`FedEx returned errors: ${codes.join(', ')}.`, codes);
  }

  const results = findTrackResults(output?.completeTrackResults ?? [], trackingNumber);
  const found = results.filter((result) => !result.error?.code);
  if (found.length > 0) {
    return toFoundResult(pickNewestShipment(found), trackingNumber);
  }

  const notFound = results.find((result) => result.error?.code === NOT_FOUND_CODE);
  if (notFound) {
    const message = notFound.error?.message ?? DEFAULT_NOT_FOUND_MESSAGE;
    return { kind: 'not_found', trackingNumber, message };
  }

  const codes = results.flatMap((result) => (result.error?.code ? [result.error.code] : []));
  if (codes.length > 0) {
    throw new TrackingParseError(`FedEx returned errors: ${codes.join(', ')}.`, codes);
  }
  throw new TrackingParseError('FedEx track response has no result for the tracking number.');
}

/**
 * Returns the track results for the requested number. An entry without a number counts as a
 * match, so that a sparse response about one number still parses.
 */
function findTrackResults(
  completeTrackResults: { trackingNumber?: string; trackResults: FedexTrackResult[] }[],
  trackingNumber: string,
): FedexTrackResult[] {
  const matches = (number: string | undefined): boolean =>
    number === undefined || number === trackingNumber;

  return completeTrackResults
    .filter((complete) => matches(complete.trackingNumber))
    .flatMap((complete) => complete.trackResults)
    .filter((result) => matches(result.trackingNumberInfo?.trackingNumber));
}

/**
 * Picks the result whose newest scan is latest, or the first when none has scans. A response can
 * hold several results for one number, each with its own `trackingNumberUniqueId`, when FedEx
 * has reused the number for another shipment.
 */
function pickNewestShipment(results: FedexTrackResult[]): FedexTrackResult {
  const newestScanMs = (result: FedexTrackResult): number => {
    const times = (result.scanEvents ?? [])
      .map((event) => Date.parse(toIsoDateTime(event.date) ?? ''))
      .filter((epochMs) => !Number.isNaN(epochMs));
    return times.length > 0 ? Math.max(...times) : Number.NEGATIVE_INFINITY;
  };

  return results.reduce((newest, result) =>
    newestScanMs(result) > newestScanMs(newest) ? result : newest,
  );
}

function toFoundResult(result: FedexTrackResult, trackingNumber: string): TrackingResult {
  const status = result.latestStatusDetail;
  const statusCode = status?.code ?? status?.derivedCode;
  if (!statusCode) {
    throw new TrackingParseError('FedEx track result has no latestStatusDetail code.');
  }

  const shipmentStatus = SHIPMENT_STATUS_BY_CODE.get(statusCode);
  const events = toEvents(result.scanEvents ?? []);
  const latestLocation =
    toLocation(status?.scanLocation) ?? events.find((event) => event.location)?.location;

  return {
    kind: 'found',
    trackingNumber,
    statusCode,
    statusDescription: status?.description ?? status?.statusByLocale ?? statusCode,
    ...(shipmentStatus ? { shipmentStatus } : {}),
    ...(latestLocation ? { latestLocation } : {}),
    events,
    ...(shipmentStatus === 'delivered'
      ? optional('deliveredAt', findDeliveredAt(result, events))
      : optional('estimatedDelivery', toEstimatedDelivery(result))),
  };
}

/** Maps scan events and sorts them newest first, because FedEx's own order is not reliable. */
function toEvents(scanEvents: NonNullable<FedexTrackResult['scanEvents']>): TrackingEvent[] {
  const events = scanEvents.map((event): TrackingEvent => {
    const occurredAt = toIsoDateTime(event.date);
    if (!occurredAt) {
      throw new TrackingParseError('FedEx scan event has a date without a valid time and offset.');
    }

    const description = event.eventDescription ?? event.derivedStatus ?? event.eventType;
    if (!description) {
      throw new TrackingParseError('FedEx scan event has no description or event type.');
    }

    const location = toLocation(event.scanLocation);
    return {
      occurredAt,
      description,
      ...(event.eventType ? { code: event.eventType } : {}),
      ...(location ? { location } : {}),
      locationUnavailable: location === undefined,
    };
  });

  // Array.prototype.sort is stable, so scans with the same time keep FedEx's order.
  return events.sort((a, b) => Date.parse(b.occurredAt) - Date.parse(a.occurredAt));
}

/**
 * Returns the location of a FedEx address, or undefined when it has no city, state or postal
 * code. FedEx sends `{ streetLines: [""], residential: false }` for a scan without a place, and a
 * country alone does not place a scan either.
 */
function toLocation(address: FedexAddress): TrackingLocation | undefined {
  if (!address?.city && !address?.stateOrProvinceCode && !address?.postalCode) return undefined;

  const { city, stateOrProvinceCode: state, postalCode, countryCode } = address;
  const region = [state, postalCode].filter(Boolean).join(' ');
  const parts = [city ? toDisplayCase(city) : undefined, region || undefined];
  if (countryCode && countryCode !== 'US') parts.push(countryCode);

  return {
    ...(city ? { city } : {}),
    ...(state ? { state } : {}),
    ...(postalCode ? { postalCode } : {}),
    ...(countryCode ? { countryCode } : {}),
    text: parts.filter(Boolean).join(', '),
  };
}

/** Converts a city in capitals, as FedEx sends it ("MEMPHIS"), to title case ("Memphis"). */
function toDisplayCase(city: string): string {
  if (city !== city.toUpperCase()) return city;
  return city
    .toLowerCase()
    .replace(
      /(^|[\s'-])(\p{L})/gu,
      (_match, separator: string, letter: string) => separator + letter.toUpperCase(),
    );
}

function toEstimatedDelivery(
  result: FedexTrackResult,
): { begins?: string; ends?: string } | undefined {
  const window = result.estimatedDeliveryTimeWindow?.window;
  const begins = toIsoDateTime(window?.begins);
  const ends = toIsoDateTime(window?.ends);
  if (!begins && !ends) return undefined;

  return { ...(begins ? { begins } : {}), ...(ends ? { ends } : {}) };
}

/** Takes `dateAndTimes` ACTUAL_DELIVERY, or else the time of the newest DL scan. */
function findDeliveredAt(result: FedexTrackResult, events: TrackingEvent[]): string | undefined {
  const actualDelivery = result.dateAndTimes?.find((item) => item.type === 'ACTUAL_DELIVERY');
  return (
    toIsoDateTime(actualDelivery?.dateTime) ??
    events.find((event) => event.code === 'DL')?.occurredAt
  );
}

/**
 * Converts a FedEx date-time to ISO 8601 in UTC. FedEx writes local time with an offset, as
 * `2024-04-26T09:26:00-07:00` and, in some fields, `2024-08-12T15:18:10 -0500`. A value without
 * an offset returns undefined, because it could be in any time zone.
 */
function toIsoDateTime(value: string | undefined): string | undefined {
  const normalized = value?.trim().replace(/\s*([+-]\d{2}):?(\d{2})$/, '$1:$2');
  if (!normalized || !/T.*(?:Z|[+-]\d{2}:\d{2})$/i.test(normalized)) return undefined;

  const epochMs = Date.parse(normalized);
  return Number.isNaN(epochMs) ? undefined : new Date(epochMs).toISOString();
}

/** Returns `{ [key]: value }`, or `{}` when value is undefined, for optional properties. */
function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
