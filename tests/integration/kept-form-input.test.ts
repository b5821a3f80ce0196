import { decodeProtectedHeader, SignJWT } from 'jose';
import { Temporal } from 'temporal-polyfill';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SESSION_IDLE_SECONDS } from '../../app/auth/session-limits';
import { SANDBOX_CREDENTIALS } from '../../app/config/env.server';
import {
  demoPatient,
  PatientClient,
  readPageHtml,
  readSignInCode,
  signInByEmail,
} from '../support/patient-client';
import {
  sessionIdOf,
  startPortalWithDatabase,
  type PortalWithDatabase,
} from '../support/portal-with-database';

/**
 * Form posts without JavaScript that arrive after the session ended: the typed input comes back
 * on the form after the same patient signs in again.
 */

const SESSION_COOKIE = '__Host-portal_session';
const KEPT_INPUT_COOKIE = '__Host-portal_kept_input';
const MESSAGE_KEPT_NOTICE = 'We kept your unsent message. Review it and send it again.';

interface SlotJson {
  slotId: string;
  start: string;
  end: string;
  timeZone: string;
  practitioner: { id: string; name: string };
}

let setup: PortalWithDatabase;

beforeAll(async () => {
  // The tests sign the same patients in many times.
  setup = await startPortalWithDatabase({ SEND_CODE_LIMIT_PER_EMAIL: '50' });
});

afterAll(async () => {
  await setup?.stop();
});

function uniqueText(label: string): string {
  return `${label} ${Math.random().toString(36).slice(2, 10)}`;
}

/** Signs demo patient `index` in through the API and makes the session idle for too long. */
async function clientWithIdleSession(index: number): Promise<PatientClient> {
  const client = await signInByEmail(setup.portal.baseUrl, demoPatient(index).email);
  await setup.pool.query(
    'UPDATE sessions SET last_seen_at = now() - make_interval(secs => $2) WHERE id = $1',
    [sessionIdOf(client.cookie(SESSION_COOKIE)), SESSION_IDLE_SECONDS + 5],
  );
  return client;
}

/**
 * Signs demo patient `index` in through the sign-in pages on the same client, as the link on
 * the session-expiry page does, and returns where the portal sends the patient afterwards.
 */
async function signInThroughPages(
  client: PatientClient,
  index: number,
  redirectTo: string,
): Promise<string | null> {
  const { email } = demoPatient(index);
  const since = new Date();
  const sent = await client.postForm('/login', { email, redirectTo });
  expect(sent.status).toBe(302);
  const code = await readSignInCode(setup.portal.baseUrl, email, since);
  const verified = await client.postForm(`/login/verify?${new URLSearchParams({ redirectTo })}`, {
    email,
    code,
  });
  expect(verified.status).toBe(302);
  return verified.headers.get('location');
}

function keptInputSetCookie(response: Response): string | undefined {
  return response.headers
    .getSetCookie()
    .find((header) => header.startsWith(`${KEPT_INPUT_COOKIE}=`));
}

function textareaWith(text: string): RegExp {
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`<textarea[^>]*>${escaped}</textarea>`);
}

describe('message posted after the session ended', () => {
  it('comes back on the form after sign-in', async () => {
    const client = await clientWithIdleSession(0);
    const text = uniqueText('Can I take my dose with food?');

    const posted = await client.postForm('/messages', {
      text,
      idempotencyKey: crypto.randomUUID(),
    });

    expect(posted.status).toBe(302);
    const location = new URL(posted.headers.get('location') ?? '', setup.portal.baseUrl);
    expect(location.pathname).toBe('/session-expired');
    expect(location.searchParams.get('redirectTo')).toBe('/messages');
    const setCookie = keptInputSetCookie(posted) ?? '';
    for (const attribute of ['HttpOnly', 'SameSite=Lax', 'Secure', 'Path=/', 'Max-Age=1800']) {
      expect(setCookie).toContain(attribute);
    }

    const expiredPage = await readPageHtml(
      await client.request(`${location.pathname}${location.search}`),
    );
    expect(expiredPage).toContain('We kept what you had typed but not yet sent.');

    expect(await signInThroughPages(client, 0, '/messages')).toBe('/messages');
    const page = await client.request('/messages');
    const html = await readPageHtml(page);
    expect(page.status).toBe(200);
    expect(html).toContain(MESSAGE_KEPT_NOTICE);
    expect(html).toMatch(textareaWith(text));
    expect(keptInputSetCookie(page)).toMatch(/Max-Age=0/);

    const again = await readPageHtml(await client.request('/messages'));
    expect(again).not.toContain(MESSAGE_KEPT_NOTICE);
    expect(again).not.toContain(text);
  });

  it('keeps no plaintext in the cookie', async () => {
    const client = await clientWithIdleSession(0);
    const text = uniqueText('Private question about my prescription');

    await client.postForm('/messages', { text, idempotencyKey: crypto.randomUUID() });

    const value = client.cookie(KEPT_INPUT_COOKIE) ?? '';
    expect(value.split('.')).toHaveLength(5);
    expect(decodeProtectedHeader(value)).toEqual({ alg: 'dir', enc: 'A256GCM' });
    const decoded = value
      .split('.')
      .map((part) => Buffer.from(part, 'base64url').toString('utf8'))
      .join('\n');
    for (const haystack of [value, decodeURIComponent(value), decoded]) {
      expect(haystack).not.toContain(text);
      expect(haystack).not.toContain('Private question');
      expect(haystack).not.toContain(demoPatient(0).id);
    }
  });

  it('is not shown to another patient', async () => {
    const client = await clientWithIdleSession(0);
    const text = uniqueText('Only for my care team');
    await client.postForm('/messages', { text, idempotencyKey: crypto.randomUUID() });
    expect(client.cookie(KEPT_INPUT_COOKIE)).toBeDefined();

    expect(await signInThroughPages(client, 1, '/messages')).toBe('/messages');
    const page = await client.request('/messages');
    const html = await readPageHtml(page);

    expect(html).not.toContain(MESSAGE_KEPT_NOTICE);
    expect(html).not.toContain(text);
    expect(keptInputSetCookie(page)).toMatch(/Max-Age=0/);
    expect(client.cookie(KEPT_INPUT_COOKIE)).toBeUndefined();
  });

  it('is kept when the session passed its maximum age', async () => {
    const client = await signInByEmail(setup.portal.baseUrl, demoPatient(0).email);
    const sessionId = sessionIdOf(client.cookie(SESSION_COOKIE));
    // The session's JWT expired, as it does four hours after sign-in.
    const expiredJwt = await new SignJWT({ sid: sessionId })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(demoPatient(0).id)
      .setIssuer('patient-portal')
      .setAudience('patient-portal')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 4 * 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(SANDBOX_CREDENTIALS.sessionSecret));
    client.setCookie(SESSION_COOKIE, expiredJwt);
    const text = uniqueText('Posted after four hours');

    const posted = await client.postForm('/messages', {
      text,
      idempotencyKey: crypto.randomUUID(),
    });

    expect(posted.headers.get('location')).toContain('reason=max_age');
    expect(keptInputSetCookie(posted)).toBeDefined();
    await signInThroughPages(client, 0, '/messages');
    expect(await readPageHtml(await client.request('/messages'))).toMatch(textareaWith(text));
  });

  it('is removed by signing out', async () => {
    const client = await clientWithIdleSession(1);
    const text = uniqueText('Drafted before a break');
    await client.postForm('/messages', { text, idempotencyKey: crypto.randomUUID() });
    expect(client.cookie(KEPT_INPUT_COOKIE)).toBeDefined();

    // Signed in again but sent elsewhere, the patient signs out before opening Messages.
    expect(await signInThroughPages(client, 1, '/prescriptions')).toBe('/prescriptions');
    const signedOut = await client.postForm('/logout', {});
    expect(keptInputSetCookie(signedOut)).toMatch(/Max-Age=0/);
    expect(client.cookie(KEPT_INPUT_COOKIE)).toBeUndefined();

    await signInThroughPages(client, 1, '/messages');
    expect(await readPageHtml(await client.request('/messages'))).not.toContain(text);
  });

  it('is not kept without an ended session', async () => {
    const client = new PatientClient(setup.portal.baseUrl);

    const posted = await client.postForm('/messages', {
      text: uniqueText('Nobody signed in'),
      idempotencyKey: crypto.randomUUID(),
    });

    expect(posted.status).toBe(302);
    expect(posted.headers.get('location')).toBe('/login?redirectTo=%2Fmessages');
    expect(keptInputSetCookie(posted)).toBeUndefined();
  });
});

describe('booking posted after the session ended', () => {
  it('comes back with the chosen slot and books it', async () => {
    const client = await signInByEmail(setup.portal.baseUrl, demoPatient(0).email);
    const date = Temporal.Now.plainDateISO(demoPatient(0).timeZone).add({ days: 9 }).toString();
    const availability = (await (
      await client.request(`/api/patient/availability?date=${date}`)
    ).json()) as { slots: SlotJson[] };
    const slot = availability.slots[0];
    if (!slot) throw new Error(`No open slot on ${date}.`);
    await setup.pool.query(
      'UPDATE sessions SET last_seen_at = now() - make_interval(secs => $2) WHERE id = $1',
      [sessionIdOf(client.cookie(SESSION_COOKIE)), SESSION_IDLE_SECONDS + 5],
    );
    const form = {
      slotId: slot.slotId,
      start: slot.start,
      end: slot.end,
      timeZone: slot.timeZone,
      practitionerId: slot.practitioner.id,
      practitionerName: slot.practitioner.name,
      idempotencyKey: crypto.randomUUID(),
    };

    const posted = await client.postForm(`/scheduling?date=${date}`, form);
    expect(posted.status).toBe(302);
    expect(keptInputSetCookie(posted)).toBeDefined();

    const landing = await signInThroughPages(client, 0, `/scheduling?date=${date}`);
    const page = await client.request(landing ?? '/');
    const html = await readPageHtml(page);
    expect(html).toContain('We kept the visit time you chose. Review it and book it again.');
    expect(html).toContain(`name="slotId" value="${slot.slotId}"`);
    expect(html).toContain(`name="start" value="${slot.start}"`);
    const idempotencyKey = /name="idempotencyKey" value="([^"]+)"/.exec(html)?.[1] ?? '';

    const booked = await client.postForm(`/scheduling?date=${date}`, { ...form, idempotencyKey });
    expect(booked.status).toBe(303);
    expect(booked.headers.get('location')).toMatch(/^\/scheduling\?booked=/);
  });
});
