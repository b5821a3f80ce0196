import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SESSION_IDLE_SECONDS } from '../../app/auth/session-limits';

import { demoPatient } from '../support/patient-client';
import {
  sessionIdOf,
  startPortalWithDatabase,
  type PortalWithDatabase,
} from '../support/portal-with-database';

import { assertNoAxeViolations, launchChromium, newContext, signInThroughPages } from './browser';

const SESSION_COOKIE = '__Host-portal_session';
const DIALOG_NAME = 'Your session is about to end';
/** The browser warns two minutes before the end, so this fast-forward reaches the warning. */
const UNTIL_WARNING = '28:00';

let setup: PortalWithDatabase;
let browser: Browser;
let baseUrl: string;

beforeAll(async () => {
  setup = await startPortalWithDatabase();
  browser = await launchChromium();
  // localhost is a secure context, so Chromium keeps the Secure `__Host-` cookie over HTTP.
  baseUrl = setup.portal.baseUrl.replace('127.0.0.1', 'localhost');
});

afterAll(async () => {
  await browser?.close();
  await setup?.stop();
});

async function sessionIdIn(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies()).find((candidate) => candidate.name === SESSION_COOKIE);
  return sessionIdOf(cookie?.value);
}

async function hasSessionCookie(context: BrowserContext): Promise<boolean> {
  return (await context.cookies()).some((cookie) => cookie.name === SESSION_COOKIE);
}

async function setLastSeenSecondsAgo(sessionId: string, seconds: number): Promise<void> {
  await setup.pool.query(
    'UPDATE sessions SET last_seen_at = now() - make_interval(secs => $2) WHERE id = $1',
    [sessionId, seconds],
  );
}

async function lastSeenSecondsAgo(sessionId: string): Promise<number> {
  const result = await setup.pool.query<{ seconds: number }>(
    'SELECT EXTRACT(EPOCH FROM now() - last_seen_at)::float8 AS seconds FROM sessions WHERE id = $1',
    [sessionId],
  );
  return result.rows[0]?.seconds ?? Number.NaN;
}

/**
 * Waits until React has hydrated the session warning. Its render fixes the time the deadlines
 * count from, so a fast-forward after this is measured from the page's data.
 */
async function waitForSessionWarning(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const dialog = document.querySelector('dialog');
    return dialog !== null && Object.keys(dialog).some((key) => key.startsWith('__reactFiber'));
  });
}

/** Returns whether keyboard focus is on the button `name` inside the open dialog. */
async function isFocusedInDialog(page: Page, name: string): Promise<boolean> {
  return page.evaluate((buttonName) => {
    const focused = document.activeElement;
    const dialog = document.querySelector('dialog[open]');
    return dialog !== null && dialog.contains(focused) && focused?.textContent === buttonName;
  }, name);
}

async function isFocused(page: Page, linkName: string): Promise<boolean> {
  return page.evaluate((name) => document.activeElement?.textContent?.trim() === name, linkName);
}

describe('session expiry with JavaScript', () => {
  it('warns, stays signed in, and ends on the expiry page', async () => {
    const context = await newContext(browser, true);
    await context.clock.install();
    const page = await context.newPage();
    // A policy violation or a hydration mismatch in the dialog shows up as a console error.
    const dialogErrors: string[] = [];
    page.on('console', (message) => {
      const text = message.text();
      if (
        message.type() === 'error' &&
        /Content Security Policy|dialog|session-warning/i.test(text)
      )
        dialogErrors.push(text);
    });
    await signInThroughPages(page, baseUrl, demoPatient(0).email, setup.portal.baseUrl);
    const prescriptionsLink = page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Prescriptions' });
    await prescriptionsLink.click();
    await page.getByRole('heading', { level: 1, name: 'Prescriptions' }).waitFor();
    await waitForSessionWarning(page);
    const sessionId = await sessionIdIn(context);
    const dialog = page.getByRole('dialog', { name: DIALOG_NAME });
    const announcement = dialog.getByRole('status');
    expect(await dialog.isVisible()).toBe(false);

    // First warning: "Stay signed in".
    await prescriptionsLink.focus();
    await setLastSeenSecondsAgo(sessionId, SESSION_IDLE_SECONDS - 120);
    await page.clock.fastForward(UNTIL_WARNING);
    await dialog.waitFor();
    expect(await dialog.evaluate((element) => element.matches(':modal'))).toBe(true);
    expect(await isFocusedInDialog(page, 'Stay signed in')).toBe(true);
    expect(await dialog.textContent()).toMatch(
      /after 30 minutes without activity.*You will be signed out in (2 minutes|1 minute \d+ seconds?)\./,
    );
    await assertNoAxeViolations(page, true);

    await dialog.getByRole('button', { name: 'Stay signed in' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await lastSeenSecondsAgo(sessionId)).toBeLessThan(5);
    expect(await isFocused(page, 'Prescriptions')).toBe(true);

    // Second warning: Escape also stays signed in.
    await setLastSeenSecondsAgo(sessionId, SESSION_IDLE_SECONDS - 120);
    await page.clock.fastForward(UNTIL_WARNING);
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => lastSeenSecondsAgo(sessionId)).toBeLessThan(5);
    expect(await isFocused(page, 'Prescriptions')).toBe(true);

    // Third warning: the live region speaks at steps, not every second, until time runs out.
    await setLastSeenSecondsAgo(sessionId, SESSION_IDLE_SECONDS - 120);
    await page.clock.fastForward(UNTIL_WARNING);
    await dialog.waitFor();
    expect(await announcement.textContent()).toBe('');
    await page.clock.fastForward('01:05');
    await expect.poll(() => announcement.textContent()).toMatch(/^\d+ seconds left\.$/);
    const spoken = await announcement.textContent();
    const shownCountdown = await dialog.locator('strong').textContent();
    await page.clock.runFor(3000);
    await expect.poll(() => dialog.locator('strong').textContent()).not.toBe(shownCountdown);
    expect(await announcement.textContent()).toBe(spoken);
    expect(dialogErrors).toEqual([]);

    await setLastSeenSecondsAgo(sessionId, SESSION_IDLE_SECONDS + 5);
    await page.clock.fastForward('02:00');
    await page.waitForURL((url) => url.pathname === '/session-expired');

    const url = new URL(page.url());
    expect(url.searchParams.get('reason')).toBe('idle');
    expect(url.searchParams.get('redirectTo')).toBe('/prescriptions');
    await page.getByRole('heading', { level: 1, name: 'Your session has ended' }).waitFor();
    expect(await hasSessionCookie(context)).toBe(false);
    expect(await page.getByRole('link', { name: 'Sign in again' }).getAttribute('href')).toBe(
      '/login?redirectTo=%2Fprescriptions',
    );
    await assertNoAxeViolations(page, true);
    await context.close();
  });

  it('postpones the warning after a form post', async () => {
    const context = await newContext(browser, true);
    await context.clock.install();
    const page = await context.newPage();
    await signInThroughPages(page, baseUrl, demoPatient(1).email, setup.portal.baseUrl);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Messages' })
      .click();
    await page.getByRole('heading', { level: 1, name: 'Messages' }).waitFor();
    await waitForSessionWarning(page);
    let sessionChecks = 0;
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/patient/session') sessionChecks += 1;
    });

    // An empty message fails validation, so no route loader runs again: only the router's
    // record of the finished request can move the deadline.
    await page.clock.fastForward('20:00');
    await page.getByRole('button', { name: 'Send message' }).click();
    await page.getByRole('alert').waitFor();
    // 30 minutes after the page loaded, but only 10 after the post: no check is due yet.
    await page.clock.fastForward('10:00');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(sessionChecks).toBe(0);

    await page.clock.fastForward('18:00');
    await expect.poll(() => sessionChecks).toBe(1);
    await context.close();
  });

  it('closes the warning in other tabs', async () => {
    const context = await newContext(browser, true);
    await context.clock.install();
    const first = await context.newPage();
    await signInThroughPages(first, baseUrl, demoPatient(0).email, setup.portal.baseUrl);
    await waitForSessionWarning(first);
    const second = await context.newPage();
    await second.goto(`${baseUrl}/prescriptions`);
    await waitForSessionWarning(second);
    const sessionId = await sessionIdIn(context);

    await setLastSeenSecondsAgo(sessionId, SESSION_IDLE_SECONDS - 120);
    await first.clock.fastForward(UNTIL_WARNING);
    const firstDialog = first.getByRole('dialog', { name: DIALOG_NAME });
    const secondDialog = second.getByRole('dialog', { name: DIALOG_NAME });
    await firstDialog.waitFor();
    await secondDialog.waitFor();

    await firstDialog.getByRole('button', { name: 'Stay signed in' }).click();
    await firstDialog.waitFor({ state: 'hidden' });
    await secondDialog.waitFor({ state: 'hidden' });
    await context.close();
  });

  it('says the maximum age cannot be extended', async () => {
    const context = await newContext(browser, true);
    await context.clock.install();
    const page = await context.newPage();
    await signInThroughPages(page, baseUrl, demoPatient(2).email, setup.portal.baseUrl);
    await waitForSessionWarning(page);
    const sessionId = await sessionIdIn(context);
    const dialog = page.getByRole('dialog', { name: DIALOG_NAME });

    await setup.pool.query(
      `UPDATE sessions SET expires_at = now() + interval '100 seconds' WHERE id = $1`,
      [sessionId],
    );
    await page.clock.fastForward(UNTIL_WARNING);
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(
      'a session lasts at most 4 hours and cannot be extended',
    );
    expect(await dialog.getByRole('button', { name: 'Stay signed in' }).count()).toBe(0);
    expect(await isFocusedInDialog(page, 'Sign in again')).toBe(true);
    await assertNoAxeViolations(page, true);

    await dialog.getByRole('button', { name: 'Sign in again' }).click();
    await page.waitForURL((url) => url.pathname === '/login');
    expect(await hasSessionCookie(context)).toBe(false);
    const revoked = await setup.pool.query<{ revoked: boolean }>(
      'SELECT revoked_at IS NOT NULL AS revoked FROM sessions WHERE id = $1',
      [sessionId],
    );
    expect(revoked.rows[0]?.revoked).toBe(true);
    await context.close();
  });
});

describe('session expiry without JavaScript', () => {
  it('lands an idle session on the expiry page', async () => {
    const context = await newContext(browser, false);
    const page = await context.newPage();
    await signInThroughPages(page, baseUrl, demoPatient(1).email, setup.portal.baseUrl);
    const sessionId = await sessionIdIn(context);

    await setLastSeenSecondsAgo(sessionId, SESSION_IDLE_SECONDS + 5);
    await page.goto(`${baseUrl}/messages`);

    const url = new URL(page.url());
    expect(url.pathname).toBe('/session-expired');
    expect(url.searchParams.get('redirectTo')).toBe('/messages');
    await page.getByRole('heading', { level: 1, name: 'Your session has ended' }).waitFor();
    expect(await page.getByText('no activity for 30 minutes').isVisible()).toBe(true);
    expect(await hasSessionCookie(context)).toBe(false);
    await assertNoAxeViolations(page, false);

    await page.getByRole('link', { name: 'Sign in again' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).searchParams.get('redirectTo')).toBe('/messages');
    await context.close();
  });
});
