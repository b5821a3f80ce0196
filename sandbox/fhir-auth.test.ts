import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ACCESS_TOKEN_LIFETIME_SECONDS, AccessTokenStore } from './fhir-auth.js';
import {
  fetchAccessToken,
  startSandbox,
  TEST_CREDENTIALS,
  type RunningSandbox,
} from './test-support.js';

let sandbox: RunningSandbox;

beforeAll(async () => {
  sandbox = await startSandbox();
});

afterAll(async () => {
  await sandbox.close();
});

function tokenRequest(
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${sandbox.sandboxUrl}/fhir/auth/token/`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(form),
  });
}

describe('token endpoint', () => {
  it('issues a bearer token for valid form credentials', async () => {
    const response = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: TEST_CREDENTIALS.fhirClientId,
      client_secret: TEST_CREDENTIALS.fhirClientSecret,
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(3600);
    expect(body.scope).toBe('system/*.*');
    expect(typeof body.access_token).toBe('string');
    expect(String(body.access_token).length).toBeGreaterThanOrEqual(32);
  });

  it('accepts the path without a trailing slash', async () => {
    const response = await fetch(`${sandbox.sandboxUrl}/fhir/auth/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: TEST_CREDENTIALS.fhirClientId,
        client_secret: TEST_CREDENTIALS.fhirClientSecret,
      }),
    });

    expect(response.status).toBe(200);
  });

  it('accepts HTTP Basic client authentication', async () => {
    const basic = Buffer.from(
      `${TEST_CREDENTIALS.fhirClientId}:${TEST_CREDENTIALS.fhirClientSecret}`,
    ).toString('base64');
    const response = await tokenRequest(
      { grant_type: 'client_credentials' },
      { Authorization: `Basic ${basic}` },
    );

    expect(response.status).toBe(200);
  });

  it('echoes a requested scope', async () => {
    const response = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: TEST_CREDENTIALS.fhirClientId,
      client_secret: TEST_CREDENTIALS.fhirClientSecret,
      scope: 'system/Patient.read',
    });

    const body = (await response.json()) as Record<string, unknown>;
    expect(body.scope).toBe('system/Patient.read');
  });

  it('rejects a wrong client secret with invalid_client', async () => {
    const response = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: TEST_CREDENTIALS.fhirClientId,
      client_secret: 'wrong-secret',
    });

    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('rejects a wrong Basic secret with a Basic challenge', async () => {
    const basic = Buffer.from(`${TEST_CREDENTIALS.fhirClientId}:wrong-secret`).toString('base64');
    const response = await tokenRequest(
      { grant_type: 'client_credentials' },
      { Authorization: `Basic ${basic}` },
    );

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(await response.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('rejects an unknown client id with invalid_client', async () => {
    const response = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: 'someone-else',
      client_secret: TEST_CREDENTIALS.fhirClientSecret,
    });

    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('rejects other grant types', async () => {
    const response = await tokenRequest({
      grant_type: 'password',
      client_id: TEST_CREDENTIALS.fhirClientId,
      client_secret: TEST_CREDENTIALS.fhirClientSecret,
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'unsupported_grant_type' });
  });

  it('rejects a JSON body with invalid_request', async () => {
    const response = await fetch(`${sandbox.sandboxUrl}/fhir/auth/token/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
  });
});

describe('FHIR bearer authentication', () => {
  it('allows a request with a fresh token', async () => {
    const token = await fetchAccessToken(sandbox.sandboxUrl);

    const response = await fetch(`${sandbox.sandboxUrl}/fhir/Patient/demo-ava`, {
      headers: { Authorization: `Bearer ${token}` },
    });

    expect(response.status).toBe(200);
  });

  it('rejects a request without Authorization', async () => {
    const response = await fetch(`${sandbox.sandboxUrl}/fhir/Patient/demo-ava`);

    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const body = (await response.json()) as { resourceType: string };
    expect(body.resourceType).toBe('OperationOutcome');
  });

  it('rejects an unknown bearer token', async () => {
    const response = await fetch(`${sandbox.sandboxUrl}/fhir/Patient/demo-ava`, {
      headers: { Authorization: 'Bearer not-a-token-the-sandbox-issued' },
    });

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const body = (await response.json()) as { resourceType: string };
    expect(body.resourceType).toBe('OperationOutcome');
  });

  it('rejects Basic credentials on FHIR requests', async () => {
    const basic = Buffer.from(
      `${TEST_CREDENTIALS.fhirClientId}:${TEST_CREDENTIALS.fhirClientSecret}`,
    ).toString('base64');

    const response = await fetch(`${sandbox.sandboxUrl}/fhir/Patient/demo-ava`, {
      headers: { Authorization: `Basic ${basic}` },
    });

    expect(response.status).toBe(401);
  });
});

describe('AccessTokenStore', () => {
  it('reports a token as expired after its lifetime', () => {
    let now = 1_000_000;
    const tokens = new AccessTokenStore(() => now);
    const token = tokens.issue();

    now += ACCESS_TOKEN_LIFETIME_SECONDS * 1000 - 1;
    expect(tokens.check(token)).toBe('valid');

    now += 1;
    expect(tokens.check(token)).toBe('expired');
    expect(tokens.check(token)).toBe('unknown');
  });

  it('uses the lifetime it is given', () => {
    let now = 1_000_000;
    const tokens = new AccessTokenStore(() => now, 60);
    const token = tokens.issue();

    now += 59_999;
    expect(tokens.check(token)).toBe('valid');

    now += 1;
    expect(tokens.check(token)).toBe('expired');
  });

  it('issues a different token each time', () => {
    const tokens = new AccessTokenStore();

    expect(tokens.issue()).not.toBe(tokens.issue());
  });
});
