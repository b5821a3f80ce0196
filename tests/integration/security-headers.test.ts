import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  expectStrictDocumentPolicy,
  parseContentSecurityPolicy,
} from '../support/content-security-policy';
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

const PATIENT_PAGES = [
  '/',
  '/prescriptions',
  '/shipments',
  '/messages',
  '/scheduling',
  '/notifications',
  '/profile',
];
const PATIENT_API = [
  '/api/patient/profile',
  '/api/patient/prescriptions',
  '/api/patient/shipments',
  '/api/patient/messages',
  '/api/patient/appointments',
  '/api/patient/notifications',
];

describe('Content-Security-Policy', () => {
  it('nonces every script on each page', async () => {
    const nonces = new Set<string>();
    const pages = PATIENT_PAGES.map((path) => () => client.request(path));
    pages.push(() => fetch(`${portal.baseUrl}/login`));
    for (const [index, open] of pages.entries()) {
      const response = await open();
      const path = PATIENT_PAGES[index] ?? '/login';
      expect(response.status, path).toBe(200);
      nonces.add(
        expectStrictDocumentPolicy(
          response.headers.get('content-security-policy'),
          await response.text(),
        ),
      );
    }
    // A nonce an attacker could learn from one response must not work on the next.
    expect(nonces.size).toBe(PATIENT_PAGES.length + 1);
  });

  it('covers error pages too', async () => {
    const response = await client.request('/no-such-page');
    expect(response.status).toBe(404);
    expectStrictDocumentPolicy(
      response.headers.get('content-security-policy'),
      await response.text(),
    );
  });

  it('locks down API responses', async () => {
    for (const path of [...PATIENT_API, '/api/no-such-route']) {
      const response = await client.request(path);
      const policy = parseContentSecurityPolicy(response.headers.get('content-security-policy'));
      expect(policy.get('default-src'), path).toEqual(["'none'"]);
      expect(policy.get('frame-ancestors'), path).toEqual(["'none'"]);
    }
  });
});

describe('other security headers', () => {
  it('sends the base headers everywhere', async () => {
    for (const path of ['/login', ...PATIENT_PAGES, ...PATIENT_API]) {
      const response = await client.request(path);
      expect(response.status, path).toBeLessThan(400);
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(response.headers.get('referrer-policy'), path).toBe('same-origin');
      expect(response.headers.get('x-frame-options'), path).toBe('DENY');
      expect(response.headers.get('permissions-policy'), path).toContain('camera=()');
      expect(response.headers.get('permissions-policy'), path).toContain('geolocation=()');
    }
  });

  it('marks patient responses no-store', async () => {
    const dataPaths = PATIENT_PAGES.map((path) => (path === '/' ? '/_root.data' : `${path}.data`));
    for (const path of [...PATIENT_PAGES, ...dataPaths, ...PATIENT_API]) {
      const response = await client.request(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('cache-control'), path).toBe('no-store');
    }
  });
});
