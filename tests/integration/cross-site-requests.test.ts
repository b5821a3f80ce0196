import { get } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { demoPatient, signInByEmail, type PatientClient } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';

let portal: PortalServer;
let client: PatientClient;

beforeAll(async () => {
  portal = await startPortalServer();
  client = await signInByEmail(portal.baseUrl, demoPatient(0).email);
});

afterAll(async () => {
  await portal?.stop();
});

/** Every kind of state-changing request: page forms and JSON API writes. */
const WRITES: { path: string; form?: Record<string, string>; json?: unknown }[] = [
  { path: '/logout', form: {} },
  { path: '/login', form: { email: demoPatient(0).email } },
  { path: '/messages', form: { text: 'Cross-site message' } },
  { path: '/notifications', form: { intent: 'read-all' } },
  { path: '/profile', form: { intent: 'sign-out-everywhere' } },
  { path: '/scheduling', form: {} },
  { path: '/api/patient/auth/logout', json: {} },
  { path: '/api/patient/messages', json: { text: 'Cross-site message' } },
  { path: '/api/patient/notifications/read-all', json: {} },
];

const CROSS_SITE_HEADERS: Record<string, string>[] = [
  { origin: 'https://evil.example' },
  { origin: 'null' },
  { 'sec-fetch-site': 'cross-site' },
];

function send(write: (typeof WRITES)[number], headers: Record<string, string>): Promise<Response> {
  const form = write.form !== undefined;
  return client.request(write.path, {
    method: 'POST',
    headers: {
      'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
      ...headers,
    },
    body: form ? new URLSearchParams(write.form).toString() : JSON.stringify(write.json),
  });
}

async function expectStillSignedIn(): Promise<void> {
  expect((await client.request('/api/patient/profile')).status).toBe(200);
}

describe('cross-site requests', () => {
  it.each(WRITES)('refuses a cross-site POST $path', async (write) => {
    // The portal's own host and port under another scheme is another origin.
    const otherScheme = { origin: portal.baseUrl.replace('http:', 'https:') };
    for (const headers of [...CROSS_SITE_HEADERS, otherScheme]) {
      const response = await send(write, headers);
      expect(response.status, JSON.stringify(headers)).toBe(403);
      const body = await response.text();
      expect(body).toContain('Requests from other sites are not accepted.');
    }
    await expectStillSignedIn();
  });

  it('accepts a same-origin sign-out', async () => {
    const other = await signInByEmail(portal.baseUrl, demoPatient(1).email);
    const response = await other.request('/logout', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: portal.baseUrl,
        'sec-fetch-site': 'same-origin',
      },
    });
    expect(response.status).toBe(302);
    expect((await other.request('/api/patient/profile')).status).toBe(401);
  });
});

describe('other methods', () => {
  it('refuses OPTIONS, which would run a loader', async () => {
    const response = await client.request('/api/patient/messages', { method: 'OPTIONS' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).not.toContain('OPTIONS');
  });
});

describe('sandbox', () => {
  it('answers loopback host names only', async () => {
    // fetch sets Host itself, so this request goes through node:http.
    const reboundStatus = await new Promise<number | undefined>((resolve, reject) => {
      const url = new URL('/sandbox/mail/messages', portal.baseUrl);
      get(url, { headers: { host: `rebind.example:${url.port}` } }, (response) => {
        response.resume();
        resolve(response.statusCode);
      }).on('error', reject);
    });
    expect(reboundStatus).toBe(403);
    expect((await fetch(`${portal.baseUrl}/sandbox/mail/messages`)).status).toBe(200);
  });
});

describe('GET requests', () => {
  it('leave the session alone', async () => {
    expect((await client.request('/logout')).status).toBe(302);
    expect((await client.request('/api/patient/auth/logout')).status).toBe(405);
    await expectStillSignedIn();
  });

  it('mark no notification read', async () => {
    const before = (await (await client.request('/api/patient/notifications')).json()) as {
      unreadCount: number;
    };
    expect((await client.request('/api/patient/notifications/read-all')).status).toBe(405);
    const after = (await (await client.request('/api/patient/notifications')).json()) as {
      unreadCount: number;
    };
    expect(typeof before.unreadCount).toBe('number');
    expect(after.unreadCount).toBe(before.unreadCount);
  });
});
