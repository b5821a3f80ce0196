import { request as httpRequest } from 'node:http';

import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SANDBOX_CREDENTIALS } from '../../app/config/env.server';
import { MAX_BODY_BYTES } from '../../app/http/api.server';

import { demoPatient, PatientClient, readSignInCode, wrongCode } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';

const SESSION_COOKIE = '__Host-portal_session';

let portal: PortalServer;

beforeAll(async () => {
  portal = await startPortalServer({
    SIGN_IN_CODE_LIFETIME_SECONDS: '3',
    SEND_CODE_LIMIT_PER_EMAIL: '20',
  });
});

afterAll(async () => {
  await portal?.stop();
});

async function requestCode(client: PatientClient, email: string): Promise<string> {
  const since = new Date();
  const response = await client.postJson('/api/patient/auth/send-code', { email });
  expect(response.status).toBe(202);
  return readSignInCode(portal.baseUrl, email.trim().toLowerCase(), since);
}

describe('email sign-in', () => {
  it('signs in, reads the profile and logs out', async () => {
    const patient = demoPatient(0);
    const client = new PatientClient(portal.baseUrl);

    const code = await requestCode(client, `  ${patient.email.toUpperCase()} `);
    const verify = await client.postJson('/api/patient/auth/verify', {
      email: patient.email,
      code,
    });
    expect(verify.status).toBe(200);
    expect(await verify.json()).toEqual({ status: 'signed_in', patientId: patient.id });

    const setCookie = verify.headers.getSetCookie().join('\n');
    expect(setCookie).toContain(`${SESSION_COOKIE}=`);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).toMatch(/Max-Age=14400/);

    const profile = await client.request('/api/patient/profile');
    expect(profile.status).toBe(200);
    const body = (await profile.json()) as { id: string; name: { first: string }; email: string };
    expect(body.id).toBe(patient.id);
    expect(body.name.first).toBe(patient.givenName);
    expect(body.email).toBe(patient.email);

    const logout = await client.request('/api/patient/auth/logout', { method: 'POST' });
    expect(logout.status).toBe(204);

    const afterLogout = await client.request('/api/patient/profile');
    expect(afterLogout.status).toBe(401);
  });

  it('rejects the old cookie after logout', async () => {
    const patient = demoPatient(1);
    const client = new PatientClient(portal.baseUrl);
    const code = await requestCode(client, patient.email);
    await client.postJson('/api/patient/auth/verify', { email: patient.email, code });
    const token = client.cookie(SESSION_COOKIE);
    expect(token).toBeDefined();

    await client.request('/api/patient/auth/logout', { method: 'POST' });
    client.setCookie(SESSION_COOKIE, token ?? '');
    const replay = await client.request('/api/patient/profile');
    expect(replay.status).toBe(401);
  });

  it('answers an unknown email exactly like a known one', async () => {
    const client = new PatientClient(portal.baseUrl);
    const known = await client.postJson('/api/patient/auth/send-code', {
      email: demoPatient(2).email,
    });
    const unknown = await client.postJson('/api/patient/auth/send-code', {
      email: 'nobody.here@example.com',
    });

    expect(unknown.status).toBe(known.status);
    expect(await unknown.json()).toEqual(await known.json());

    const mail = await fetch(`${portal.baseUrl}/sandbox/mail/messages?to=nobody.here@example.com`);
    expect(await mail.json()).toEqual([]);
  });

  it('never verifies a code for an unknown email', async () => {
    const client = new PatientClient(portal.baseUrl);
    await client.postJson('/api/patient/auth/send-code', { email: 'stranger@example.com' });
    const verify = await client.postJson('/api/patient/auth/verify', {
      email: 'stranger@example.com',
      code: '123456',
    });
    expect(verify.status).toBe(401);
  });

  it('rejects a reused code', async () => {
    const patient = demoPatient(2);
    const client = new PatientClient(portal.baseUrl);
    const code = await requestCode(client, patient.email);

    const first = await client.postJson('/api/patient/auth/verify', { email: patient.email, code });
    expect(first.status).toBe(200);

    const second = await new PatientClient(portal.baseUrl).postJson('/api/patient/auth/verify', {
      email: patient.email,
      code,
    });
    expect(second.status).toBe(401);
    expect(await second.json()).toMatchObject({ error: { code: 'code_used' } });
  });

  it('rejects an expired code', async () => {
    const patient = demoPatient(1);
    const client = new PatientClient(portal.baseUrl);
    const code = await requestCode(client, patient.email);

    await new Promise((resolve) => setTimeout(resolve, 3_500));
    const verify = await client.postJson('/api/patient/auth/verify', {
      email: patient.email,
      code,
    });
    expect(verify.status).toBe(401);
    expect(await verify.json()).toMatchObject({ error: { code: 'code_expired' } });
  });

  it('ends the challenge on the fifth wrong code', async () => {
    const patient = demoPatient(0);
    const client = new PatientClient(portal.baseUrl);
    const code = await requestCode(client, patient.email);
    const wrong = wrongCode(code);

    for (let attempt = 1; attempt <= 4; attempt += 1) {
      const response = await client.postJson('/api/patient/auth/verify', {
        email: patient.email,
        code: wrong,
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: 'incorrect_code' } });
    }
    const fifth = await client.postJson('/api/patient/auth/verify', {
      email: patient.email,
      code: wrong,
    });
    expect(await fifth.json()).toMatchObject({ error: { code: 'too_many_attempts' } });

    const sixth = await client.postJson('/api/patient/auth/verify', {
      email: patient.email,
      code: wrong,
    });
    expect(sixth.status).toBe(401);
    expect(await sixth.json()).toMatchObject({ error: { code: 'too_many_attempts' } });

    const correctTooLate = await client.postJson('/api/patient/auth/verify', {
      email: patient.email,
      code,
    });
    expect(correctTooLate.status).toBe(401);
  });

  it('names the lifetime in every message', async () => {
    const patient = demoPatient(1);
    const client = new PatientClient(portal.baseUrl);
    const since = new Date();
    const response = await client.postJson('/api/patient/auth/send-code', { email: patient.email });
    expect(((await response.json()) as { message: string }).message).toContain(
      'It expires in 1 minute.',
    );

    await readSignInCode(portal.baseUrl, patient.email, since);
    const mail = (await (
      await fetch(
        `${portal.baseUrl}/sandbox/mail/messages?${new URLSearchParams({ to: patient.email })}`,
      )
    ).json()) as { text: string }[];
    expect(mail[0]?.text).toContain('It expires in 1 minute.');
  });

  it('points to the newest email for an older code', async () => {
    const patient = demoPatient(2);
    const client = new PatientClient(portal.baseUrl);
    const olderCode = await requestCode(client, patient.email);
    let newestCode = await requestCode(client, patient.email);
    // Two random codes are equal once in a million; a third request settles it.
    if (newestCode === olderCode) newestCode = await requestCode(client, patient.email);

    const older = await client.postJson('/api/patient/auth/verify', {
      email: patient.email,
      code: olderCode,
    });
    expect(older.status).toBe(401);
    expect(await older.json()).toMatchObject({ error: { code: 'code_superseded' } });

    const wrong = await client.postJson('/api/patient/auth/verify', {
      email: patient.email,
      code: wrongCode(newestCode) === olderCode ? wrongCode(olderCode) : wrongCode(newestCode),
    });
    const wrongBody = (await wrong.json()) as { error: { message: string } };
    expect(wrongBody.error.message).toContain('4 tries left');

    const newest = await client.postJson('/api/patient/auth/verify', {
      email: patient.email,
      code: newestCode,
    });
    expect(newest.status).toBe(200);
  });

  it('accepts a pasted code with a space', async () => {
    const patient = demoPatient(0);
    const client = new PatientClient(portal.baseUrl);
    const code = await requestCode(client, patient.email);
    const verify = await client.postJson('/api/patient/auth/verify', {
      email: patient.email,
      code: `${code.slice(0, 3)} ${code.slice(3)}`,
    });
    expect(verify.status).toBe(200);
  });

  it('keeps names, emails and codes out of the logs', async () => {
    const patient = demoPatient(0);
    const client = new PatientClient(portal.baseUrl);
    const code = await requestCode(client, patient.email);
    await client.postJson('/api/patient/auth/verify', { email: patient.email, code });
    await client.request('/api/patient/profile');

    const logs = portal.output();
    expect(logs).toContain('"requestId"');
    for (const secret of [patient.email, code, patient.givenName]) {
      expect(logs).not.toContain(secret);
    }
  });
});

describe('sign-in input validation', () => {
  const cases: {
    name: string;
    path: string;
    body: string;
    contentType?: string;
    status: number;
    code: string;
  }[] = [
    {
      name: 'malformed email',
      path: 'send-code',
      body: '{"email":"not-an-email"}',
      status: 400,
      code: 'invalid_request',
    },
    { name: 'missing email', path: 'send-code', body: '{}', status: 400, code: 'invalid_request' },
    {
      name: 'unknown field',
      path: 'send-code',
      body: '{"email":"a@example.com","admin":true}',
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'invalid JSON',
      path: 'send-code',
      body: '{"email":',
      status: 400,
      code: 'invalid_json',
    },
    {
      name: 'form body on verify',
      path: 'verify',
      body: 'email=a%40example.com&code=123456',
      contentType: 'application/x-www-form-urlencoded',
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'text body on verify',
      path: 'verify',
      body: 'email=a%40example.com&code=123456',
      contentType: 'text/plain',
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'form content type',
      path: 'send-code',
      body: 'email=a%40example.com',
      contentType: 'application/x-www-form-urlencoded',
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'empty code',
      path: 'verify',
      body: '{"email":"a@example.com","code":""}',
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'code with letters',
      path: 'verify',
      body: '{"email":"a@example.com","code":"12a456"}',
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'short code',
      path: 'verify',
      body: '{"email":"a@example.com","code":"12345"}',
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'long code',
      path: 'verify',
      body: '{"email":"a@example.com","code":"1234567"}',
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'unknown verify field',
      path: 'verify',
      body: '{"email":"a@example.com","code":"123456","patientId":"x"}',
      status: 400,
      code: 'invalid_request',
    },
  ];

  for (const testCase of cases) {
    it(`rejects ${testCase.name}`, async () => {
      const response = await fetch(`${portal.baseUrl}/api/patient/auth/${testCase.path}`, {
        method: 'POST',
        headers: { 'content-type': testCase.contentType ?? 'application/json' },
        body: testCase.body,
      });
      expect(response.status).toBe(testCase.status);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe(testCase.code);
      expect(body.error.message.length).toBeGreaterThan(10);
    });
  }

  it('names the invalid field', async () => {
    const response = await fetch(`${portal.baseUrl}/api/patient/auth/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@example.com', code: 'abcdef' }),
    });
    const body = (await response.json()) as { error: { fields: Record<string, string> } };
    expect(Object.keys(body.error.fields)).toEqual(['code']);
  });

  it('rejects a body over the size limit', async () => {
    const response = await fetch(`${portal.baseUrl}/api/patient/auth/send-code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `${'a'.repeat(MAX_BODY_BYTES + 1)}@example.com` }),
    });
    expect(response.status).toBe(413);
  });

  it('rejects a chunked body over the size limit', async () => {
    // node:http, because fetch reports an error when the server responds before reading the whole body.
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${portal.baseUrl}/api/patient/auth/send-code`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      request.on('response', (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      for (let index = 0; index <= MAX_BODY_BYTES / 8_192; index += 1) {
        request.write('a'.repeat(8_192));
      }
      request.end();
    });
    expect(status).toBe(413);
  });
});

describe('request checks', () => {
  it('rejects a cross-site API request', async () => {
    const crossSiteHeaders: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of crossSiteHeaders) {
      const response = await fetch(`${portal.baseUrl}/api/patient/auth/send-code`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ email: demoPatient(0).email }),
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: { code: 'cross_site_request' } });
    }
  });

  it('accepts a same-origin API request', async () => {
    const response = await fetch(`${portal.baseUrl}/api/patient/auth/send-code`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        origin: portal.baseUrl,
        'sec-fetch-site': 'same-origin',
      },
      body: JSON.stringify({ email: 'nobody@example.com' }),
    });
    expect(response.status).toBe(202);
  });

  it('answers an unsupported method with 405', async () => {
    const response = await fetch(`${portal.baseUrl}/login`, { method: 'TRACE' }).catch(
      () => undefined,
    );
    // Some fetch implementations refuse TRACE themselves; node:http does not.
    const status =
      response?.status ??
      (await new Promise<number>((resolve, reject) => {
        const request = httpRequest(`${portal.baseUrl}/login`, { method: 'TRACE' }, (reply) => {
          reply.resume();
          resolve(reply.statusCode ?? 0);
        });
        request.on('error', reject);
        request.end();
      }));
    expect(status).toBe(405);
  });
});

describe('session checks', () => {
  it('answers 401 to a signed token with a malformed session id', async () => {
    const token = await new SignJWT({ sid: 'not-a-uuid' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(demoPatient(0).id)
      .setIssuer('patient-portal')
      .setAudience('patient-portal')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SANDBOX_CREDENTIALS.sessionSecret));
    const response = await fetch(`${portal.baseUrl}/api/patient/profile`, {
      headers: { cookie: `${SESSION_COOKIE}=${token}` },
    });
    expect(response.status).toBe(401);
    const page = await fetch(`${portal.baseUrl}/`, {
      headers: { cookie: `${SESSION_COOKIE}=${token}` },
      redirect: 'manual',
    });
    expect(page.status).toBe(302);
  });

  it('answers 401 to the API without a cookie', async () => {
    const response = await fetch(`${portal.baseUrl}/api/patient/profile`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'unauthenticated' } });
  });

  it('answers 401 to a forged token', async () => {
    const header = Buffer.from('{"alg":"none"}').toString('base64url');
    const payload = Buffer.from(`{"sid":"x","sub":"${demoPatient(0).id}"}`).toString('base64url');
    const response = await fetch(`${portal.baseUrl}/api/patient/profile`, {
      headers: { cookie: `${SESSION_COOKIE}=${header}.${payload}.` },
    });
    expect(response.status).toBe(401);
  });

  it('redirects a page to /login without a session', async () => {
    const response = await fetch(`${portal.baseUrl}/`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/login');
  });

  it('answers the health checks', async () => {
    expect((await fetch(`${portal.baseUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${portal.baseUrl}/readyz`)).status).toBe(200);
  });
});
