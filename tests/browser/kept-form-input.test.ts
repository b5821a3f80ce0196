import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SESSION_IDLE_SECONDS } from '../../app/auth/session-limits';

import { demoPatient, readSignInCode } from '../support/patient-client';
import {
  sessionIdOf,
  startPortalWithDatabase,
  type PortalWithDatabase,
} from '../support/portal-with-database';

import {
  assertNoAxeViolations,
  JAVASCRIPT_MODES,
  launchChromium,
  newContext,
  signInThroughPages,
  waitForHydration,
} from './browser';

const SESSION_COOKIE = '__Host-portal_session';

let setup: PortalWithDatabase;
let browser: Browser;
let baseUrl: string;

beforeAll(async () => {
  setup = await startPortalWithDatabase({ SEND_CODE_LIMIT_PER_EMAIL: '50' });
  browser = await launchChromium();
  // localhost is a secure context, so Chromium keeps the Secure `__Host-` cookies over HTTP.
  baseUrl = setup.portal.baseUrl.replace('127.0.0.1', 'localhost');
});

afterAll(async () => {
  await browser?.close();
  await setup?.stop();
});

function uniqueText(label: string): string {
  return `${label} ${Math.random().toString(36).slice(2, 10)}`;
}

/** Ends the context's session as if it had been idle for longer than the limit. */
async function makeSessionIdle(context: BrowserContext): Promise<void> {
  const cookie = (await context.cookies()).find((candidate) => candidate.name === SESSION_COOKIE);
  await setup.pool.query(
    'UPDATE sessions SET last_seen_at = now() - make_interval(secs => $2) WHERE id = $1',
    [sessionIdOf(cookie?.value), SESSION_IDLE_SECONDS + 5],
  );
}

/** Signs in from the sign-in page the browser is on, which returns the patient to the form. */
async function signInAgain(page: Page, email: string): Promise<void> {
  const since = new Date();
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Email me a code' }).click();
  await page.getByRole('heading', { level: 1, name: 'Enter your code' }).waitFor();
  const code = await readSignInCode(setup.portal.baseUrl, email, since);
  await page.getByLabel('6-digit code').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe.each(JAVASCRIPT_MODES)('message kept across sign-in $name', ({ javaScriptEnabled }) => {
  it('returns the draft to the form and sends it', async () => {
    const patient = demoPatient(javaScriptEnabled ? 0 : 1);
    const context = await newContext(browser, javaScriptEnabled);
    const page = await context.newPage();
    await signInThroughPages(page, baseUrl, patient.email, setup.portal.baseUrl);
    await page.goto(`${baseUrl}/messages`);
    if (javaScriptEnabled) await waitForHydration(page);
    const messageBox = page.getByRole('textbox', { name: 'Your message' });
    const text = uniqueText('Should I keep taking it while travelling?');

    await messageBox.fill(text);
    await makeSessionIdle(context);
    await page.getByRole('button', { name: 'Send message' }).click();

    await page.getByRole('heading', { level: 1, name: 'Your session has ended' }).waitFor();
    await page.getByText('We kept what you had typed but not yet sent.').waitFor();
    await page.getByRole('link', { name: 'Sign in again' }).click();
    await signInAgain(page, patient.email);

    await page.getByRole('heading', { level: 1, name: 'Messages' }).waitFor();
    await page.getByText('We kept your unsent message. Review it and send it again.').waitFor();
    expect(await messageBox.inputValue()).toBe(text);
    await assertNoAxeViolations(page, javaScriptEnabled);

    if (javaScriptEnabled) await waitForHydration(page);
    await page.getByRole('button', { name: 'Send message' }).click();
    await page
      .getByRole('list', { name: 'Conversation with your care team' })
      .locator('li[id^="message-"]')
      .getByText(text)
      .waitFor();
    await context.close();
  });
});
