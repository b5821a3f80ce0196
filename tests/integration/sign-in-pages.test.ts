import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  demoPatient,
  PatientClient,
  readPageHtml,
  readSignInCode,
  wrongCode,
} from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';

let portal: PortalServer;

beforeAll(async () => {
  portal = await startPortalServer();
});

afterAll(async () => {
  await portal?.stop();
});

describe('sign-in pages without JavaScript', () => {
  it('signs in through the forms and greets the patient', async () => {
    const patient = demoPatient(1);
    const client = new PatientClient(portal.baseUrl);

    const loginPage = await client.request('/login');
    expect(loginPage.status).toBe(200);
    expect(await loginPage.text()).toContain('<label for="email">Email address</label>');

    const since = new Date();
    const sent = await client.postForm('/login', { email: patient.email, redirectTo: '' });
    expect(sent.status).toBe(302);
    expect(sent.headers.get('location')).toBe('/login/verify');
    expect(sent.headers.get('location')).not.toContain('@');

    const verifyPage = await client.request('/login/verify');
    expect(await verifyPage.text()).toContain('6-digit code');

    const code = await readSignInCode(portal.baseUrl, patient.email, since);
    const verified = await client.postForm('/login/verify', { email: patient.email, code });
    expect(verified.status).toBe(302);
    expect(verified.headers.get('location')).toBe('/');

    const dashboard = await client.request('/');
    expect(dashboard.status).toBe(200);
    const html = await dashboard.text();
    expect(html).toContain(`Hello, ${patient.givenName}`);
    for (const heading of ['Active treatment', 'Latest shipment', 'Telehealth', 'Notifications']) {
      expect(html).toContain(heading);
    }

    const signOut = await client.postForm('/logout', {});
    expect(signOut.status).toBe(302);
    expect(signOut.headers.get('location')).toBe('/login?signedOut=1');
    expect((await client.request('/')).status).toBe(302);
  });

  it('shows a field error and keeps the email', async () => {
    const client = new PatientClient(portal.baseUrl);
    const response = await client.postForm('/login', { email: 'not an email' });
    expect(response.status).toBe(400);
    const html = await readPageHtml(response);
    expect(html).toContain('Enter a valid email address');
    expect(html).toContain('value="not an email"');
    expect(html).toContain('aria-invalid="true"');
    expect(html).toContain('<title>Error: Sign in | Patient portal</title>');
    expect(html).toMatch(/<div role="alert" class="error-summary"><ul><li><a href="#email">/);
  });

  it('asks for a missing email', async () => {
    const response = await new PatientClient(portal.baseUrl).postForm('/login', { email: '  ' });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('Enter your email address.');
  });

  it('forbids caching of patient pages', async () => {
    const patient = demoPatient(0);
    const client = new PatientClient(portal.baseUrl);
    const since = new Date();
    await client.postForm('/login', { email: patient.email });
    const code = await readSignInCode(portal.baseUrl, patient.email, since);
    await client.postForm('/login/verify', { email: patient.email, code });

    for (const path of ['/', '/_root.data', '/login']) {
      const response = await client.request(path);
      expect(response.headers.get('cache-control'), path).toBe('no-store');
    }
    await client.postForm('/logout', {});
  });

  it('encodes a redirectTo with other scripts', async () => {
    const patient = demoPatient(2);
    const client = new PatientClient(portal.baseUrl);
    const since = new Date();
    await client.postForm('/login', { email: patient.email });
    const code = await readSignInCode(portal.baseUrl, patient.email, since);
    const target = '/\u3000caf\u00e9';
    const verified = await client.postForm(
      `/login/verify?${new URLSearchParams({ redirectTo: target })}`,
      {
        email: patient.email,
        code,
      },
    );
    expect(verified.status).toBe(302);
    expect(verified.headers.get('location')).toBe('/%E3%80%80caf%C3%A9');
    await client.postForm('/logout', {});
  });

  it('shows a wrong code and the tries left', async () => {
    const patient = demoPatient(2);
    const client = new PatientClient(portal.baseUrl);
    const since = new Date();
    await client.postForm('/login', { email: patient.email });
    const code = await readSignInCode(portal.baseUrl, patient.email, since);

    const response = await client.postForm('/login/verify', {
      email: patient.email,
      code: wrongCode(code),
    });
    expect(response.status).toBe(401);
    expect(await response.text()).toContain('You have 4 tries left');
  });

  it('returns to a same-site redirectTo only', async () => {
    const patient = demoPatient(0);
    const client = new PatientClient(portal.baseUrl);

    const start = await client.request('/?tab=1');
    expect(start.headers.get('location')).toBe('/login?redirectTo=%2F%3Ftab%3D1');

    for (const [target, expected] of [
      ['/?tab=1', '/?tab=1'],
      ['https://evil.example.com/', '/'],
      ['//evil.example.com/', '/'],
    ] as const) {
      const since = new Date();
      await client.postForm('/login', { email: patient.email, redirectTo: target });
      const code = await readSignInCode(portal.baseUrl, patient.email, since);
      const verified = await client.postForm(
        `/login/verify?${new URLSearchParams({ redirectTo: target })}`,
        {
          email: patient.email,
          code,
        },
      );
      expect(verified.headers.get('location')).toBe(expected);
      await client.postForm('/logout', {});
    }
  });

  it('treats GET /logout as harmless', async () => {
    const response = await fetch(`${portal.baseUrl}/logout`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/');
  });

  it('answers an unknown page with 404', async () => {
    const response = await fetch(`${portal.baseUrl}/no-such-page`);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('Page not found');
  });
});
