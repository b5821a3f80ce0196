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
  portal = await startPortalServer();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
});

async function openScheduling(
  page: Page,
  patientIndex: number,
  javaScriptEnabled: boolean,
): Promise<void> {
  const baseUrl = portal.baseUrl.replace('127.0.0.1', 'localhost');
  await signInThroughPages(page, baseUrl, demoPatient(patientIndex).email, portal.baseUrl);
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Video visits' })
    .click();
  await page.getByRole('heading', { level: 1, name: 'Video visits' }).waitFor();
  if (javaScriptEnabled) await waitForHydration(page);
}

/**
 * Shows the first listed `weekday` (e.g. "Wed"), chooses its `index`-th open time and returns
 * the confirmed visit time. Weekdays have full office hours; weekend days have only on-call times.
 */
async function chooseSlot(page: Page, weekday: string, index: number): Promise<string> {
  await page
    .getByRole('navigation', { name: 'Choose a day' })
    .getByRole('link', { name: new RegExp(`^${weekday},`) })
    .first()
    .click();
  await page.getByRole('heading', { name: new RegExp(`^Open times on ${weekday},`) }).waitFor();
  const slots = page.getByRole('region', { name: /^Open times on/ }).getByRole('link');
  await slots.first().waitFor();
  const count = await slots.count();
  if (count <= index) {
    throw new Error(
      `Only ${count} open times on ${page.url()}: ${(await page.locator('main').innerText()).replace(/\s+/g, ' ')}`,
    );
  }
  await slots.nth(index).click();
  const when = page.locator('.confirm strong');
  await when.waitFor();
  return (await when.textContent()) ?? '';
}

function visitCard(page: Page, when: string) {
  return page.getByRole('article').filter({ has: page.getByRole('heading', { name: when }) });
}

describe.each(JAVASCRIPT_MODES)('scheduling $name', ({ javaScriptEnabled }) => {
  // Ava with JavaScript, Marcus without, so each sign-in stays under the per-email code limit.
  const patientIndex = javaScriptEnabled ? 0 : 1;

  it('books, reschedules and cancels a visit and passes axe', async () => {
    const context = await newContext(browser, javaScriptEnabled);
    const page = await context.newPage();
    await openScheduling(page, patientIndex, javaScriptEnabled);
    await assertNoAxeViolations(page, javaScriptEnabled);

    const booked = await chooseSlot(page, 'Wed', 1);
    await assertNoAxeViolations(page, javaScriptEnabled);
    await page.getByRole('button', { name: 'Book this visit' }).click();
    await page.getByText('Your video visit is booked.').waitFor();
    await visitCard(page, booked).waitFor();
    await assertNoAxeViolations(page, javaScriptEnabled);

    await visitCard(page, booked).getByRole('link', { name: 'Reschedule this visit' }).click();
    await page.getByRole('heading', { level: 1, name: 'Reschedule your visit' }).waitFor();
    await assertNoAxeViolations(page, javaScriptEnabled);
    const moved = await chooseSlot(page, 'Thu', 3);
    expect(moved).not.toBe(booked);
    await page.getByRole('button', { name: 'Move my visit' }).click();
    await page.getByText('Your video visit has moved.').waitFor();
    await visitCard(page, moved).waitFor();
    expect(await visitCard(page, booked).count()).toBe(0);

    await visitCard(page, moved).getByRole('link', { name: 'Cancel this visit' }).click();
    await page.getByRole('heading', { level: 1, name: 'Cancel your visit' }).waitFor();
    await assertNoAxeViolations(page, javaScriptEnabled);
    await page.getByLabel('Reason (optional)').fill('Feeling better');
    await page.getByRole('button', { name: 'Cancel this visit' }).click();
    await page.getByText('Your video visit is cancelled.').waitFor();
    const cancelled = page
      .getByRole('region', { name: 'Past and cancelled visits' })
      .getByRole('article')
      .filter({ hasText: '(cancelled)' });
    await expect.poll(() => cancelled.count()).toBeGreaterThan(0);
    await assertNoAxeViolations(page, javaScriptEnabled);
    await context.close();
  });

  it('picks another day with the date form', async () => {
    const context = await newContext(browser, javaScriptEnabled);
    const page = await context.newPage();
    await openScheduling(page, 2, javaScriptEnabled);

    const dayLinks = page.getByRole('navigation', { name: 'Choose a day' }).getByRole('link');
    const target = (await dayLinks.nth(5).getAttribute('href')) ?? '';
    const date = new URL(target, portal.baseUrl).searchParams.get('date') ?? '';
    await page.getByLabel('Another date').fill(date);
    await page.getByRole('button', { name: 'Show times' }).click();
    await page.waitForURL(new RegExp(`date=${date}`));
    await expect.poll(() => dayLinks.nth(5).getAttribute('aria-current')).toBe('date');
    await context.close();
  });
});

describe('dashboard telehealth panel', () => {
  it('links to scheduling from the dashboard', async () => {
    const context = await newContext(browser, false);
    const page = await context.newPage();
    const baseUrl = portal.baseUrl.replace('127.0.0.1', 'localhost');
    await signInThroughPages(page, baseUrl, demoPatient(2).email, portal.baseUrl);

    const panel = page.getByRole('region', { name: 'Telehealth' });
    await expect.poll(() => panel.textContent()).toMatch(/next video visit|no upcoming visits/);
    await panel.getByRole('link', { name: 'All video visits' }).click();
    await page.getByRole('heading', { level: 1, name: 'Video visits' }).waitFor();
    await context.close();
  });
});
