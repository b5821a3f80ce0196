import { Temporal } from 'temporal-polyfill';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { demoPatient, PatientClient, readPageHtml, signInByEmail } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';
import { setSandboxFault, type SandboxUpstream } from '../support/sandbox-control';

/**
 * One fault in one upstream at a time, against every page and most of the JSON API. Each page
 * must respond within the bound of docs/resilience.md, show what is unavailable, and keep the
 * content of its other sources.
 */

// The timeout leaves room for healthy calls on a busy test machine, where the stand-ins share one
// process with the portal.
const UPSTREAM_TIMEOUT_MS = 1_500;
const UPSTREAM_BUDGET_MS = 3_000;
/** Time a request may take on top of the upstream budget: database queries and rendering. */
const RESPONSE_MARGIN_MS = 1_500;
const RESPONSE_BOUND_MS = UPSTREAM_BUDGET_MS + RESPONSE_MARGIN_MS;
/** Tracking results go stale after a second, so every tracking page calls FedEx again. */
const TRACKING_CACHE_SECONDS = 1;

const FAULTS = {
  slow: { latencyMs: 3_000 },
  failing: { errorRate: 1, errorStatus: 500 },
  refused: { dropConnection: true },
  malformed: { malformedJson: true },
} as const;
type FaultKind = keyof typeof FAULTS;
const FAULT_KINDS = Object.keys(FAULTS) as FaultKind[];

type Patient = 'ava' | 'marcus';

/** What a page shows while one of its sources fails. */
interface Degraded {
  status: number;
  /** Text that names what is unavailable. */
  unavailable: string[];
  /** Text from the sources that still work. */
  intact: string[];
}

interface PageCheck {
  patient: Patient;
  path: string;
  /** Text of the healthy page. */
  healthy: string[];
  /** How the page degrades for each upstream it depends on. Any other upstream leaves it healthy. */
  degraded: Partial<Record<SandboxUpstream, Degraded>>;
}

const PAGES: PageCheck[] = [
  {
    patient: 'marcus',
    path: '/',
    healthy: ['Hello, Marcus', 'Next refill:', 'On its way since', 'Your next video visit is on'],
    degraded: {
      fhir: {
        status: 200,
        unavailable: [
          'Your details could not be loaded right now.',
          'Medication details unavailable right now',
          'Visits could not be loaded right now.',
          'Messages could not be checked right now.',
        ],
        intact: ['Next refill:', 'On its way since', 'You have 1 unread notification.'],
      },
    },
  },
  {
    patient: 'marcus',
    path: '/prescriptions',
    healthy: ['lisinopril 10 MG Oral Tablet', 'All (2)'],
    degraded: {
      fhir: {
        status: 503,
        unavailable: ['Your prescriptions are unavailable right now.'],
        intact: [],
      },
    },
  },
  {
    patient: 'marcus',
    path: '/shipments',
    healthy: ['lisinopril 10 MG Oral Tablet', 'Track FedEx 700000000022'],
    degraded: {
      fhir: {
        status: 200,
        unavailable: ['Medication name unavailable right now'],
        intact: ['Track FedEx 700000000022', 'Shipped: '],
      },
    },
  },
  {
    patient: 'marcus',
    path: '/shipments/track/700000000022',
    healthy: ['At destination sort facility', 'Scan history'],
    degraded: {
      // The last result is in the cache, so the page shows it and marks it as old.
      fedex: {
        status: 200,
        unavailable: ['FedEx is not responding right now.'],
        intact: ['At destination sort facility', 'Scan history'],
      },
    },
  },
  {
    patient: 'ava',
    path: '/shipments/track/700000000007',
    healthy: ['Tracking is not available yet.'],
    degraded: {
      // FedEx has never known this number, so no cached result can stand in.
      fedex: {
        status: 200,
        unavailable: ['Tracking is unavailable right now because FedEx could not be reached.'],
        intact: ['All shipments'],
      },
    },
  },
  {
    patient: 'marcus',
    path: '/messages',
    healthy: ['Could I take my tablet in the evening', 'Send message'],
    degraded: {
      fhir: { status: 503, unavailable: ['Your messages are unavailable right now.'], intact: [] },
    },
  },
  {
    patient: 'marcus',
    path: '/scheduling',
    healthy: ['Your upcoming visits', 'Book a video visit'],
    degraded: {
      fhir: { status: 503, unavailable: ['Scheduling is unavailable right now.'], intact: [] },
    },
  },
  {
    patient: 'marcus',
    path: '/notifications',
    healthy: ['Your medication is on its way', 'You have 1 unread notification.'],
    degraded: {
      fhir: {
        status: 200,
        unavailable: ['Your time zone could not be loaded right now'],
        intact: ['Your medication is on its way', 'You have 1 unread notification.'],
      },
    },
  },
  {
    patient: 'marcus',
    path: '/profile',
    healthy: ['Marcus Chen', 'Sign out everywhere'],
    degraded: {
      fhir: {
        status: 200,
        unavailable: ['Your details are unavailable right now.'],
        intact: ['Sign out everywhere'],
      },
    },
  },
];

interface ApiCheck {
  patient: Patient;
  path: string;
  /** Checks the JSON of a 200. A degraded endpoint that responds 503 needs none. */
  expectBody?: (body: Record<string, unknown>, failing: SandboxUpstream | undefined) => void;
  /** Upstreams whose failure makes the endpoint respond 503 with the code `unavailable`. */
  unavailableWith: SandboxUpstream[];
}

const API: ApiCheck[] = [
  { patient: 'marcus', path: '/api/patient/profile', unavailableWith: ['fhir'] },
  { patient: 'marcus', path: '/api/patient/prescriptions', unavailableWith: ['fhir'] },
  { patient: 'marcus', path: '/api/patient/messages', unavailableWith: ['fhir'] },
  { patient: 'marcus', path: '/api/patient/appointments', unavailableWith: ['fhir'] },
  {
    patient: 'marcus',
    path: '/api/patient/shipments',
    unavailableWith: [],
    expectBody(body, failing) {
      const shipments = body.shipments as { medicationNameUnavailable: boolean }[];
      expect(shipments).toHaveLength(2);
      for (const shipment of shipments) {
        expect(shipment.medicationNameUnavailable).toBe(failing === 'fhir');
      }
    },
  },
  {
    patient: 'marcus',
    path: '/api/patient/tracking/700000000022',
    unavailableWith: [],
    expectBody(body, failing) {
      expect(body).toMatchObject({ kind: 'found', stale: failing === 'fedex' });
    },
  },
  { patient: 'ava', path: '/api/patient/tracking/700000000007', unavailableWith: ['fedex'] },
  {
    patient: 'marcus',
    path: '/api/patient/notifications',
    unavailableWith: [],
    expectBody(body) {
      expect(body).toMatchObject({ unreadCount: 1 });
    },
  },
];

let portal: PortalServer;
const clients = {} as Record<Patient, PatientClient>;

beforeAll(async () => {
  portal = await startPortalServer({
    UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
    UPSTREAM_BUDGET_MS: String(UPSTREAM_BUDGET_MS),
    // The circuits stay closed, so every cell meets its fault and not an open circuit.
    // retries-and-breaker.test.ts covers the breaker.
    CIRCUIT_BREAKER_FAILURES: '1000',
    TRACKING_CACHE_SECONDS: String(TRACKING_CACHE_SECONDS),
    SEND_CODE_LIMIT_PER_EMAIL: '50',
    WRITE_LIMIT_PER_WINDOW: '100',
  });
  [clients.ava, clients.marcus] = await Promise.all([
    signInByEmail(portal.baseUrl, demoPatient(0).email),
    signInByEmail(portal.baseUrl, demoPatient(1).email),
  ]);
  // The first request of each page compiles its modules, and it also fills the tracking cache.
  for (const page of PAGES) await clients[page.patient].request(page.path);
  // Opening the messages marks them read, so later loads see the same counts.
  await clients.marcus.request('/api/patient/messages');
});

afterAll(async () => {
  await portal?.stop();
});

afterEach(async () => {
  await fetch(`${portal.baseUrl}/sandbox/faults`, { method: 'DELETE' });
});

async function timedRequest(
  client: PatientClient,
  path: string,
  init?: RequestInit,
): Promise<{ response: Response; elapsedMs: number }> {
  const startedAt = performance.now();
  const response = await client.request(path, init);
  return { response, elapsedMs: performance.now() - startedAt };
}

function waitMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Requests of one cell in flight at once: enough to overlap, few enough not to starve the portal. */
const CONCURRENT_REQUESTS = 4;

/** Maps `items` through `work` with at most CONCURRENT_REQUESTS running, keeping their order. */
async function mapConcurrently<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENT_REQUESTS }, worker));
  return results;
}

/** Loads every page and checks status, time and text against the failing upstream. */
async function checkPages(failing: SandboxUpstream): Promise<void> {
  const answers = await mapConcurrently(PAGES, async (page) => {
    const { response, elapsedMs } = await timedRequest(clients[page.patient], page.path);
    return { page, response, elapsedMs, html: await readPageHtml(response) };
  });

  for (const { page, response, elapsedMs, html } of answers) {
    const degraded = page.degraded[failing];
    const label = `${page.path} with ${failing} failing`;
    expect(elapsedMs, label).toBeLessThan(RESPONSE_BOUND_MS);
    // The header and navigation come from the session, never from the failing upstream.
    expect(html, label).toContain('aria-label="Main"');
    expect(html, label).toContain('Sign out');

    if (!degraded) {
      expect(response.status, label).toBe(200);
      for (const text of page.healthy) expect(html, label).toContain(text);
      for (const other of Object.values(page.degraded)) {
        for (const text of other.unavailable) expect(html, label).not.toContain(text);
      }
      continue;
    }
    expect(response.status, label).toBe(degraded.status);
    for (const text of degraded.unavailable) expect(html, label).toContain(text);
    for (const text of degraded.intact) expect(html, label).toContain(text);
  }
}

/** Calls every JSON endpoint and checks status, time and body. */
async function checkApi(failing: SandboxUpstream): Promise<void> {
  const answers = await mapConcurrently(API, async (endpoint) => ({
    endpoint,
    ...(await timedRequest(clients[endpoint.patient], endpoint.path)),
  }));

  for (const { endpoint, response, elapsedMs } of answers) {
    const label = `${endpoint.path} with ${failing} failing`;
    const body = (await response.json()) as Record<string, unknown>;
    expect(elapsedMs, label).toBeLessThan(RESPONSE_BOUND_MS);

    if (endpoint.unavailableWith.includes(failing)) {
      expect(response.status, label).toBe(503);
      expect(body, label).toMatchObject({ error: { code: 'unavailable' } });
      continue;
    }
    expect(response.status, label).toBe(200);
    endpoint.expectBody?.(body, failing);
  }
}

describe.each(['fhir', 'fedex', 'zoom', 'sendgrid'] as const)('%s faults on pages', (upstream) => {
  it.each(FAULT_KINDS)('%s', async (fault) => {
    // Lets the cached tracking results go stale, so the tracking pages call FedEx again.
    await waitMs(TRACKING_CACHE_SECONDS * 1000 + 100);
    await setSandboxFault(portal.baseUrl, upstream, FAULTS[fault]);

    await checkPages(upstream);
    await checkApi(upstream);
  });
});

interface SlotJson {
  slotId: string;
  start: string;
  end: string;
  timeZone: string;
  practitioner: { id: string; name: string };
}

/** Returns an open slot of Ava's practitioner from `daysAhead` days on. */
async function openSlot(daysAhead: number): Promise<SlotJson> {
  const today = Temporal.Now.plainDateISO(demoPatient(0).timeZone);
  for (let offset = daysAhead; offset < daysAhead + 14; offset++) {
    const date = today.add({ days: offset }).toString();
    const response = await clients.ava.request(`/api/patient/availability?date=${date}`);
    const { slots } = (await response.json()) as { slots: SlotJson[] };
    if (slots[0]) return slots[0];
  }
  throw new Error('Ava has no open slot within two weeks.');
}

/** Returns the fields of the scheduling page's booking form for `slot`. */
function bookingForm(slot: SlotJson, idempotencyKey: string): Record<string, string> {
  return {
    slotId: slot.slotId,
    start: slot.start,
    end: slot.end,
    timeZone: slot.timeZone,
    practitionerId: slot.practitioner.id,
    practitionerName: slot.practitioner.name,
    idempotencyKey,
  };
}

async function postBooking(
  form: Record<string, string>,
): Promise<{ response: Response; elapsedMs: number }> {
  return timedRequest(clients.ava, '/scheduling', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

interface MailJson {
  to: string;
  subject: string;
  sentAt: string;
}

async function mailsSince(email: string, since: Date): Promise<MailJson[]> {
  const response = await fetch(
    `${portal.baseUrl}/sandbox/mail/messages?${new URLSearchParams({ to: email })}`,
  );
  const messages = (await response.json()) as MailJson[];
  return messages.filter((message) => new Date(message.sentAt) >= since);
}

describe('Zoom faults on booking', () => {
  beforeAll(async () => {
    // A first booking caches Zoom's access token, as a running portal usually has one.
    const warmUp = await postBooking(bookingForm(await openSlot(2), crypto.randomUUID()));
    expect(warmUp.response.status).toBe(303);
  });

  it.each(FAULT_KINDS)('%s: fails a booking and keeps the chosen slot', async (fault) => {
    const slot = await openSlot(3 + FAULT_KINDS.indexOf(fault));
    const form = bookingForm(slot, crypto.randomUUID());
    await setSandboxFault(portal.baseUrl, 'zoom', FAULTS[fault]);

    const { response, elapsedMs } = await postBooking(form);
    const html = await readPageHtml(response);

    expect(elapsedMs).toBeLessThan(RESPONSE_BOUND_MS);
    expect(response.status).toBe(503);
    expect(html).toContain('Scheduling is unavailable right now.');
    // The confirm form comes back with the same slot and key, so one click tries again.
    expect(html).toContain(`name="slotId" value="${slot.slotId}"`);
    expect(html).toContain(`name="start" value="${slot.start}"`);
    expect(html).toContain(`name="idempotencyKey" value="${form.idempotencyKey}"`);
    expect(html).toContain('Your upcoming visits');

    await setSandboxFault(portal.baseUrl, 'zoom', null);
    const retried = await postBooking(form);
    expect(retried.response.status).toBe(303);
    expect(retried.response.headers.get('location')).toMatch(/^\/scheduling\?booked=/);
  });
});

describe('SendGrid faults on email', () => {
  it.each(FAULT_KINDS)('%s: still books a visit without its email', async (fault) => {
    const slot = await openSlot(10 + FAULT_KINDS.indexOf(fault));
    const since = new Date();
    await setSandboxFault(portal.baseUrl, 'sendgrid', FAULTS[fault]);

    const { response, elapsedMs } = await postBooking(bookingForm(slot, crypto.randomUUID()));

    expect(elapsedMs).toBeLessThan(RESPONSE_BOUND_MS);
    expect(response.status).toBe(303);
    const appointmentId = new URL(
      response.headers.get('location') ?? '',
      portal.baseUrl,
    ).searchParams.get('booked');
    expect(appointmentId).toBeTruthy();

    const notifications = (await (
      await clients.ava.request('/api/patient/notifications')
    ).json()) as { notifications: { type: string; createdAt: string }[] };
    expect(
      notifications.notifications.some(
        (notification) =>
          notification.type === 'appointment_booked' && new Date(notification.createdAt) >= since,
      ),
    ).toBe(true);
    expect(await mailsSince(demoPatient(0).email, since)).toEqual([]);
  });

  it.each(FAULT_KINDS)('%s: answers a code request without the email', async (fault) => {
    const visitor = new PatientClient(portal.baseUrl);
    const email = demoPatient(2).email;
    const since = new Date();
    await setSandboxFault(portal.baseUrl, 'sendgrid', FAULTS[fault]);

    const page = await timedRequest(visitor, '/login');
    expect(page.response.status).toBe(200);
    expect(await readPageHtml(page.response)).toContain('Email me a code');

    // The code is emailed after the response, so the response is the same as when SendGrid
    // works and reveals nothing about the address.
    const { response, elapsedMs } = await timedRequest(visitor, '/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email }).toString(),
    });
    expect(elapsedMs).toBeLessThan(RESPONSE_BOUND_MS);
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/login/verify');

    // The send, which has a budget of its own, has ended by then.
    await waitMs(RESPONSE_BOUND_MS);
    expect(await mailsSince(email, since)).toEqual([]);
  });
});
