/**
 * Seeded shipments of the FedEx stand-in, returned in the shape of FedEx Track API v1
 * (`POST /track/v1/trackingnumbers`). Every date is computed from the request time, so an
 * in-transit shipment always has an estimated delivery in the future.
 */

/** Seeded 12-digit tracking numbers (the FedEx Express length), by the case each one shows. */
export const SANDBOX_TRACKING_NUMBERS = {
  labelCreated: '700000000001',
  pickedUp: '700000000002',
  inTransit: '700000000003',
  outForDelivery: '700000000004',
  delivered: '700000000005',
  deliveryException: '700000000006',
  /** Not seeded, so FedEx's not-found result. Any other unseeded number gets the same. */
  notFound: '700000000007',
  /** In transit, and the middle scan event has no `scanLocation` at all. */
  eventWithoutLocation: '700000000008',
  /** Delivered three days ago: demo-ava's shipment in `integration-db-seed.ts`. */
  deliveredDemo: '700000000011',
  /** In transit, picked up a day ago: demo-marcus's shipment in `integration-db-seed.ts`. */
  inTransitDemo: '700000000022',
} as const satisfies Record<string, string>;

export type SandboxTrackingNumberName = keyof typeof SANDBOX_TRACKING_NUMBERS;

export const TRACKING_NUMBER_NOT_FOUND_CODE = 'TRACKING.TRACKINGNUMBER.NOTFOUND';
export const TRACKING_NUMBER_NOT_FOUND_MESSAGE =
  'Tracking number cannot be found. Please correct the tracking number and try again.';

/** A FedEx address, as in `scanLocation` and `actualDeliveryAddress`. */
export interface FedexAddress {
  streetLines?: string[];
  city?: string;
  stateOrProvinceCode?: string;
  postalCode?: string;
  countryCode?: string;
  countryName?: string;
  residential?: boolean;
}

export interface FedexScanEvent {
  /** Local time of the scan with its UTC offset, e.g. `2024-04-26T09:26:00-07:00`. */
  date: string;
  eventType: string;
  eventDescription: string;
  exceptionCode: string;
  exceptionDescription: string;
  scanLocation?: FedexAddress;
  locationType?: string;
  derivedStatusCode: string;
  derivedStatus: string;
}

export interface FedexStatusDetail {
  code: string;
  derivedCode: string;
  statusByLocale: string;
  description: string;
  scanLocation?: FedexAddress;
}

export type FedexDateAndTimeType =
  | 'ACTUAL_DELIVERY'
  | 'ESTIMATED_DELIVERY'
  | 'ACTUAL_PICKUP'
  | 'SHIP';

export interface FedexTrackResult {
  trackingNumberInfo: {
    trackingNumber: string;
    carrierCode: string;
    trackingNumberUniqueId: string;
  };
  latestStatusDetail?: FedexStatusDetail;
  dateAndTimes?: { type: FedexDateAndTimeType; dateTime: string }[];
  serviceDetail?: { type: string; description: string; shortDescription: string };
  originLocation?: { locationContactAndAddress: { address: FedexAddress } };
  destinationLocation?: { locationContactAndAddress: { address: FedexAddress } };
  scanEvents?: FedexScanEvent[];
  estimatedDeliveryTimeWindow?: { window: { begins?: string; ends?: string } };
  deliveryDetails?: {
    actualDeliveryAddress?: FedexAddress;
    locationType?: string;
    locationDescription?: string;
    deliveryAttempts: string;
  };
  error?: { code: string; message: string };
}

export interface FedexCompleteTrackResult {
  trackingNumber: string;
  trackResults: FedexTrackResult[];
}

/** A real FedEx site with a valid ZIP code and the IANA time zone its scans are stamped in. */
interface Place {
  city: string;
  stateOrProvinceCode: string;
  postalCode: string;
  timeZone: string;
}

const INDIANAPOLIS: Place = {
  city: 'INDIANAPOLIS',
  stateOrProvinceCode: 'IN',
  postalCode: '46241',
  timeZone: 'America/Indiana/Indianapolis',
};
const MEMPHIS: Place = {
  city: 'MEMPHIS',
  stateOrProvinceCode: 'TN',
  postalCode: '38118',
  timeZone: 'America/Chicago',
};
const CHICAGO_OHARE: Place = {
  city: 'CHICAGO',
  stateOrProvinceCode: 'IL',
  postalCode: '60666',
  timeZone: 'America/Chicago',
};
const CHICAGO_LOOP: Place = {
  city: 'CHICAGO',
  stateOrProvinceCode: 'IL',
  postalCode: '60601',
  timeZone: 'America/Chicago',
};
const OAKLAND: Place = {
  city: 'OAKLAND',
  stateOrProvinceCode: 'CA',
  postalCode: '94621',
  timeZone: 'America/Los_Angeles',
};
const SEATTLE: Place = {
  city: 'SEATTLE',
  stateOrProvinceCode: 'WA',
  postalCode: '98108',
  timeZone: 'America/Los_Angeles',
};
const SEATTLE_DOWNTOWN: Place = {
  city: 'SEATTLE',
  stateOrProvinceCode: 'WA',
  postalCode: '98101',
  timeZone: 'America/Los_Angeles',
};

/** The pharmacy ships every seeded order from Indianapolis. */
const ORIGIN = INDIANAPOLIS;

/**
 * Place of a scan: a site, `blank` for FedEx's empty location (`streetLines: [""]` and
 * nothing else, as on the label-created event), or `absent` for no `scanLocation` key at all.
 */
type ScanPlace = Place | 'blank' | 'absent';

interface SeedScan {
  hoursAgo: number;
  eventType: string;
  eventDescription: string;
  derivedStatusCode: string;
  derivedStatus: string;
  place: ScanPlace;
  exceptionCode?: string;
  exceptionDescription?: string;
}

interface SeedShipment {
  latestStatus: Omit<FedexStatusDetail, 'scanLocation'> & { place: ScanPlace };
  destination: Place;
  scans: SeedScan[];
  /** Hours from the request time; absent for a delivered shipment or one without an estimate. */
  estimatedDeliveryWindowHours?: { begins: number; ends: number };
}

const LABEL_CREATED_SCAN = {
  eventType: 'OC',
  eventDescription: 'Shipment information sent to FedEx',
  derivedStatusCode: 'IN',
  derivedStatus: 'Label created',
  place: 'blank',
} as const;

function pickedUpScan(hoursAgo: number): SeedScan {
  return {
    hoursAgo,
    eventType: 'PU',
    eventDescription: 'Picked up',
    derivedStatusCode: 'PU',
    derivedStatus: 'Picked up',
    place: ORIGIN,
  };
}

function inTransitScan(
  hoursAgo: number,
  eventType: string,
  eventDescription: string,
  place: ScanPlace,
): SeedScan {
  return {
    hoursAgo,
    eventType,
    eventDescription,
    derivedStatusCode: 'IT',
    derivedStatus: 'In transit',
    place,
  };
}

function deliveredScan(hoursAgo: number, place: Place): SeedScan {
  return {
    hoursAgo,
    eventType: 'DL',
    eventDescription: 'Delivered',
    derivedStatusCode: 'DL',
    derivedStatus: 'Delivered',
    place,
  };
}

const SEED_SHIPMENTS: Partial<Record<string, SeedShipment>> = {
  [SANDBOX_TRACKING_NUMBERS.labelCreated]: {
    latestStatus: {
      code: 'OC',
      derivedCode: 'IN',
      statusByLocale: 'Label created',
      description: 'Shipment information sent to FedEx',
      place: 'blank',
    },
    destination: OAKLAND,
    scans: [{ ...LABEL_CREATED_SCAN, hoursAgo: 6 }],
  },

  [SANDBOX_TRACKING_NUMBERS.pickedUp]: {
    latestStatus: {
      code: 'PU',
      derivedCode: 'PU',
      statusByLocale: 'Picked up',
      description: 'Picked up',
      place: ORIGIN,
    },
    destination: OAKLAND,
    scans: [{ ...LABEL_CREATED_SCAN, hoursAgo: 20 }, pickedUpScan(3)],
    estimatedDeliveryWindowHours: { begins: 40, ends: 48 },
  },

  [SANDBOX_TRACKING_NUMBERS.inTransit]: {
    latestStatus: {
      code: 'IT',
      derivedCode: 'IT',
      statusByLocale: 'In transit',
      description: 'In transit',
      place: OAKLAND,
    },
    destination: OAKLAND,
    scans: [
      { ...LABEL_CREATED_SCAN, hoursAgo: 50 },
      pickedUpScan(30),
      inTransitScan(26, 'AR', 'Arrived at FedEx hub', MEMPHIS),
      inTransitScan(22, 'DP', 'Departed FedEx hub', MEMPHIS),
      inTransitScan(8, 'AR', 'At local FedEx facility', OAKLAND),
      inTransitScan(6, 'IT', 'In transit', OAKLAND),
    ],
    estimatedDeliveryWindowHours: { begins: 18, ends: 22 },
  },

  [SANDBOX_TRACKING_NUMBERS.outForDelivery]: {
    latestStatus: {
      code: 'OD',
      derivedCode: 'OD',
      statusByLocale: 'On FedEx vehicle for delivery',
      description: 'On FedEx vehicle for delivery',
      place: OAKLAND,
    },
    destination: OAKLAND,
    scans: [
      { ...LABEL_CREATED_SCAN, hoursAgo: 40 },
      pickedUpScan(30),
      inTransitScan(26, 'AR', 'Arrived at FedEx hub', MEMPHIS),
      inTransitScan(22, 'DP', 'Departed FedEx hub', MEMPHIS),
      inTransitScan(5, 'AR', 'At local FedEx facility', OAKLAND),
      inTransitScan(2, 'OD', 'On FedEx vehicle for delivery', OAKLAND),
    ],
    estimatedDeliveryWindowHours: { begins: 1, ends: 6 },
  },

  // Picked up 20 days ago and delivered two days later, to Seattle, because
  // integration-db-seed.ts gives this number to demo-marcus as a shipment shipped 20 days ago.
  [SANDBOX_TRACKING_NUMBERS.delivered]: {
    latestStatus: {
      code: 'DL',
      derivedCode: 'DL',
      statusByLocale: 'Delivered',
      description: 'Delivered',
      place: SEATTLE_DOWNTOWN,
    },
    destination: SEATTLE_DOWNTOWN,
    scans: [
      { ...LABEL_CREATED_SCAN, hoursAgo: 486 },
      pickedUpScan(480),
      inTransitScan(474, 'AR', 'Arrived at FedEx hub', MEMPHIS),
      inTransitScan(470, 'DP', 'Departed FedEx hub', MEMPHIS),
      inTransitScan(446, 'AR', 'At local FedEx facility', SEATTLE),
      inTransitScan(440, 'OD', 'On FedEx vehicle for delivery', SEATTLE),
      deliveredScan(436, SEATTLE_DOWNTOWN),
    ],
  },

  [SANDBOX_TRACKING_NUMBERS.deliveryException]: {
    latestStatus: {
      code: 'DE',
      derivedCode: 'DE',
      statusByLocale: 'Delivery exception',
      description: 'Delivery exception',
      place: CHICAGO_LOOP,
    },
    destination: CHICAGO_LOOP,
    scans: [
      { ...LABEL_CREATED_SCAN, hoursAgo: 54 },
      pickedUpScan(48),
      inTransitScan(44, 'AR', 'Arrived at FedEx hub', MEMPHIS),
      inTransitScan(40, 'DP', 'Departed FedEx hub', MEMPHIS),
      inTransitScan(10, 'AR', 'At local FedEx facility', CHICAGO_OHARE),
      inTransitScan(6, 'OD', 'On FedEx vehicle for delivery', CHICAGO_OHARE),
      {
        hoursAgo: 3,
        eventType: 'DE',
        eventDescription: 'Delivery exception',
        derivedStatusCode: 'DE',
        derivedStatus: 'Delivery exception',
        place: CHICAGO_LOOP,
        exceptionCode: '08',
        exceptionDescription: 'Customer not available or business closed',
      },
    ],
    estimatedDeliveryWindowHours: { begins: 20, ends: 28 },
  },

  [SANDBOX_TRACKING_NUMBERS.eventWithoutLocation]: {
    latestStatus: {
      code: 'IT',
      derivedCode: 'IT',
      statusByLocale: 'In transit',
      description: 'In transit',
      place: OAKLAND,
    },
    destination: OAKLAND,
    scans: [
      { ...LABEL_CREATED_SCAN, hoursAgo: 40 },
      pickedUpScan(30),
      inTransitScan(20, 'IT', 'In transit', 'absent'),
      inTransitScan(10, 'AR', 'Arrived at FedEx hub', MEMPHIS),
      inTransitScan(4, 'IT', 'In transit', OAKLAND),
    ],
    estimatedDeliveryWindowHours: { begins: 20, ends: 26 },
  },

  // Delivered 72 hours ago, when integration-db-seed.ts marks demo-ava's shipment delivered.
  [SANDBOX_TRACKING_NUMBERS.deliveredDemo]: {
    latestStatus: {
      code: 'DL',
      derivedCode: 'DL',
      statusByLocale: 'Delivered',
      description: 'Delivered',
      place: CHICAGO_LOOP,
    },
    destination: CHICAGO_LOOP,
    scans: [
      { ...LABEL_CREATED_SCAN, hoursAgo: 122 },
      pickedUpScan(118),
      inTransitScan(110, 'DP', 'Left FedEx origin facility', ORIGIN),
      inTransitScan(80, 'AR', 'At local FedEx facility', CHICAGO_OHARE),
      inTransitScan(76, 'OD', 'On FedEx vehicle for delivery', CHICAGO_OHARE),
      deliveredScan(72, CHICAGO_LOOP),
    ],
  },

  // Picked up 24 hours ago, when integration-db-seed.ts marks demo-marcus's shipment shipped.
  [SANDBOX_TRACKING_NUMBERS.inTransitDemo]: {
    latestStatus: {
      code: 'AR',
      derivedCode: 'IT',
      statusByLocale: 'In transit',
      description: 'At destination sort facility',
      place: SEATTLE,
    },
    destination: SEATTLE_DOWNTOWN,
    scans: [
      { ...LABEL_CREATED_SCAN, hoursAgo: 30 },
      pickedUpScan(24),
      inTransitScan(18, 'AR', 'Arrived at FedEx hub', MEMPHIS),
      inTransitScan(14, 'DP', 'Departed FedEx hub', MEMPHIS),
      inTransitScan(4, 'AR', 'At destination sort facility', SEATTLE),
    ],
    estimatedDeliveryWindowHours: { begins: 20, ends: 28 },
  },
};

/**
 * Builds the `completeTrackResults` entry for one tracking number at time `now`: the seeded
 * shipment, or FedEx's not-found result (HTTP 200 with `trackResults[].error`) for any other
 * number. Scan events are left out unless `includeDetailedScans` is true.
 */
export function buildCompleteTrackResult(
  trackingNumber: string,
  now: Date,
  includeDetailedScans: boolean,
): FedexCompleteTrackResult {
  const trackingNumberInfo = {
    trackingNumber,
    carrierCode: 'FDXE',
    trackingNumberUniqueId: `12029~${trackingNumber}~FDEG`,
  };

  const shipment = SEED_SHIPMENTS[trackingNumber];
  if (!shipment) {
    return {
      trackingNumber,
      trackResults: [
        {
          trackingNumberInfo: {
            ...trackingNumberInfo,
            carrierCode: '',
            trackingNumberUniqueId: '',
          },
          error: {
            code: TRACKING_NUMBER_NOT_FOUND_CODE,
            message: TRACKING_NUMBER_NOT_FOUND_MESSAGE,
          },
        },
      ],
    };
  }

  const result: FedexTrackResult = {
    trackingNumberInfo,
    latestStatusDetail: buildLatestStatusDetail(shipment),
    dateAndTimes: buildDateAndTimes(shipment, now),
    serviceDetail: { type: 'FEDEX_2_DAY', description: 'FedEx 2Day', shortDescription: '2D' },
    originLocation: { locationContactAndAddress: { address: toCityAddress(ORIGIN) } },
    destinationLocation: {
      locationContactAndAddress: { address: toCityAddress(shipment.destination) },
    },
    estimatedDeliveryTimeWindow: { window: buildEstimatedWindow(shipment, now) },
    deliveryDetails: buildDeliveryDetails(shipment),
  };
  if (includeDetailedScans) {
    result.scanEvents = orderAsSent(shipment.scans).map((scan) => buildScanEvent(scan, now));
  }
  return { trackingNumber, trackResults: [result] };
}

function buildLatestStatusDetail(shipment: SeedShipment): FedexStatusDetail {
  const { place, ...status } = shipment.latestStatus;
  const scanLocation = toScanLocation(place);
  return scanLocation ? { ...status, scanLocation } : status;
}

function buildScanEvent(scan: SeedScan, now: Date): FedexScanEvent {
  const scanLocation = toScanLocation(scan.place);
  return {
    date: scanTime(scan, now),
    eventType: scan.eventType,
    eventDescription: scan.eventDescription,
    exceptionCode: scan.exceptionCode ?? '',
    exceptionDescription: scan.exceptionDescription ?? '',
    ...(scanLocation ? { scanLocation } : {}),
    derivedStatusCode: scan.derivedStatusCode,
    derivedStatus: scan.derivedStatus,
  };
}

function buildDateAndTimes(
  shipment: SeedShipment,
  now: Date,
): NonNullable<FedexTrackResult['dateAndTimes']> {
  const dateAndTimes: NonNullable<FedexTrackResult['dateAndTimes']> = [];

  const delivery = shipment.scans.find((scan) => scan.eventType === 'DL');
  if (delivery) dateAndTimes.push({ type: 'ACTUAL_DELIVERY', dateTime: scanTime(delivery, now) });

  const window = shipment.estimatedDeliveryWindowHours;
  if (window) {
    const dateTime = formatFedexDateTime(
      hoursFrom(now, window.ends),
      shipment.destination.timeZone,
    );
    dateAndTimes.push({ type: 'ESTIMATED_DELIVERY', dateTime });
  }

  const pickup = shipment.scans.find((scan) => scan.eventType === 'PU');
  if (pickup) {
    dateAndTimes.push({ type: 'ACTUAL_PICKUP', dateTime: scanTime(pickup, now) });
    dateAndTimes.push({ type: 'SHIP', dateTime: scanTime(pickup, now) });
  }
  return dateAndTimes;
}

function buildEstimatedWindow(
  shipment: SeedShipment,
  now: Date,
): { begins?: string; ends?: string } {
  const window = shipment.estimatedDeliveryWindowHours;
  if (!window) return {};

  const { timeZone } = shipment.destination;
  return {
    begins: formatFedexDateTime(hoursFrom(now, window.begins), timeZone),
    ends: formatFedexDateTime(hoursFrom(now, window.ends), timeZone),
  };
}

function buildDeliveryDetails(shipment: SeedShipment): FedexTrackResult['deliveryDetails'] {
  const delivered = shipment.scans.some((scan) => scan.eventType === 'DL');
  if (!delivered) return { deliveryAttempts: '0' };

  return {
    actualDeliveryAddress: { ...toCityAddress(shipment.destination), residential: true },
    locationType: 'RESIDENCE',
    locationDescription: 'Residence',
    deliveryAttempts: '0',
  };
}

function toScanLocation(place: ScanPlace): FedexAddress | undefined {
  if (place === 'absent') return undefined;
  if (place === 'blank') return { streetLines: [''], residential: false };

  return {
    streetLines: [''],
    city: place.city,
    stateOrProvinceCode: place.stateOrProvinceCode,
    postalCode: place.postalCode,
    countryCode: 'US',
    residential: false,
    countryName: 'United States',
  };
}

function toCityAddress(place: Place): FedexAddress {
  return {
    city: place.city,
    stateOrProvinceCode: place.stateOrProvinceCode,
    countryCode: 'US',
    residential: false,
    countryName: 'United States',
  };
}

/**
 * Orders scans neither oldest first nor newest first (the odd-numbered scans of the timeline,
 * then the even-numbered ones), so a client that relies on FedEx's order shows a wrong timeline.
 */
function orderAsSent(scans: SeedScan[]): SeedScan[] {
  const chronological = [...scans].sort((a, b) => b.hoursAgo - a.hoursAgo);
  const odd = chronological.filter((_scan, index) => index % 2 === 1);
  const even = chronological.filter((_scan, index) => index % 2 === 0);
  return [...odd, ...even];
}

/** Formats the time of a scan in the time zone of its place, or of the origin when it has none. */
function scanTime(scan: SeedScan, now: Date): string {
  const timeZone = typeof scan.place === 'string' ? ORIGIN.timeZone : scan.place.timeZone;
  return formatFedexDateTime(hoursFrom(now, -scan.hoursAgo), timeZone);
}

/** Returns `now` moved by `hours`, truncated to the minute as FedEx scan times are. */
function hoursFrom(now: Date, hours: number): Date {
  const instant = new Date(now.getTime() + hours * 3_600_000);
  instant.setUTCSeconds(0, 0);
  return instant;
}

/**
 * Formats an instant as FedEx does: local time in `timeZone` with its UTC offset, e.g.
 * `2024-04-26T09:26:00-07:00`.
 */
export function formatFedexDateTime(instant: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'longOffset',
  }).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes): string =>
    parts.find((item) => item.type === type)?.value ?? '';

  // `longOffset` gives "GMT-05:00", or plain "GMT" for a zero offset.
  const offset = part('timeZoneName').replace('GMT', '') || '+00:00';
  const date = `${part('year')}-${part('month')}-${part('day')}`;
  return `${date}T${part('hour')}:${part('minute')}:${part('second')}${offset}`;
}
