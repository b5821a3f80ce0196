import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { faultSettingsByUpstreamSchema, fhirResourceTypeOf } from './faults.js';
import {
  fetchAccessToken,
  startSandbox,
  TEST_CREDENTIALS,
  type RunningSandbox,
} from './test-support.js';

let sandbox: RunningSandbox;
let token: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  token = await fetchAccessToken(sandbox.sandboxUrl);
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(async () => {
  await fetch(`${sandbox.sandboxUrl}/faults`, { method: 'DELETE' });
  await fetch(`${sandbox.sandboxUrl}/stats`, { method: 'DELETE' });
});

function putFaults(upstream: string, settings: unknown): Promise<Response> {
  return fetch(`${sandbox.sandboxUrl}/faults/${upstream}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(settings),
  });
}

function readPatient(): Promise<Response> {
  return fetch(`${sandbox.sandboxUrl}/fhir/Patient/demo-ava`, {
    headers: { Authorization: `Bearer ${token}` },
  });
}

function readPractitioner(): Promise<Response> {
  return fetch(`${sandbox.sandboxUrl}/fhir/Practitioner/demo-dr-okafor`, {
    headers: { Authorization: `Bearer ${token}` },
  });
}

function searchCommunications(): Promise<Response> {
  return fetch(`${sandbox.sandboxUrl}/fhir/Communication?recipient=Patient/demo-ava`, {
    headers: { Authorization: `Bearer ${token}` },
  });
}

/** Posts a message from the patient `patientId` to Dr. Okafor that the FHIR stand-in accepts. */
function postMessage(patientId: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${sandbox.sandboxUrl}/fhir/Communication`, {
    method: 'POST',
    signal,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json' },
    body: JSON.stringify({
      resourceType: 'Communication',
      status: 'completed',
      subject: { reference: `Patient/${patientId}` },
      sender: { reference: `Patient/${patientId}` },
      recipient: [{ reference: 'Practitioner/demo-dr-okafor' }],
      payload: [{ contentString: 'Fault test message' }],
    }),
  });
}

async function readStats(): Promise<Record<string, Record<string, number>>> {
  return (await (await fetch(`${sandbox.sandboxUrl}/stats`)).json()) as Record<
    string,
    Record<string, number>
  >;
}

describe('fault control', () => {
  it('stores, lists and clears fault settings', async () => {
    const put = await putFaults('fhir', { latencyMs: 5, errorRate: 0.5 });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ latencyMs: 5, errorRate: 0.5 });

    expect(await (await fetch(`${sandbox.sandboxUrl}/faults`)).json()).toEqual({
      fhir: { latencyMs: 5, errorRate: 0.5 },
    });

    const cleared = await fetch(`${sandbox.sandboxUrl}/faults`, { method: 'DELETE' });
    expect(cleared.status).toBe(204);
    expect(await (await fetch(`${sandbox.sandboxUrl}/faults`)).json()).toEqual({});
  });

  it('clears the faults of one stand-in', async () => {
    await putFaults('fhir', { latencyMs: 5 });
    await putFaults('sendgrid', { latencyMs: 6 });

    await fetch(`${sandbox.sandboxUrl}/faults/fhir`, { method: 'DELETE' });

    expect(await (await fetch(`${sandbox.sandboxUrl}/faults`)).json()).toEqual({
      sendgrid: { latencyMs: 6 },
    });
  });

  it('rejects invalid settings with 400', async () => {
    for (const settings of [
      { errorRate: 2 },
      { latencyMs: -1 },
      { errorStatus: 200 },
      { latency: 5 },
      { methods: [] },
      { methods: ['FETCH'] },
      { methods: 'POST' },
      { resourceTypes: [] },
      { resourceTypes: ['patient'] },
      { resourceTypes: 'Patient' },
      [],
      [{ latencyMs: 5 }, { latency: 5 }],
      Array.from({ length: 21 }, () => ({ latencyMs: 5 })),
      'slow',
    ]) {
      const response = await putFaults('fhir', settings);
      expect(response.status, JSON.stringify(settings)).toBe(400);
    }
  });

  it('stores and lists a list of settings', async () => {
    const rules = [{ latencyMs: 5, resourceTypes: ['Patient'] }, { latencyMs: 6 }];

    const put = await putFaults('fhir', rules);

    expect(put.status).toBe(200);
    expect(await put.json()).toEqual(rules);
    expect(await (await fetch(`${sandbox.sandboxUrl}/faults`)).json()).toEqual({ fhir: rules });
  });

  it('rejects resourceTypes outside FHIR with 400', async () => {
    const response = await putFaults('sendgrid', [{ errorRate: 1, resourceTypes: ['Patient'] }]);

    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain('fhir stand-in only');
  });

  it('rejects an unknown stand-in name with 400', async () => {
    const response = await putFaults('fihr', { latencyMs: 5 });

    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain('fhir');
  });

  it('applies initial faults from the options', async () => {
    const other = await startSandbox({ faults: { sendgrid: { errorRate: 1, errorStatus: 503 } } });
    try {
      expect(await (await fetch(`${other.sandboxUrl}/faults`)).json()).toEqual({
        sendgrid: { errorRate: 1, errorStatus: 503 },
      });
      const response = await fetch(`${other.sandboxUrl}/sendgrid/v3/mail/send`, { method: 'POST' });
      expect(response.status).toBe(503);
    } finally {
      await other.close();
    }
  });
});

describe('faultSettingsByUpstreamSchema', () => {
  it('parses SANDBOX_FAULTS JSON', () => {
    const parsed = faultSettingsByUpstreamSchema.parse(
      JSON.parse('{"fhir":{"latencyMs":200,"errorRate":0.1}}'),
    );

    expect(parsed).toEqual({ fhir: { latencyMs: 200, errorRate: 0.1 } });
  });

  it('rejects an unknown stand-in name', () => {
    expect(faultSettingsByUpstreamSchema.safeParse({ fedx: {} }).success).toBe(false);
  });

  it('parses a list of settings', () => {
    const parsed = faultSettingsByUpstreamSchema.parse({
      fhir: [{ latencyMs: 100, resourceTypes: ['Patient'] }, { latencyMs: 300 }],
    });

    expect(parsed).toEqual({
      fhir: [{ latencyMs: 100, resourceTypes: ['Patient'] }, { latencyMs: 300 }],
    });
  });

  it('rejects resourceTypes outside FHIR', () => {
    const parsed = faultSettingsByUpstreamSchema.safeParse({
      fedex: { latencyMs: 100, resourceTypes: ['Patient'] },
    });

    expect(parsed.success).toBe(false);
  });
});

describe('fhirResourceTypeOf', () => {
  it.each([
    ['/Patient/demo-ava', 'Patient'],
    ['/MedicationRequest', 'MedicationRequest'],
    ['/Communication/_search', 'Communication'],
    ['/auth/token/', undefined],
    ['/metadata', undefined],
    ['/', undefined],
  ])('reads %s as %s', (path, resourceType) => {
    expect(fhirResourceTypeOf(path)).toBe(resourceType);
  });
});

describe('injected FHIR faults', () => {
  it('delays each request by latencyMs', async () => {
    await putFaults('fhir', { latencyMs: 150 });

    const started = performance.now();
    const response = await readPatient();
    const elapsedMs = performance.now() - started;

    expect(response.status).toBe(200);
    // setTimeout may fire up to 1 ms early, so allow a small margin.
    expect(elapsedMs).toBeGreaterThanOrEqual(145);
  });

  it('fails every request with errorRate 1 and an OperationOutcome', async () => {
    await putFaults('fhir', { errorRate: 1, errorStatus: 503 });

    const response = await readPatient();

    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect(await response.json()).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [{ code: 'transient' }],
    });
  });

  it('defaults the injected status to 500', async () => {
    await putFaults('fhir', { errorRate: 1 });

    const response = await readPatient();

    expect(response.status).toBe(500);
  });

  it('returns errorBody verbatim', async () => {
    const errorBody = {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'throttled' }],
    };
    await putFaults('fhir', { errorRate: 1, errorStatus: 429, errorBody });

    const response = await readPatient();

    expect(response.status).toBe(429);
    expect(await response.json()).toEqual(errorBody);
  });

  it('sends Retry-After with retryAfterSeconds', async () => {
    await putFaults('fhir', { errorRate: 1, errorStatus: 429, retryAfterSeconds: 2 });

    const response = await readPatient();

    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('2');
  });

  it('fails the token endpoint with an OAuth error', async () => {
    await putFaults('fhir', { errorRate: 1, errorStatus: 503 });

    const response = await fetch(`${sandbox.sandboxUrl}/fhir/auth/token/`, { method: 'POST' });

    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: 'server_error' });
  });

  it('fails only the listed methods', async () => {
    await putFaults('fhir', { errorRate: 1, errorStatus: 503, methods: ['POST'] });

    const read = await readPatient();
    const create = await postMessage('demo-ava');

    expect(read.status).toBe(200);
    expect(create.status).toBe(503);
  });

  it('stores a delayed create after the delay', async () => {
    await putFaults('fhir', { latencyMs: 100, methods: ['POST'] });

    const started = performance.now();
    const create = await postMessage('demo-ava');
    const elapsedMs = performance.now() - started;

    expect(create.status).toBe(201);
    expect(elapsedMs).toBeGreaterThanOrEqual(95);
  });

  it('stores a delayed create after the client gave up', async () => {
    await putFaults('fhir', { latencyMs: 200, methods: ['POST'] });

    await expect(postMessage('gave-up', AbortSignal.timeout(50))).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 400));

    const search = await fetch(`${sandbox.sandboxUrl}/fhir/Communication?subject=Patient/gave-up`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(((await search.json()) as { total: number }).total).toBe(1);
  });

  it('never fails with errorRate 0', async () => {
    await putFaults('fhir', { errorRate: 0, errorStatus: 503 });

    for (let attempt = 0; attempt < 5; attempt++) {
      expect((await readPatient()).status).toBe(200);
    }
  });

  it('returns a truncated JSON body with malformedJson', async () => {
    await putFaults('fhir', { malformedJson: true });

    const response = await readPatient();
    const text = await response.text();

    expect(response.status).toBe(200);
    expect(text.startsWith('{')).toBe(true);
    expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
  });

  it('resets the connection with dropConnection', async () => {
    await putFaults('fhir', { dropConnection: true, errorRate: 1, malformedJson: true });

    await expect(readPatient()).rejects.toMatchObject({
      name: 'TypeError',
      cause: { code: 'ECONNRESET' },
    });
    expect((await readStats()).fhir?.requests).toBe(1);
  });

  it('resets the connection only for the listed methods', async () => {
    await putFaults('fhir', { dropConnection: true, methods: ['POST'] });

    const read = await readPatient();
    const create = postMessage('demo-ava');

    expect(read.status).toBe(200);
    await expect(create).rejects.toThrow(TypeError);
  });

  it('fails only the listed resource types', async () => {
    await putFaults('fhir', { errorRate: 1, errorStatus: 503, resourceTypes: ['Patient'] });

    const patient = await readPatient();
    const practitioner = await readPractitioner();

    expect(patient.status).toBe(503);
    expect(practitioner.status).toBe(200);
  });

  it('leaves the token endpoint alone with resourceTypes', async () => {
    await putFaults('fhir', { errorRate: 1, errorStatus: 503, resourceTypes: ['Patient'] });

    const response = await fetch(`${sandbox.sandboxUrl}/fhir/auth/token/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: TEST_CREDENTIALS.fhirClientId,
        client_secret: TEST_CREDENTIALS.fhirClientSecret,
      }),
    });

    expect(response.status).toBe(200);
  });

  it('applies the first matching settings of a list', async () => {
    await putFaults('fhir', [
      { errorRate: 1, errorStatus: 503, resourceTypes: ['Patient'] },
      {
        errorRate: 1,
        errorStatus: 429,
        resourceTypes: ['Patient', 'Communication'],
        methods: ['GET'],
      },
      { errorRate: 1, errorStatus: 502, methods: ['POST'] },
    ]);

    const patient = await readPatient();
    const communications = await searchCommunications();
    const practitioner = await readPractitioner();
    const create = await postMessage('demo-ava');

    expect(patient.status).toBe(503);
    expect(communications.status).toBe(429);
    expect(practitioner.status).toBe(200);
    expect(create.status).toBe(502);
  });

  it('delays each resource type by its own latencyMs', async () => {
    await putFaults('fhir', [
      { latencyMs: 0, resourceTypes: ['Practitioner'] },
      { latencyMs: 150, resourceTypes: ['Patient'] },
    ]);

    const started = performance.now();
    const response = await readPatient();
    const elapsedMs = performance.now() - started;

    expect(response.status).toBe(200);
    // setTimeout may fire up to 1 ms early, so allow a small margin.
    expect(elapsedMs).toBeGreaterThanOrEqual(145);
  });

  it('leaves other stand-ins alone', async () => {
    await putFaults('sendgrid', { errorRate: 1 });

    expect((await readPatient()).status).toBe(200);
  });
});

describe('injected SendGrid faults', () => {
  it('makes @sendgrid/mail reject with the injected status', async () => {
    // The mailbox starts with the magic-link emails, which this test does not count.
    await fetch(`${sandbox.sandboxUrl}/mail/messages`, { method: 'DELETE' });
    await putFaults('sendgrid', { errorRate: 1, errorStatus: 503 });
    const client = new Client();
    client.setApiKey(TEST_CREDENTIALS.sendgridApiKey);
    client.setDefaultRequest('baseUrl', `${sandbox.sandboxUrl}/sendgrid`);
    const mail = new MailService();
    mail.setClient(client);

    const sending = mail.send({
      to: 'ava.reyes@example.com',
      from: 'portal@example.com',
      subject: 'Hi',
      text: 'Hi',
    });

    await expect(sending).rejects.toMatchObject({
      code: 503,
      response: { body: { errors: [{ field: null }] } },
    });
    const messages = (await (
      await fetch(`${sandbox.sandboxUrl}/mail/messages`)
    ).json()) as unknown[];
    expect(messages).toEqual([]);
  });
});

describe('call counters', () => {
  it('counts FHIR requests and token requests', async () => {
    await fetchAccessToken(sandbox.sandboxUrl);
    await readPatient();
    await readPatient();

    const stats = await readStats();

    expect(stats.fhir).toEqual({ requests: 3, tokenRequests: 1 });
    expect(stats.sendgrid).toEqual({ requests: 0 });
  });

  it('counts requests failed by a fault', async () => {
    await putFaults('fhir', { errorRate: 1 });

    await readPatient();

    expect((await readStats()).fhir?.requests).toBe(1);
  });

  it('counts SendGrid requests, rejected ones included', async () => {
    await fetch(`${sandbox.sandboxUrl}/sendgrid/v3/mail/send`, { method: 'POST' });

    expect((await readStats()).sendgrid?.requests).toBe(1);
  });

  it('does not count the mail viewer or control routes', async () => {
    await fetch(`${sandbox.sandboxUrl}/mail/messages`);
    await fetch(`${sandbox.sandboxUrl}/faults`);
    await fetch(`${sandbox.sandboxUrl}/zoom/meetings`);

    expect(await readStats()).toEqual({
      fhir: { requests: 0, tokenRequests: 0 },
      sendgrid: { requests: 0 },
      fedex: { requests: 0, tokenRequests: 0 },
      zoom: { requests: 0, tokenRequests: 0 },
      'canvas-oauth': { requests: 0, tokenRequests: 0 },
    });
  });

  it('resets to zero', async () => {
    await readPatient();

    const reset = await fetch(`${sandbox.sandboxUrl}/stats`, { method: 'DELETE' });

    expect(reset.status).toBe(204);
    expect((await readStats()).fhir?.requests).toBe(0);
  });
});
