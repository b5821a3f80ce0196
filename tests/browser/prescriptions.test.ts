import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FIXTURE_PATIENT } from '../../sandbox/demo-data';
import { demoPatient } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';

import {
  assertNoAxeViolations,
  JAVASCRIPT_MODES,
  launchChromium,
  newContext,
  signInThroughPages,
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

describe.each(JAVASCRIPT_MODES)('prescriptions $name', ({ javaScriptEnabled }) => {
  it('lists, filters and passes axe', async () => {
    const context = await newContext(browser, javaScriptEnabled);
    const page = await context.newPage();
    const baseUrl = portal.baseUrl.replace('127.0.0.1', 'localhost');
    await signInThroughPages(page, baseUrl, FIXTURE_PATIENT.email, portal.baseUrl);

    await page.getByRole('link', { name: 'Prescriptions' }).first().click();
    await page.getByRole('heading', { level: 1, name: 'Prescriptions' }).waitFor();
    // With JavaScript the list renders after client navigation, so the count is polled.
    await expect.poll(() => page.getByRole('article').count()).toBe(20);
    await assertNoAxeViolations(page, javaScriptEnabled);

    await page
      .getByRole('navigation', { name: 'Pages of prescriptions' })
      .getByRole('link', { name: 'Next page' })
      .click();
    await page.waitForURL(/page=2/);
    await expect
      .poll(() => page.getByText('Showing 21 to 40 of 40 prescriptions.').count())
      .toBe(1);
    await expect.poll(() => page.getByRole('article').count()).toBe(20);

    await page
      .getByRole('navigation', { name: 'Filter by status' })
      .getByRole('link', { name: /^On hold/ })
      .click();
    await page.waitForURL(/status=on-hold/);
    await expect.poll(() => page.getByRole('article').count()).toBe(5);
    await assertNoAxeViolations(page, javaScriptEnabled);

    await context.close();
  });

  it('shows the dashboard treatment and the profile', async () => {
    const patient = demoPatient(javaScriptEnabled ? 1 : 2);
    const context = await newContext(browser, javaScriptEnabled);
    const page = await context.newPage();
    const baseUrl = portal.baseUrl.replace('127.0.0.1', 'localhost');
    await signInThroughPages(page, baseUrl, patient.email, portal.baseUrl);

    const treatment = page.getByRole('region', { name: 'Active treatment' });
    await expect.poll(() => treatment.textContent()).toMatch(/Next refill:/);

    await page.getByRole('link', { name: 'Profile' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your profile' }).waitFor();
    expect(await page.getByText(patient.email).isVisible()).toBe(true);
    await assertNoAxeViolations(page, javaScriptEnabled);

    await context.close();
  });
});
