import { Temporal } from 'temporal-polyfill';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { MAX_RETRIES } from '../../app/clients/http.server';
import {
  demoPatient,
  PatientClient,
  readPageHtml,
  readSignInCode,
  signInByEmail,
} from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';
import {
  countUpstreamRequests,
  setSandboxFault,
  type SandboxUpstream,
} from '../support/sandbox-control';

/**
 * Retries and circuit breakers seen from outside: real page and API requests through a running
 * portal, with the stand-ins' call counts as the measure. The tests run in order and each leaves
 * every circuit closed.
 */

/** Failures in a row that open a circuit: two profile reads of 1 + MAX_RETRIES attempts. */
const CIRCUIT_BREAKER_FAILURES = 2 * (1 + MAX_RETRIES);
const CIRCUIT_BREAKER_OPEN_MS = 2_000;
/** Room for two Retry-After waits of a second each. */
const UPSTREAM_BUDGET_MS = 5_000;

let portal: PortalServer;
let client: PatientClient;

beforeAll(async () => {
  portal = await startPortalServer({
    UPSTREAM_TIMEOUT_MS: '1000',
    UPSTREAM_BUDGET_MS: String(UPSTREAM_BUDGET_MS),
    CIRCUIT_BREAKER_FAILURES: String(CIRCUIT_BREAKER_FAILURES),
    CIRCUIT_BREAKER_OPEN_MS: String(CIRCUIT_BREAKER_OPEN_MS),
    SEND_CODE_LIMIT_PER_EMAIL: '50',
  });
  client = await signInByEmail(portal.baseUrl, demoPatient(1).email);
});

afterAll(async () => {
  await portal?.stop();
});

afterEach(async () => {
  await fetch(`${portal.baseUrl}/sandbox/faults`, { method: 'DELETE' });
});

function waitMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `work` and returns how many API requests `upstream`'s stand-in received meanwhile. */
async function countCalls(
  upstream: SandboxUpstream,
  work: () => Promise<unknown>,
): Promise<number> {
  const before = await countUpstreamRequests(portal.baseUrl, upstream);
  await work();
  return (await countUpstreamRequests(portal.baseUrl, upstream)) - before;
}

/** Reads the profile, one FHIR read of the Patient and one of their Practitioner when it works. */
async function readProfile(): Promise<Response> {
  const response = await client.request('/api/patient/profile');
  await response.body?.cancel();
  return response;
}

interface SlotJson {
  slotId: string;
  start: string;
  end: string;
  timeZone: string;
  practitioner: { id: string; name: string };
}

/** Returns an open slot of Marcus's practitioner from `daysAhead` days on. */
async function openSlot(daysAhead: number): Promise<SlotJson> {
  const today = Temporal.Now.plainDateISO(demoPatient(1).timeZone);
  for (let offset = daysAhead; offset < daysAhead + 14; offset++) {
    const date = today.add({ days: offset }).toString();
    const response = await client.request(`/api/patient/availability?date=${date}`);
    const { slots } = (await response.json()) as { slots: SlotJson[] };
    if (slots[0]) return slots[0];
  }
  throw new Error('Marcus has no open slot within two weeks.');
}

describe('retries', () => {
  it('tries a failing GET 1 + MAX_RETRIES times', async () => {
    await setSandboxFault(portal.baseUrl, 'fhir', { errorRate: 1, errorStatus: 503 });

    let response: Response | undefined;
    const calls = await countCalls('fhir', async () => {
      response = await readProfile();
    });

    expect(response?.status).toBe(503);
    expect(calls).toBe(1 + MAX_RETRIES);

    await setSandboxFault(portal.baseUrl, 'fhir', null);
    expect((await readProfile()).status).toBe(200);
  });

  it('sends a failing POST once', async () => {
    // A first booking caches Zoom's access token, so the count below is the meeting create alone.
    const first = await client.postJson('/api/patient/appointments', await openSlot(3));
    expect(first.status).toBe(201);
    const slot = await openSlot(4);
    await setSandboxFault(portal.baseUrl, 'zoom', { errorRate: 1, errorStatus: 503 });

    let response: Response | undefined;
    const calls = await countCalls('zoom', async () => {
      response = await client.postJson('/api/patient/appointments', slot);
    });

    expect(response?.status).toBe(503);
    expect(calls).toBe(1);
  });

  it.each([429, 503])('waits for Retry-After before each retry of a %i', async (status) => {
    await setSandboxFault(portal.baseUrl, 'fhir', {
      errorRate: 1,
      errorStatus: status,
      retryAfterSeconds: 1,
    });

    const startedAt = performance.now();
    let response: Response | undefined;
    const calls = await countCalls('fhir', async () => {
      response = await readProfile();
    });
    const elapsedMs = performance.now() - startedAt;

    expect(response?.status).toBe(503);
    expect(calls).toBe(1 + MAX_RETRIES);
    expect(elapsedMs).toBeGreaterThanOrEqual(MAX_RETRIES * 1000);

    await setSandboxFault(portal.baseUrl, 'fhir', null);
    expect((await readProfile()).status).toBe(200);
  });
});

describe('circuit breaker', () => {
  it('opens after repeated failures and closes through one trial', async () => {
    // Caches the practitioner, so that each profile read below is one Patient read.
    expect((await readProfile()).status).toBe(200);
    await setSandboxFault(portal.baseUrl, 'fhir', { errorRate: 1, errorStatus: 503 });
    const opening = await countCalls('fhir', async () => {
      expect((await readProfile()).status).toBe(503);
      expect((await readProfile()).status).toBe(503);
    });
    expect(opening).toBe(CIRCUIT_BREAKER_FAILURES);

    // Open: pages and the API respond at once, without calling FHIR.
    let dashboardHtml = '';
    const whileOpen = await countCalls('fhir', async () => {
      const startedAt = performance.now();
      expect((await readProfile()).status).toBe(503);
      const dashboard = await client.request('/');
      expect(dashboard.status).toBe(200);
      dashboardHtml = await readPageHtml(dashboard);
      expect(performance.now() - startedAt).toBeLessThan(1_500);
    });
    expect(whileOpen).toBe(0);
    expect(dashboardHtml).toContain('Your details could not be loaded right now.');
    expect(dashboardHtml).toContain('Next refill:');

    // Half-open: of three requests at once, one trial reaches FHIR. It fails, so the circuit
    // opens again.
    await waitMs(CIRCUIT_BREAKER_OPEN_MS + 100);
    const failedTrial = await countCalls('fhir', async () => {
      const responses = await Promise.all([readProfile(), readProfile(), readProfile()]);
      expect(responses.map((response) => response.status)).toEqual([503, 503, 503]);
    });
    expect(failedTrial).toBe(1);
    expect(await countCalls('fhir', readProfile)).toBe(0);

    // A trial that succeeds closes the circuit, and every call goes through again.
    await setSandboxFault(portal.baseUrl, 'fhir', null);
    await waitMs(CIRCUIT_BREAKER_OPEN_MS + 100);
    let profileStatus = 0;
    const closing = await countCalls('fhir', async () => {
      profileStatus = (await readProfile()).status;
    });
    expect(profileStatus).toBe(200);
    expect(closing).toBe(1);

    const dashboard = await client.request('/');
    expect(await readPageHtml(dashboard)).toContain('Hello, Marcus');
  });

  it('tells visitors email sign-in is unavailable while the SendGrid circuit is open', async () => {
    const visitor = new PatientClient(portal.baseUrl);
    const email = demoPatient(2).email;
    await setSandboxFault(portal.baseUrl, 'sendgrid', { errorRate: 1, errorStatus: 503 });

    // Each request sends its email after the response, and each failed send counts once.
    const before = await countUpstreamRequests(portal.baseUrl, 'sendgrid');
    for (let request = 0; request < CIRCUIT_BREAKER_FAILURES; request++) {
      const response = await visitor.postJson('/api/patient/auth/send-code', { email });
      expect(response.status).toBe(202);
    }
    await expect
      .poll(() => countUpstreamRequests(portal.baseUrl, 'sendgrid'), { timeout: 5_000 })
      .toBe(before + CIRCUIT_BREAKER_FAILURES);

    const whileOpen = await countCalls('sendgrid', async () => {
      const page = await visitor.request('/login');
      expect(await readPageHtml(page)).toContain('Sign-in codes cannot be emailed right now.');

      const form = await visitor.postForm('/login', { email });
      expect(form.status).toBe(503);
      expect(await readPageHtml(form)).toContain('Sign-in codes cannot be emailed right now.');

      const api = await visitor.postJson('/api/patient/auth/send-code', { email });
      expect(api.status).toBe(503);
      expect(await api.json()).toMatchObject({ error: { code: 'email_unavailable' } });
    });
    expect(whileOpen).toBe(0);

    await setSandboxFault(portal.baseUrl, 'sendgrid', null);
    await waitMs(CIRCUIT_BREAKER_OPEN_MS + 100);
    const since = new Date();
    const trial = await visitor.postJson('/api/patient/auth/send-code', { email });
    expect(trial.status).toBe(202);
    expect(await readSignInCode(portal.baseUrl, email, since)).toMatch(/^\d{6}$/);

    const page = await visitor.request('/login');
    expect(await readPageHtml(page)).not.toContain('Sign-in codes cannot be emailed right now.');
  });
});
