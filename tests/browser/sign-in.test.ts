import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEMO_PATIENTS } from '../../sandbox/demo-data';
import { readSignInCode } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';

import { assertNoAxeViolations, JAVASCRIPT_MODES, launchChromium, newContext } from './browser';

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

describe.each(JAVASCRIPT_MODES)('sign-in and dashboard $name', ({ javaScriptEnabled }) => {
  it('signs in with the emailed code and greets the patient', async () => {
    const patient = DEMO_PATIENTS[javaScriptEnabled ? 0 : 1];
    if (!patient) throw new Error('The sandbox needs at least two demo patients.');
    const context = await newContext(browser, javaScriptEnabled);
    const page = await context.newPage();
    // localhost is a secure context, so Chromium keeps the Secure `__Host-` cookie over HTTP.
    const baseUrl = portal.baseUrl.replace('127.0.0.1', 'localhost');

    await page.goto(`${baseUrl}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await expect(
      page.getByRole('heading', { level: 1, name: 'Sign in' }).isVisible(),
    ).resolves.toBe(true);
    await assertNoAxeViolations(page, javaScriptEnabled);

    await page.getByLabel('Email address').fill('not an email');
    await page.getByRole('button', { name: 'Email me a code' }).click();
    await page
      .getByRole('alert')
      .getByRole('link', { name: /Enter a valid email address/ })
      .waitFor();
    expect(await page.title()).toBe('Error: Sign in | Patient portal');
    await assertNoAxeViolations(page, javaScriptEnabled);

    const since = new Date();
    await page.getByLabel('Email address').fill(patient.email);
    await page.getByRole('button', { name: 'Email me a code' }).click();
    await page.getByRole('heading', { level: 1, name: 'Enter your code' }).waitFor();
    await assertNoAxeViolations(page, javaScriptEnabled);

    const code = await readSignInCode(portal.baseUrl, patient.email, since);
    await page.getByLabel('6-digit code').fill(code);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.getByRole('heading', { level: 1, name: `Hello, ${patient.givenName}` }).waitFor();
    for (const panel of ['Active treatment', 'Latest shipment', 'Telehealth', 'Notifications']) {
      await expect(page.getByRole('region', { name: panel }).isVisible()).resolves.toBe(true);
    }
    await assertNoAxeViolations(page, javaScriptEnabled);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You have signed out.').waitFor();
    await page.goto(`${baseUrl}/`);
    expect(new URL(page.url()).pathname).toBe('/login');

    await context.close();
  });
});
