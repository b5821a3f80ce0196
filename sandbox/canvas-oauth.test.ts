import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import express from 'express';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { UNKNOWN_PATIENT_ID } from './canvas-oauth-accounts.js';
import { AUTHORIZATION_CODE_LIFETIME_SECONDS } from './canvas-oauth-codes.js';
import { createCanvasOAuthRouter } from './canvas-oauth.js';
import { DEMO_PATIENTS, FIXTURE_MESSAGING_PATIENT, FIXTURE_PATIENT } from './demo-data.js';
import { FaultRegistry } from './faults.js';
import { MAGIC_LINK_SENDER, MAGIC_LINK_SUBJECT } from './magic-links.js';
import { Mailbox, type CapturedMessage } from './mailbox.js';
import { CallCounters } from './stats.js';
import {
  fetchAccessToken,
  sendFhirRequest,
  startSandbox,
  TEST_CREDENTIALS,
  TEST_PORTAL_ORIGIN,
  type RunningSandbox,
} from './test-support.js';

interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  patient: string;
}

interface TokenError {
  error: string;
  error_description?: string;
}

const CLIENT_ID = TEST_CREDENTIALS.canvasOauthClientId;
const CLIENT_SECRET = TEST_CREDENTIALS.canvasOauthClientSecret;
const REDIRECT_URI = 'http://localhost:3000/api/patient/auth/canvas-callback';
const STATE = 'state-7f3a';
const SCOPE = 'openid fhirUser launch/patient';

let sandbox: RunningSandbox;
let oauthUrl: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  oauthUrl = `${sandbox.sandboxUrl}/canvas-oauth`;
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(async () => {
  await fetch(`${sandbox.sandboxUrl}/faults`, { method: 'DELETE' });
});

function createVerifier(): string {
  return randomBytes(32).toString('base64url');
}

function challengeOf(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** Valid authorization parameters, with `overrides` set or, when undefined, removed. */
function authorizationParameters(
  overrides: Record<string, string | undefined> = {},
  verifier = createVerifier(),
): URLSearchParams {
  const values: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    state: STATE,
    code_challenge: challengeOf(verifier),
    code_challenge_method: 'S256',
    scope: SCOPE,
    ...overrides,
  };
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined) params.set(name, value);
  }
  return params;
}

function openSignInPage(params: URLSearchParams, base = oauthUrl): Promise<Response> {
  return fetch(`${base}/authorize?${params.toString()}`, { redirect: 'manual' });
}

function submitSignInForm(
  params: URLSearchParams,
  fields: Record<string, string>,
  base = oauthUrl,
): Promise<Response> {
  const body = new URLSearchParams(params);
  for (const [name, value] of Object.entries(fields)) body.set(name, value);
  return fetch(`${base}/authorize`, { method: 'POST', body, redirect: 'manual' });
}

/** Signs in as `patientId` on the sandbox page and returns the code from the redirect. */
async function obtainCode(
  verifier: string,
  patientId = 'demo-ava',
  base = oauthUrl,
): Promise<string> {
  const response = await submitSignInForm(
    authorizationParameters({}, verifier),
    {
      decision: 'allow',
      patient: patientId,
    },
    base,
  );
  expect(response.status).toBe(303);
  const code = new URL(response.headers.get('location') ?? '').searchParams.get('code');
  if (!code) throw new Error('The sign-in redirect has no code.');
  return code;
}

function requestToken(
  fields: Record<string, string>,
  init: { authorization?: string; base?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (init.authorization) headers.Authorization = init.authorization;
  return fetch(`${init.base ?? oauthUrl}/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(fields),
  });
}

/** Builds a token request body with the client credentials in it. */
function tokenFields(code: string, verifier: string): Record<string, string> {
  return {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
  };
}

function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
}

async function expectTokenError(
  response: Response,
  status: number,
  error: string,
): Promise<TokenError> {
  expect(response.status).toBe(status);
  expect(response.headers.get('cache-control')).toBe('no-store');
  const body = (await response.json()) as TokenError;
  expect(body.error).toBe(error);
  return body;
}

describe('magic-link emails', () => {
  it('are in the mailbox at start, one per demo patient', async () => {
    for (const patient of DEMO_PATIENTS) {
      const response = await fetch(
        `${sandbox.sandboxUrl}/mail/messages?${new URLSearchParams({ to: patient.email })}`,
      );
      const messages = (await response.json()) as CapturedMessage[];
      const link = `${TEST_PORTAL_ORIGIN}/auth/canvas?login_hint=${patient.id}`;

      expect(messages).toHaveLength(1);
      expect(messages[0]?.from).toBe(MAGIC_LINK_SENDER);
      expect(messages[0]?.subject).toBe(MAGIC_LINK_SUBJECT);
      expect(messages[0]?.text).toContain(link);
      expect(messages[0]?.html).toContain(`href="${link}"`);
    }
  });

  it('contain no 6-digit number that reads as a sign-in code', async () => {
    const messages = (await (
      await fetch(`${sandbox.sandboxUrl}/mail/messages`)
    ).json()) as CapturedMessage[];

    expect(messages.length).toBeGreaterThan(0);
    for (const message of messages) {
      expect(message.text).not.toMatch(/\d{6}/);
      expect(message.html).not.toMatch(/\d{6}/);
    }
  });

  it('are delivered again by POST /magic-links', async () => {
    await fetch(`${sandbox.sandboxUrl}/mail/messages`, { method: 'DELETE' });

    const response = await fetch(`${oauthUrl}/magic-links`, { method: 'POST' });

    expect(response.status).toBe(201);
    const body = (await response.json()) as { sent: { to: string; link: string }[] };
    expect(body.sent).toEqual(
      DEMO_PATIENTS.map((patient) => ({
        to: patient.email,
        link: `${TEST_PORTAL_ORIGIN}/auth/canvas?login_hint=${patient.id}`,
      })),
    );
    const messages = (await (
      await fetch(`${sandbox.sandboxUrl}/mail/messages`)
    ).json()) as CapturedMessage[];
    expect(messages).toHaveLength(DEMO_PATIENTS.length);
  });

  it('reject a portal origin with a path', async () => {
    await expect(startSandbox({ portalOrigin: 'http://localhost:3000/portal' })).rejects.toThrow(
      /portalOrigin/,
    );
  });
});

describe('GET /canvas-oauth/authorize', () => {
  it('shows every Canvas user of the sandbox', async () => {
    const response = await openSignInPage(authorizationParameters());

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<title>Sign in with Canvas (sandbox)</title>');
    expect(html).toContain('<h1>Sign in with Canvas (sandbox)</h1>');
    expect(html).toContain('action="/sandbox/canvas-oauth/authorize"');
    expect(html).toContain('Ava Reyes');
    for (const patient of [...DEMO_PATIENTS, FIXTURE_PATIENT, FIXTURE_MESSAGING_PATIENT]) {
      expect(html).toContain(`value="${patient.id}"`);
      expect(html).toContain(patient.email);
    }
    expect(html).toContain('A Canvas user with no patient record');
    expect(html).toContain(`value="${UNKNOWN_PATIENT_ID}"`);
    expect(html).toContain('value="deny"');
  });

  it('posts the request back in hidden fields', async () => {
    const params = authorizationParameters();

    const html = await (await openSignInPage(params)).text();

    for (const [name, value] of params) {
      expect(html).toContain(`<input type="hidden" name="${name}" value="${value}">`);
    }
  });

  it('selects the patient named by login_hint', async () => {
    const html = await (
      await openSignInPage(authorizationParameters({ login_hint: 'demo-marcus' }))
    ).text();

    expect(html).toMatch(/<input type="radio" [^>]*value="demo-marcus" required checked>/);
    expect(html.match(/ checked>/g)).toHaveLength(1);
  });

  it('selects no patient for an unknown login_hint', async () => {
    const html = await (
      await openSignInPage(authorizationParameters({ login_hint: 'nobody' }))
    ).text();

    expect(html).not.toContain(' checked>');
    expect(html).toContain('No Canvas user in the sandbox has the patient id "nobody"');
  });

  it('escapes the state in the page', async () => {
    const html = await (
      await openSignInPage(authorizationParameters({ state: '"><script>alert(1)</script>' }))
    ).text();

    expect(html).not.toContain('<script>');
    expect(html).toContain('&quot;&gt;&lt;script&gt;');
  });

  const invalidRequests: {
    name: string;
    overrides: Record<string, string | undefined>;
    expectedText: string;
  }[] = [
    {
      name: 'response_type token',
      overrides: { response_type: 'token' },
      expectedText: 'response_type',
    },
    {
      name: 'no response_type',
      overrides: { response_type: undefined },
      expectedText: 'response_type',
    },
    {
      name: 'unknown client_id',
      overrides: { client_id: 'other-client' },
      expectedText: 'client_id',
    },
    { name: 'no client_id', overrides: { client_id: undefined }, expectedText: 'client_id' },
    {
      name: 'no redirect_uri',
      overrides: { redirect_uri: undefined },
      expectedText: 'redirect_uri',
    },
    {
      name: 'redirect_uri on another host',
      overrides: { redirect_uri: 'https://attacker.example.com/api/patient/auth/canvas-callback' },
      expectedText: 'redirect_uri',
    },
    {
      name: 'redirect_uri with another path',
      overrides: { redirect_uri: 'http://localhost:3000/somewhere-else' },
      expectedText: 'redirect_uri',
    },
    {
      name: 'relative redirect_uri',
      overrides: { redirect_uri: '/api/patient/auth/canvas-callback' },
      expectedText: 'redirect_uri',
    },
    {
      name: 'javascript: redirect_uri',
      overrides: { redirect_uri: 'javascript:alert(1)' },
      expectedText: 'redirect_uri',
    },
    {
      name: 'redirect_uri with a fragment',
      overrides: { redirect_uri: `${REDIRECT_URI}#fragment` },
      expectedText: 'redirect_uri',
    },
    {
      name: 'redirect_uri with user info',
      overrides: { redirect_uri: 'http://user@localhost:3000/api/patient/auth/canvas-callback' },
      expectedText: 'redirect_uri',
    },
    { name: 'no state', overrides: { state: undefined }, expectedText: 'state' },
    { name: 'empty state', overrides: { state: '' }, expectedText: 'state' },
    {
      name: 'no code_challenge',
      overrides: { code_challenge: undefined },
      expectedText: 'code_challenge',
    },
    {
      name: 'malformed code_challenge',
      overrides: { code_challenge: 'too-short' },
      expectedText: 'code_challenge',
    },
    {
      name: 'plain code_challenge_method',
      overrides: { code_challenge_method: 'plain' },
      expectedText: 'code_challenge_method',
    },
    {
      name: 'no code_challenge_method',
      overrides: { code_challenge_method: undefined },
      expectedText: 'code_challenge_method',
    },
    { name: 'scope with a quote', overrides: { scope: 'openid "x"' }, expectedText: 'scope' },
  ];

  it.each(invalidRequests)(
    'rejects $name with 400 and no redirect',
    async ({ overrides, expectedText }) => {
      const response = await openSignInPage(authorizationParameters(overrides));

      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await response.text();
      expect(html).toContain('<h1>Invalid sign-in request</h1>');
      expect(html).toContain(`${expectedText} `);
      expect(html).not.toContain('<form');
    },
  );

  it('rejects a repeated parameter', async () => {
    const params = authorizationParameters();
    params.append('redirect_uri', 'https://attacker.example.com/api/patient/auth/canvas-callback');

    const response = await openSignInPage(params);

    expect(response.status).toBe(400);
    expect(await response.text()).toContain('redirect_uri is sent 2 times');
  });
});

describe('POST /canvas-oauth/authorize', () => {
  it('redirects a denial with access_denied and the state', async () => {
    const response = await submitSignInForm(authorizationParameters(), { decision: 'deny' });

    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('error_description')).toBeTruthy();
    expect(location.searchParams.get('state')).toBe(STATE);
    expect(location.searchParams.has('code')).toBe(false);
  });

  it('redirects a sign-in with a code and the state', async () => {
    const response = await submitSignInForm(authorizationParameters(), {
      decision: 'allow',
      patient: 'demo-priya',
    });

    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('state')).toBe(STATE);
  });

  const invalidForms: {
    name: string;
    overrides: Record<string, string | undefined>;
    fields: Record<string, string>;
  }[] = [
    {
      name: 'a foreign redirect_uri on deny',
      overrides: { redirect_uri: 'https://attacker.example.com/api/patient/auth/canvas-callback' },
      fields: { decision: 'deny' },
    },
    {
      name: 'a foreign redirect_uri on sign-in',
      overrides: { redirect_uri: 'https://attacker.example.com/api/patient/auth/canvas-callback' },
      fields: { decision: 'allow', patient: 'demo-ava' },
    },
    {
      name: 'a missing state',
      overrides: { state: undefined },
      fields: { decision: 'allow', patient: 'demo-ava' },
    },
    { name: 'no patient', overrides: {}, fields: { decision: 'allow' } },
    { name: 'an unknown patient', overrides: {}, fields: { decision: 'allow', patient: 'nobody' } },
    { name: 'no decision', overrides: {}, fields: { patient: 'demo-ava' } },
  ];

  it.each(invalidForms)('rejects $name with 400 and no redirect', async ({ overrides, fields }) => {
    const response = await submitSignInForm(authorizationParameters(overrides), fields);

    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('<h1>Invalid sign-in request</h1>');
  });
});

describe('POST /canvas-oauth/token', () => {
  it('exchanges a code with client credentials in the body', async () => {
    const verifier = createVerifier();
    const code = await obtainCode(verifier, 'demo-ava');

    const response = await requestToken(tokenFields(code, verifier));

    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as TokenResponse;
    expect(body.access_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(3600);
    expect(body.scope).toBe(SCOPE);
    expect(body.patient).toBe('demo-ava');
  });

  it('exchanges a code with HTTP Basic', async () => {
    const verifier = createVerifier();
    const code = await obtainCode(verifier, 'pat1');
    const fields = tokenFields(code, verifier);
    delete fields.client_id;
    delete fields.client_secret;

    const response = await requestToken(fields, {
      authorization: basicAuthorization(CLIENT_ID, CLIENT_SECRET),
    });

    expect(response.status).toBe(200);
    expect(((await response.json()) as TokenResponse).patient).toBe('pat1');
  });

  it('names a patient that FHIR lacks for the user without a record', async () => {
    const verifier = createVerifier();
    const code = await obtainCode(verifier, UNKNOWN_PATIENT_ID);

    const body = (await (await requestToken(tokenFields(code, verifier))).json()) as TokenResponse;

    expect(body.patient).toBe(UNKNOWN_PATIENT_ID);
    const fhirToken = await fetchAccessToken(sandbox.sandboxUrl);
    const patient = await sendFhirRequest(sandbox, fhirToken, `/Patient/${UNKNOWN_PATIENT_ID}`);
    expect(patient.status).toBe(404);
  });

  it('rejects a wrong code_verifier', async () => {
    const code = await obtainCode(createVerifier());

    const body = await expectTokenError(
      await requestToken(tokenFields(code, createVerifier())),
      400,
      'invalid_grant',
    );
    expect(body.error_description).toContain('code_verifier');
  });

  it('rejects a replayed code', async () => {
    const verifier = createVerifier();
    const code = await obtainCode(verifier);
    expect((await requestToken(tokenFields(code, verifier))).status).toBe(200);

    const body = await expectTokenError(
      await requestToken(tokenFields(code, verifier)),
      400,
      'invalid_grant',
    );
    expect(body.error_description).toContain('already used');
  });

  it('rejects a code whose first exchange failed', async () => {
    const verifier = createVerifier();
    const code = await obtainCode(verifier);
    await expectTokenError(
      await requestToken(tokenFields(code, createVerifier())),
      400,
      'invalid_grant',
    );

    await expectTokenError(await requestToken(tokenFields(code, verifier)), 400, 'invalid_grant');
  });

  it('rejects another redirect_uri', async () => {
    const verifier = createVerifier();
    const code = await obtainCode(verifier);

    const body = await expectTokenError(
      await requestToken({
        ...tokenFields(code, verifier),
        redirect_uri: 'http://127.0.0.1:3000/api/patient/auth/canvas-callback',
      }),
      400,
      'invalid_grant',
    );
    expect(body.error_description).toContain('redirect_uri');
  });

  it('rejects an unknown code', async () => {
    await expectTokenError(
      await requestToken(tokenFields('not-a-code', createVerifier())),
      400,
      'invalid_grant',
    );
  });

  it('rejects a wrong client secret in the body', async () => {
    const verifier = createVerifier();
    const code = await obtainCode(verifier);

    await expectTokenError(
      await requestToken({ ...tokenFields(code, verifier), client_secret: 'wrong' }),
      401,
      'invalid_client',
    );
  });

  it('rejects a wrong client secret in HTTP Basic', async () => {
    const response = await requestToken(
      { grant_type: 'authorization_code', code: 'any', redirect_uri: REDIRECT_URI },
      { authorization: basicAuthorization(CLIENT_ID, 'wrong') },
    );

    await expectTokenError(response, 401, 'invalid_client');
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it('keeps the code after a client authentication failure', async () => {
    const verifier = createVerifier();
    const code = await obtainCode(verifier);
    await expectTokenError(
      await requestToken({ ...tokenFields(code, verifier), client_secret: 'wrong' }),
      401,
      'invalid_client',
    );

    expect((await requestToken(tokenFields(code, verifier))).status).toBe(200);
  });

  it('rejects client credentials in both the body and HTTP Basic', async () => {
    const verifier = createVerifier();
    const code = await obtainCode(verifier);

    await expectTokenError(
      await requestToken(tokenFields(code, verifier), {
        authorization: basicAuthorization(CLIENT_ID, CLIENT_SECRET),
      }),
      400,
      'invalid_request',
    );
  });

  it('rejects a request without client authentication', async () => {
    const verifier = createVerifier();
    const code = await obtainCode(verifier);
    const fields = tokenFields(code, verifier);
    delete fields.client_secret;

    await expectTokenError(await requestToken(fields), 401, 'invalid_client');
  });

  it('rejects another grant type', async () => {
    await expectTokenError(
      await requestToken({
        grant_type: 'client_credentials',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      }),
      400,
      'unsupported_grant_type',
    );
  });

  it.each(['code', 'redirect_uri', 'code_verifier'])('rejects a missing %s', async (name) => {
    const verifier = createVerifier();
    const code = await obtainCode(verifier);
    const fields = tokenFields(code, verifier);
    delete fields[name];

    const body = await expectTokenError(await requestToken(fields), 400, 'invalid_request');
    expect(body.error_description).toContain(name);
  });

  it('rejects a body that is not form-encoded', async () => {
    const response = await fetch(`${oauthUrl}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ grant_type: 'authorization_code' }),
    });

    await expectTokenError(response, 400, 'invalid_request');
  });

  it('counts token requests', async () => {
    await fetch(`${sandbox.sandboxUrl}/stats`, { method: 'DELETE' });

    await requestToken({ grant_type: 'authorization_code' });

    const stats = (await (await fetch(`${sandbox.sandboxUrl}/stats`)).json()) as Record<
      string,
      Record<string, number>
    >;
    expect(stats['canvas-oauth']).toEqual({ requests: 1, tokenRequests: 1 });
  });

  it('fails with an injected fault', async () => {
    await fetch(`${sandbox.sandboxUrl}/faults/canvas-oauth`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ errorRate: 1, errorStatus: 503, methods: ['POST'] }),
    });

    const response = await requestToken({ grant_type: 'authorization_code' });

    expect(response.status).toBe(503);
    expect(((await response.json()) as TokenError).error).toBe('server_error');
  });
});

describe('authorization code expiry', () => {
  it('accepts a code until 60 seconds have passed, and not after', async () => {
    let now = 1_000_000;
    const app = express();
    app.use(
      '/canvas-oauth',
      createCanvasOAuthRouter({
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        accounts: [{ patientId: 'demo-ava', name: 'Ava Reyes', email: 'ava.reyes@example.com' }],
        magicLinkPatients: [],
        mailbox: new Mailbox(),
        portalOrigin: TEST_PORTAL_ORIGIN,
        faults: new FaultRegistry(),
        counters: new CallCounters(),
        logger: pino({ level: 'warn' }),
        now: () => now,
      }),
    );
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/canvas-oauth`;

    try {
      const freshVerifier = createVerifier();
      const freshCode = await obtainCode(freshVerifier, 'demo-ava', base);
      now += AUTHORIZATION_CODE_LIFETIME_SECONDS * 1000 - 1;
      const fresh = await requestToken(tokenFields(freshCode, freshVerifier), { base });
      expect(fresh.status).toBe(200);

      const staleVerifier = createVerifier();
      const staleCode = await obtainCode(staleVerifier, 'demo-ava', base);
      now += AUTHORIZATION_CODE_LIFETIME_SECONDS * 1000;
      const stale = await requestToken(tokenFields(staleCode, staleVerifier), { base });
      const body = await expectTokenError(stale, 400, 'invalid_grant');
      expect(body.error_description).toContain('expired');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
