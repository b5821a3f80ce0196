import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { demoPatient, PatientClient, readPageHtml } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';

let portal: PortalServer;

beforeAll(async () => {
  portal = await startPortalServer();
});

afterAll(async () => {
  await portal?.stop();
});

/** Opens the magic link and returns the Canvas authorize URL it redirects to. */
async function openMagicLink(client: PatientClient, patientId: string): Promise<URL> {
  const response = await client.request(`/auth/canvas?login_hint=${patientId}`);
  expect([302, 303]).toContain(response.status);
  return new URL(response.headers.get('location') ?? '');
}

/**
 * Submits the sandbox's Canvas sign-in page as a person would, and returns the callback URL
 * Canvas redirects the browser to.
 */
async function answerAtCanvas(
  authorizeUrl: URL,
  decision: 'allow' | 'deny',
  patientId: string,
): Promise<URL> {
  const form = new URLSearchParams(authorizeUrl.searchParams);
  form.set('decision', decision);
  if (decision === 'allow') form.set('patient', patientId);
  const response = await fetch(new URL('/sandbox/canvas-oauth/authorize', authorizeUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
    redirect: 'manual',
  });
  expect(response.status).toBe(303);
  return new URL(response.headers.get('location') ?? '');
}

/** Follows the callback URL in the client and returns where the portal sent it. */
async function followCallback(client: PatientClient, callback: URL): Promise<string> {
  const response = await client.request(`${callback.pathname}${callback.search}`);
  expect(response.status).toBe(303);
  return response.headers.get('location') ?? '';
}

async function signInWithCanvas(patientId: string): Promise<PatientClient> {
  const client = new PatientClient(portal.baseUrl);
  const authorize = await openMagicLink(client, patientId);
  const callback = await answerAtCanvas(authorize, 'allow', patientId);
  expect(await followCallback(client, callback)).toBe('/');
  return client;
}

async function signedInPatient(client: PatientClient): Promise<string | undefined> {
  const response = await client.request('/api/patient/profile');
  if (response.status !== 200) return undefined;
  return ((await response.json()) as { id: string }).id;
}

describe('Canvas single sign-on', () => {
  it('signs a patient in from the magic link with PKCE and state', async () => {
    const client = new PatientClient(portal.baseUrl);
    const authorize = await openMagicLink(client, 'demo-ava');

    expect(authorize.pathname).toBe('/sandbox/canvas-oauth/authorize');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('login_hint')).toBe('demo-ava');
    expect(authorize.searchParams.get('redirect_uri')).toBe(
      `${portal.baseUrl}/api/patient/auth/canvas-callback`,
    );
    expect(authorize.searchParams.get('state')?.length).toBeGreaterThan(20);

    const callback = await answerAtCanvas(authorize, 'allow', 'demo-ava');
    expect(await followCallback(client, callback)).toBe('/');
    expect(await signedInPatient(client)).toBe('demo-ava');
    expect(portal.output()).not.toContain(callback.searchParams.get('code') ?? 'no code');
  });

  it('lets an email scanner open the link first without spending it', async () => {
    const patient = new PatientClient(portal.baseUrl);
    const authorize = await openMagicLink(patient, 'demo-marcus');
    const callback = await answerAtCanvas(authorize, 'allow', 'demo-marcus');

    // The scanner follows the same callback link with no cookies.
    const scanner = new PatientClient(portal.baseUrl);
    expect(await followCallback(scanner, callback)).toBe(
      '/login/canvas-error?reason=missing_state',
    );
    expect(await signedInPatient(scanner)).toBeUndefined();

    expect(await followCallback(patient, callback)).toBe('/');
    expect(await signedInPatient(patient)).toBe('demo-marcus');
  });

  it('uses each state once', async () => {
    const victim = new PatientClient(portal.baseUrl);
    const authorize = await openMagicLink(victim, 'demo-ava');
    const callback = await answerAtCanvas(authorize, 'allow', 'demo-ava');
    expect(await followCallback(victim, callback)).toBe('/');
    expect(await signedInPatient(victim)).toBe('demo-ava');

    // Someone who saw the authorize URL gets a code for the same state as another patient.
    const forged = await answerAtCanvas(authorize, 'allow', 'demo-marcus');
    expect(await followCallback(victim, forged)).toBe('/login/canvas-error?reason=missing_state');
    expect(await signedInPatient(victim)).toBe('demo-ava');
  });

  it('ends a callback without a state instead of starting over', async () => {
    const client = new PatientClient(portal.baseUrl);
    for (const query of ['?error=access_denied&state=', '?code=abc', '']) {
      const response = await client.request(`/api/patient/auth/canvas-callback${query}`);
      expect(response.status, query).toBe(303);
      expect(response.headers.get('location'), query).toBe(
        '/login/canvas-error?reason=missing_state',
      );
    }
  });

  it('shows the general explanation for an unknown reason', async () => {
    const client = new PatientClient(portal.baseUrl);
    for (const reason of ['__proto__', 'toString', 'nonsense']) {
      const response = await client.request(`/login/canvas-error?reason=${reason}`);
      expect(response.status, reason).toBe(200);
      expect(await readPageHtml(response)).toContain('Canvas could not be reached');
    }
  });

  it('refuses a state that does not match the cookie', async () => {
    const client = new PatientClient(portal.baseUrl);
    const authorize = await openMagicLink(client, 'demo-ava');
    const callback = await answerAtCanvas(authorize, 'allow', 'demo-ava');
    callback.searchParams.set('state', 'forged-state-value');

    expect(await followCallback(client, callback)).toBe(
      '/login/canvas-error?reason=state_mismatch',
    );
    expect(await signedInPatient(client)).toBeUndefined();
  });

  it('refuses a replayed code', async () => {
    const client = new PatientClient(portal.baseUrl);
    const authorize = await openMagicLink(client, 'demo-priya');
    const callback = await answerAtCanvas(authorize, 'allow', 'demo-priya');
    expect(await followCallback(client, callback)).toBe('/');

    const replay = new PatientClient(portal.baseUrl);
    const replayAuthorize = await openMagicLink(replay, 'demo-priya');
    // The replaying browser has a state cookie of its own, so only the code is stale.
    callback.searchParams.set('state', replayAuthorize.searchParams.get('state') ?? '');
    expect(await followCallback(replay, callback)).toBe('/login/canvas-error?reason=code_rejected');
    expect(await signedInPatient(replay)).toBeUndefined();
  });

  it('refuses a code exchanged with another verifier', async () => {
    // The code comes from one browser's sign-in; another browser, with its own state and
    // verifier, presents it with its own state.
    const first = new PatientClient(portal.baseUrl);
    const firstAuthorize = await openMagicLink(first, 'demo-ava');
    const callback = await answerAtCanvas(firstAuthorize, 'allow', 'demo-ava');
    const second = new PatientClient(portal.baseUrl);
    const secondAuthorize = await openMagicLink(second, 'demo-ava');
    callback.searchParams.set('state', secondAuthorize.searchParams.get('state') ?? '');

    expect(await followCallback(second, callback)).toBe('/login/canvas-error?reason=code_rejected');
    expect(await signedInPatient(second)).toBeUndefined();
  });

  it('explains a denied consent and an unknown patient', async () => {
    const denied = new PatientClient(portal.baseUrl);
    const deniedCallback = await answerAtCanvas(
      await openMagicLink(denied, 'demo-ava'),
      'deny',
      'demo-ava',
    );
    const deniedTarget = await followCallback(denied, deniedCallback);
    expect(deniedTarget).toBe('/login/canvas-error?reason=denied');
    const page = await readPageHtml(await denied.request(deniedTarget));
    expect(page).toContain('You chose not to let the portal use your Canvas account');
    expect(page).toContain('href="/login"');

    const unknown = new PatientClient(portal.baseUrl);
    const unknownCallback = await answerAtCanvas(
      await openMagicLink(unknown, 'demo-ava'),
      'allow',
      'unknown-patient',
    );
    expect(await followCallback(unknown, unknownCallback)).toBe(
      '/login/canvas-error?reason=unknown_patient',
    );
    expect(await signedInPatient(unknown)).toBeUndefined();
  });

  it('gives the same session as email sign-in, which logout revokes', async () => {
    const client = await signInWithCanvas(demoPatient(0).id);
    const cookieName = '__Host-portal_session';
    const sessionCookie = client.cookie(cookieName);
    expect(sessionCookie).toBeDefined();

    const logout = await client.postForm('/logout', {});
    expect([302, 303]).toContain(logout.status);
    expect(logout.headers.get('clear-site-data')).toBe('"cache", "cookies", "storage"');
    // Outside production the portal may run on plain HTTP, so it sends no HSTS.
    expect(logout.headers.get('strict-transport-security')).toBeNull();

    const reused = new PatientClient(portal.baseUrl);
    reused.setCookie(cookieName, sessionCookie ?? '');
    expect(await signedInPatient(reused)).toBeUndefined();
  });

  it('signs out every device of the patient from the profile', async () => {
    const phone = await signInWithCanvas('demo-priya');
    const laptop = await signInWithCanvas('demo-priya');
    const other = await signInWithCanvas('demo-ava');

    const response = await phone.postForm('/profile', {});

    expect(response.status).toBe(303);
    expect(response.headers.get('clear-site-data')).toContain('"cookies"');
    expect(await signedInPatient(phone)).toBeUndefined();
    expect(await signedInPatient(laptop)).toBeUndefined();
    expect(await signedInPatient(other)).toBe('demo-ava');
  });

  it('finds each magic link in the sandbox mailbox', async () => {
    const response = await fetch(
      `${portal.baseUrl}/sandbox/mail/messages?to=${encodeURIComponent(demoPatient(1).email)}`,
    );
    const mails = (await response.json()) as { subject: string; text: string | null }[];
    const magic = mails.find((mail) => mail.subject === 'Your patient portal sign-in link');
    expect(magic?.text).toContain('/auth/canvas?login_hint=demo-marcus');
  });
});
