import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { demoPatient } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';

import {
  assertNoAxeViolations,
  JAVASCRIPT_MODES,
  launchChromium,
  newContext,
  signInThroughPages,
  waitForHydration,
} from './browser';

let portal: PortalServer;
let browser: Browser;

beforeAll(async () => {
  portal = await startPortalServer({ NOTIFICATION_WORKER: 'off' });
  browser = await launchChromium();
  // Moves two demo shipments, so their patients have unread notifications to read.
  for (const trackingNumber of ['700000000007', '700000000007', '700000000022']) {
    await fetch(`${portal.baseUrl}/sandbox/shipments/${trackingNumber}/advance`, {
      method: 'POST',
    });
  }
});

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
});

function badge(page: Page) {
  return page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: /^Notifications/ });
}

describe.each(JAVASCRIPT_MODES)('notifications $name', ({ javaScriptEnabled }) => {
  // Ava with JavaScript, Marcus without, so each sign-in stays under the per-email code limit.
  const patientIndex = javaScriptEnabled ? 0 : 1;

  it('shows the feed and the badge, and marks notifications read', async () => {
    const context = await newContext(browser, javaScriptEnabled);
    const page = await context.newPage();
    const baseUrl = portal.baseUrl.replace('127.0.0.1', 'localhost');
    await signInThroughPages(page, baseUrl, demoPatient(patientIndex).email, portal.baseUrl);

    const before = Number(/(\d+) unread/.exec((await badge(page).textContent()) ?? '')?.[1] ?? 0);
    expect(before).toBeGreaterThan(1);
    await badge(page).click();
    await page.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
    if (javaScriptEnabled) await waitForHydration(page);
    await assertNoAxeViolations(page, javaScriptEnabled);

    await page
      .getByRole('button', { name: /^Mark as read/ })
      .first()
      .click();
    await expect
      .poll(async () => page.getByRole('button', { name: /^Mark as read/ }).count())
      .toBe(before - 1);
    await expect
      .poll(async () => (await badge(page).textContent()) ?? '')
      .toContain(`${before - 1} unread`);

    await page.getByRole('button', { name: 'Mark all as read' }).click();
    await page.getByText('You have no unread notifications.').waitFor();
    await expect.poll(async () => (await badge(page).textContent()) ?? '').toBe('Notifications');
    await assertNoAxeViolations(page, javaScriptEnabled);
    await context.close();
  });
});
