import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';

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

describe.each(JAVASCRIPT_MODES)('Canvas sign-in $name', ({ javaScriptEnabled }) => {
  it('signs in from the magic link and explains a denial', async () => {
    const context = await newContext(browser, javaScriptEnabled);
    const page = await context.newPage();
    const baseUrl = portal.baseUrl.replace('127.0.0.1', 'localhost');

    await page.goto(`${baseUrl}/auth/canvas?login_hint=demo-priya`);
    await page.getByRole('heading', { level: 1, name: /Sign in with Canvas/ }).waitFor();
    await assertNoAxeViolations(page, javaScriptEnabled);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Hello, Priya' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto(`${baseUrl}/auth/canvas?login_hint=demo-priya`);
    await page.getByRole('button', { name: 'Deny' }).click();
    await page
      .getByRole('heading', { level: 1, name: 'Sign-in with Canvas did not finish' })
      .waitFor();
    await assertNoAxeViolations(page, javaScriptEnabled);
    await page.getByRole('link', { name: 'Sign in with your email instead' }).waitFor();
    await context.close();
  });
});
