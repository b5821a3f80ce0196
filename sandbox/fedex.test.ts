import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
  SANDBOX_TRACKING_NUMBERS,
  TRACKING_NUMBER_NOT_FOUND_MESSAGE,
  type FedexCompleteTrackResult,
  type FedexScanEvent,
  type FedexTrackResult,
  type SandboxTrackingNumberName,
} from './fedex-tracking-data.js';
import { startSandbox, TEST_CREDENTIALS, type RunningSandbox } from './test-support.js';

/** FedEx's local time with an offset, e.g. `2024-04-26T09:26:00-07:00`. */
const FEDEX_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/;

/** The seeded scan sites and their ZIP codes. */
const SEEDED_SITES = new Map([
  ['INDIANAPOLIS IN', ['46241']],
  ['MEMPHIS TN', ['38118']],
  ['CHICAGO IL', ['60601', '60666']],
  ['OAKLAND CA', ['94621']],
  ['SEATTLE WA', ['98101', '98108']],
]);

interface FedexErrorBody {
  transactionId: string;
  errors: { code: string; message: string }[];
}

interface TrackResponseBody {
  transactionId: string;
  customerTransactionId?: string;
  output: { completeTrackResults: FedexCompleteTrackResult[] };
}

let sandbox: RunningSandbox;
let fedexUrl: string;
let accessToken: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  fedexUrl = `${sandbox.sandboxUrl}/fedex`;
  accessToken = await requestAccessToken();
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(async () => {
  await fetch(`${sandbox.sandboxUrl}/faults`, { method: 'DELETE' });
  await fetch(`${sandbox.sandboxUrl}/stats`, { method: 'DELETE' });
});

function tokenRequest(form: Record<string, string>): Promise<Response> {
  return fetch(`${fedexUrl}/oauth/token`, { method: 'POST', body: new URLSearchParams(form) });
}

async function requestAccessToken(): Promise<string> {
  const response = await tokenRequest({
    grant_type: 'client_credentials',
    client_id: TEST_CREDENTIALS.fedexClientId,
    client_secret: TEST_CREDENTIALS.fedexClientSecret,
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

function trackRequest(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${fedexUrl}/track/v1/trackingnumbers`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Authorization: `Bearer ${accessToken}`,
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function trackBody(trackingNumbers: string[], includeDetailedScans = true): unknown {
  return {
    includeDetailedScans,
    trackingInfo: trackingNumbers.map((trackingNumber) => ({
      trackingNumberInfo: { trackingNumber },
    })),
  };
}

async function track(trackingNumber: string): Promise<FedexTrackResult> {
  const response = await trackRequest(trackBody([trackingNumber]));
  expect(response.status).toBe(200);
  const body = (await response.json()) as TrackResponseBody;
  const [complete] = body.output.completeTrackResults;
  expect(complete?.trackingNumber).toBe(trackingNumber);
  expect(complete?.trackResults).toHaveLength(1);
  return complete!.trackResults[0]!;
}

function expectFedexError(body: unknown, code: string): void {
  const error = body as FedexErrorBody;
  expect(typeof error.transactionId).toBe('string');
  expect(error.errors).toHaveLength(1);
  expect(error.errors[0]?.code).toBe(code);
  expect(error.errors[0]?.message.length).toBeGreaterThan(0);
}

function putFaults(settings: unknown): Promise<Response> {
  return fetch(`${sandbox.sandboxUrl}/faults/fedex`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(settings),
  });
}

async function readFedexStats(): Promise<Record<string, number> | undefined> {
  const stats = (await (await fetch(`${sandbox.sandboxUrl}/stats`)).json()) as Record<
    string,
    Record<string, number>
  >;
  return stats.fedex;
}

function hoursFromNow(dateTime: string | undefined): number {
  return (Date.parse(dateTime ?? '') - Date.now()) / 3_600_000;
}

/** Scan events oldest first, by instant. */
function chronological(events: FedexScanEvent[]): FedexScanEvent[] {
  return [...events].sort((a, b) => Date.parse(a.date) - Date.parse(b.date));
}

describe('FedEx token endpoint', () => {
  it('issues a bearer token for valid credentials', async () => {
    const response = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: TEST_CREDENTIALS.fedexClientId,
      client_secret: TEST_CREDENTIALS.fedexClientSecret,
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.token_type).toBe('bearer');
    expect(body.expires_in).toBe(3599);
    expect(body.scope).toBe('CXS');
    expect(String(body.access_token).length).toBeGreaterThanOrEqual(32);
  });

  it('rejects a wrong client secret with 401', async () => {
    const response = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: TEST_CREDENTIALS.fedexClientId,
      client_secret: 'wrong-secret',
    });

    expect(response.status).toBe(401);
    expectFedexError(await response.json(), 'NOT.AUTHORIZED.ERROR');
  });

  it('rejects an unknown client id with 401', async () => {
    const response = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: 'someone-else',
      client_secret: TEST_CREDENTIALS.fedexClientSecret,
    });

    expect(response.status).toBe(401);
    expectFedexError(await response.json(), 'NOT.AUTHORIZED.ERROR');
  });

  it('rejects another grant type with 400', async () => {
    const response = await tokenRequest({
      grant_type: 'password',
      client_id: TEST_CREDENTIALS.fedexClientId,
      client_secret: TEST_CREDENTIALS.fedexClientSecret,
    });

    expect(response.status).toBe(400);
    expectFedexError(await response.json(), 'BAD.REQUEST.ERROR');
  });

  it('rejects a JSON body with 400', async () => {
    const response = await fetch(`${fedexUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });

    expect(response.status).toBe(400);
    expectFedexError(await response.json(), 'BAD.REQUEST.ERROR');
  });
});

describe('FedEx track authentication', () => {
  it('rejects a request without a token with 401', async () => {
    const response = await fetch(`${fedexUrl}/track/v1/trackingnumbers`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(trackBody([SANDBOX_TRACKING_NUMBERS.inTransit])),
    });

    expect(response.status).toBe(401);
    expectFedexError(await response.json(), 'NOT.AUTHORIZED.ERROR');
  });

  it('rejects an unknown token with 401', async () => {
    const response = await trackRequest(trackBody([SANDBOX_TRACKING_NUMBERS.inTransit]), {
      Authorization: 'Bearer not-a-token-the-sandbox-issued',
    });

    expect(response.status).toBe(401);
    expectFedexError(await response.json(), 'NOT.AUTHORIZED.ERROR');
  });
});

describe('FedEx track request validation', () => {
  it.each([
    ['an empty trackingInfo', { includeDetailedScans: true, trackingInfo: [] }],
    ['no trackingInfo', { includeDetailedScans: true }],
    ['a blank tracking number', trackBody(['  '])],
    ['no trackingNumberInfo', { trackingInfo: [{}] }],
  ])('rejects %s with TRACKING.TRACKINGNUMBER.EMPTY', async (_case, body) => {
    const response = await trackRequest(body);

    expect(response.status).toBe(400);
    expectFedexError(await response.json(), 'TRACKING.TRACKINGNUMBER.EMPTY');
  });

  it('rejects more than 30 tracking numbers', async () => {
    const numbers = Array.from({ length: 31 }, (_item, index) => String(700000000100 + index));

    const response = await trackRequest(trackBody(numbers));

    expect(response.status).toBe(400);
    expectFedexError(await response.json(), 'TRACKING.TRACKINGNUMBERS.LIMITEXCEEDED');
  });

  it('rejects a non-boolean includeDetailedScans', async () => {
    const response = await trackRequest({
      includeDetailedScans: 'yes',
      trackingInfo: [{ trackingNumberInfo: { trackingNumber: '700000000003' } }],
    });

    expect(response.status).toBe(400);
    expectFedexError(await response.json(), 'INVALID.INPUT.EXCEPTION');
  });

  it('rejects invalid JSON with 400', async () => {
    const response = await trackRequest('{"trackingInfo": [');

    expect(response.status).toBe(400);
    expectFedexError(await response.json(), 'BAD.REQUEST.ERROR');
  });

  it('returns 404 in FedEx shape for another path', async () => {
    const response = await fetch(`${fedexUrl}/ship/v1/shipments`, { method: 'POST' });

    expect(response.status).toBe(404);
    expectFedexError(await response.json(), 'NOT.FOUND.ERROR');
  });
});

describe('FedEx track response shape', () => {
  const seeded: [SandboxTrackingNumberName, string, string][] = [
    ['labelCreated', 'OC', 'IN'],
    ['pickedUp', 'PU', 'PU'],
    ['inTransit', 'IT', 'IT'],
    ['outForDelivery', 'OD', 'OD'],
    ['delivered', 'DL', 'DL'],
    ['deliveryException', 'DE', 'DE'],
    ['eventWithoutLocation', 'IT', 'IT'],
    ['deliveredDemo', 'DL', 'DL'],
    ['inTransitDemo', 'AR', 'IT'],
  ];

  it.each(seeded)('returns %s with its latest status', async (name, code, derivedCode) => {
    const trackingNumber = SANDBOX_TRACKING_NUMBERS[name];

    const result = await track(trackingNumber);

    expect(result.trackingNumberInfo.trackingNumber).toBe(trackingNumber);
    expect(result.error).toBeUndefined();
    expect(result.latestStatusDetail?.code).toBe(code);
    expect(result.latestStatusDetail?.derivedCode).toBe(derivedCode);
    expect(result.latestStatusDetail?.statusByLocale.length).toBeGreaterThan(0);
    expect(result.latestStatusDetail?.description.length).toBeGreaterThan(0);
    expect(result.scanEvents?.length).toBeGreaterThan(0);
  });

  it.each(seeded)('stamps every %s scan with FedEx fields', async (name) => {
    const result = await track(SANDBOX_TRACKING_NUMBERS[name]);

    for (const event of result.scanEvents ?? []) {
      expect(event.date).toMatch(FEDEX_DATE_TIME);
      expect(Date.parse(event.date)).toBeLessThan(Date.now());
      expect(event.eventType).toMatch(/^[A-Z]{2}$/);
      expect(event.eventDescription.length).toBeGreaterThan(0);
      expect(event.derivedStatusCode).toMatch(/^[A-Z]{2}$/);
      expect(event.derivedStatus.length).toBeGreaterThan(0);
      if (event.scanLocation?.city) {
        const site = `${event.scanLocation.city} ${event.scanLocation.stateOrProvinceCode}`;
        expect(SEEDED_SITES.get(site)).toContain(event.scanLocation.postalCode);
        expect(event.scanLocation.countryCode).toBe('US');
      }
    }
  });

  it.each(seeded)('sends %s scans out of chronological order', async (name) => {
    const events = (await track(SANDBOX_TRACKING_NUMBERS[name])).scanEvents ?? [];
    if (events.length < 3) return;

    const oldestFirst = chronological(events);

    expect(events).not.toEqual(oldestFirst);
    expect(events).not.toEqual([...oldestFirst].reverse());
  });

  it('sends the label-created scan without a place', async () => {
    const result = await track(SANDBOX_TRACKING_NUMBERS.labelCreated);

    expect(result.scanEvents).toHaveLength(1);
    const [event] = result.scanEvents ?? [];
    expect(event).toMatchObject({
      eventType: 'OC',
      eventDescription: 'Shipment information sent to FedEx',
      derivedStatusCode: 'IN',
    });
    expect(event?.scanLocation).toEqual({ streetLines: [''], residential: false });
    expect(result.estimatedDeliveryTimeWindow).toEqual({ window: {} });
  });

  it('places the pickup scan at the origin', async () => {
    const result = await track(SANDBOX_TRACKING_NUMBERS.pickedUp);

    const pickup = result.scanEvents?.find((event) => event.eventType === 'PU');
    expect(pickup?.scanLocation).toMatchObject({
      city: 'INDIANAPOLIS',
      stateOrProvinceCode: 'IN',
      postalCode: '46241',
      countryCode: 'US',
    });
    expect(result.dateAndTimes?.map((item) => item.type)).toEqual(
      expect.arrayContaining(['ACTUAL_PICKUP', 'SHIP', 'ESTIMATED_DELIVERY']),
    );
  });

  it('gives an in-transit shipment a future delivery window', async () => {
    const result = await track(SANDBOX_TRACKING_NUMBERS.inTransit);

    const window = result.estimatedDeliveryTimeWindow?.window;
    expect(window?.begins).toMatch(FEDEX_DATE_TIME);
    expect(window?.ends).toMatch(FEDEX_DATE_TIME);
    expect(hoursFromNow(window?.begins)).toBeGreaterThan(17);
    expect(hoursFromNow(window?.ends)).toBeGreaterThan(hoursFromNow(window?.begins));
    expect(result.latestStatusDetail?.scanLocation).toMatchObject({
      city: 'OAKLAND',
      stateOrProvinceCode: 'CA',
      postalCode: '94621',
    });
  });

  it('shows out for delivery as the newest scan', async () => {
    const result = await track(SANDBOX_TRACKING_NUMBERS.outForDelivery);

    const newest = chronological(result.scanEvents ?? []).at(-1);
    expect(newest?.eventType).toBe('OD');
    expect(newest?.eventDescription).toBe('On FedEx vehicle for delivery');
  });

  it.each([
    ['delivered', 436],
    ['deliveredDemo', 72],
  ] as const)('gives %s an ACTUAL_DELIVERY date', async (name, hoursAgo) => {
    const result = await track(SANDBOX_TRACKING_NUMBERS[name]);

    const delivery = result.dateAndTimes?.find((item) => item.type === 'ACTUAL_DELIVERY');
    expect(delivery?.dateTime).toMatch(FEDEX_DATE_TIME);
    expect(hoursFromNow(delivery?.dateTime)).toBeCloseTo(-hoursAgo, 0);
    expect(chronological(result.scanEvents ?? []).at(-1)?.eventType).toBe('DL');
    expect(result.estimatedDeliveryTimeWindow).toEqual({ window: {} });
    expect(result.deliveryDetails?.actualDeliveryAddress).toMatchObject({ countryCode: 'US' });
  });

  it('delivers the demo shipment to Chicago', async () => {
    const result = await track(SANDBOX_TRACKING_NUMBERS.deliveredDemo);

    expect(result.latestStatusDetail?.scanLocation).toMatchObject({
      city: 'CHICAGO',
      stateOrProvinceCode: 'IL',
      postalCode: '60601',
    });
  });

  it('records the reason of a delivery exception', async () => {
    const result = await track(SANDBOX_TRACKING_NUMBERS.deliveryException);

    const newest = chronological(result.scanEvents ?? []).at(-1);
    expect(newest).toMatchObject({
      eventType: 'DE',
      eventDescription: 'Delivery exception',
      exceptionDescription: 'Customer not available or business closed',
    });
  });

  it('leaves out scanLocation on the middle scan', async () => {
    const result = await track(SANDBOX_TRACKING_NUMBERS.eventWithoutLocation);

    const events = chronological(result.scanEvents ?? []);
    expect(events).toHaveLength(5);
    expect(events[2]).not.toHaveProperty('scanLocation');
    expect(events[1]?.scanLocation?.city).toBe('INDIANAPOLIS');
    expect(events[3]?.scanLocation?.city).toBe('MEMPHIS');
  });

  it('tracks the demo in-transit shipment to Seattle', async () => {
    const result = await track(SANDBOX_TRACKING_NUMBERS.inTransitDemo);

    const pickup = result.dateAndTimes?.find((item) => item.type === 'ACTUAL_PICKUP');
    expect(hoursFromNow(pickup?.dateTime)).toBeCloseTo(-24, 0);
    expect(result.latestStatusDetail?.scanLocation?.city).toBe('SEATTLE');
  });

  it('writes Pacific scans with a Pacific offset', async () => {
    const result = await track(SANDBOX_TRACKING_NUMBERS.inTransit);

    const oakland = result.scanEvents?.find((event) => event.scanLocation?.city === 'OAKLAND');
    expect(oakland?.date).toMatch(/-0[78]:00$/);
  });
});

describe('FedEx track results', () => {
  it.each([
    ['the seeded not-found number', SANDBOX_TRACKING_NUMBERS.notFound],
    ['an unseeded number', '123456789012'],
  ])('returns 200 with an error for %s', async (_case, trackingNumber) => {
    const result = await track(trackingNumber);

    expect(result.trackingNumberInfo.trackingNumber).toBe(trackingNumber);
    expect(result.error).toEqual({
      code: 'TRACKING.TRACKINGNUMBER.NOTFOUND',
      message: TRACKING_NUMBER_NOT_FOUND_MESSAGE,
    });
    expect(result.latestStatusDetail).toBeUndefined();
    expect(result.scanEvents).toBeUndefined();
  });

  it('returns one result per requested number in order', async () => {
    const numbers = [
      SANDBOX_TRACKING_NUMBERS.delivered,
      SANDBOX_TRACKING_NUMBERS.notFound,
      SANDBOX_TRACKING_NUMBERS.labelCreated,
    ];

    const response = await trackRequest(trackBody(numbers));

    const body = (await response.json()) as TrackResponseBody;
    expect(body.output.completeTrackResults.map((result) => result.trackingNumber)).toEqual(
      numbers,
    );
  });

  it('leaves out scan events unless detailed scans are requested', async () => {
    const response = await trackRequest(trackBody([SANDBOX_TRACKING_NUMBERS.inTransit], false));

    const body = (await response.json()) as TrackResponseBody;
    const result = body.output.completeTrackResults[0]?.trackResults[0];
    expect(result?.latestStatusDetail?.code).toBe('IT');
    expect(result?.scanEvents).toBeUndefined();
  });

  it('echoes x-customer-transaction-id', async () => {
    const response = await trackRequest(trackBody([SANDBOX_TRACKING_NUMBERS.inTransit]), {
      'x-customer-transaction-id': 'portal-test-1',
    });

    const body = (await response.json()) as TrackResponseBody;
    expect(body.customerTransactionId).toBe('portal-test-1');
    expect(typeof body.transactionId).toBe('string');
  });
});

describe('FedEx faults', () => {
  it('fails track requests with FedEx error shape', async () => {
    await putFaults({ errorRate: 1, errorStatus: 503 });

    const response = await trackRequest(trackBody([SANDBOX_TRACKING_NUMBERS.inTransit]));

    expect(response.status).toBe(503);
    expectFedexError(await response.json(), 'SERVICE.UNAVAILABLE.ERROR');
  });

  it('fails the token endpoint too', async () => {
    await putFaults({ errorRate: 1, errorStatus: 500 });

    const response = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: TEST_CREDENTIALS.fedexClientId,
      client_secret: TEST_CREDENTIALS.fedexClientSecret,
    });

    expect(response.status).toBe(500);
    expectFedexError(await response.json(), 'INTERNAL.SERVER.ERROR');
  });

  it('sends a configured error body', async () => {
    const errorBody = { errors: [{ code: 'TRACKING.TRACKINGNUMBER.INVALID', message: 'x' }] };
    await putFaults({ errorRate: 1, errorStatus: 400, errorBody });

    const response = await trackRequest(trackBody([SANDBOX_TRACKING_NUMBERS.inTransit]));

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual(errorBody);
  });

  it('sends truncated JSON with status 200', async () => {
    await putFaults({ malformedJson: true });

    const response = await trackRequest(trackBody([SANDBOX_TRACKING_NUMBERS.inTransit]));

    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('completeTrackResults');
    expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
  });

  it('delays requests by latencyMs', async () => {
    await putFaults({ latencyMs: 150 });

    const started = performance.now();
    const response = await trackRequest(trackBody([SANDBOX_TRACKING_NUMBERS.inTransit]));

    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('leaves the FHIR stand-in alone', async () => {
    await putFaults({ errorRate: 1 });

    const response = await fetch(`${sandbox.sandboxUrl}/fhir/auth/token/`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: TEST_CREDENTIALS.fhirClientId,
        client_secret: TEST_CREDENTIALS.fhirClientSecret,
      }),
    });

    expect(response.status).toBe(200);
  });
});

describe('FedEx call counters', () => {
  it('counts track and token requests', async () => {
    expect(await readFedexStats()).toEqual({ requests: 0, tokenRequests: 0 });

    await requestAccessToken();
    await trackRequest(trackBody([SANDBOX_TRACKING_NUMBERS.inTransit]));
    await trackRequest(trackBody([SANDBOX_TRACKING_NUMBERS.delivered]));

    expect(await readFedexStats()).toEqual({ requests: 3, tokenRequests: 1 });
  });

  it('counts rejected and faulted requests', async () => {
    await trackRequest(trackBody([SANDBOX_TRACKING_NUMBERS.inTransit]), {
      Authorization: 'Bearer unknown',
    });
    await putFaults({ errorRate: 1 });
    await trackRequest(trackBody([SANDBOX_TRACKING_NUMBERS.inTransit]));

    expect((await readFedexStats())?.requests).toBe(2);
  });
});
