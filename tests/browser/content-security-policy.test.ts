import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { demoPatient } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';

import { launchChromium, newContext, signInThroughPages, waitForHydration } from './browser';

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

/**
 * Collects the console reports of anything the page's Content-Security-Policy blocked, and of
 * hydration mismatches, which a nonce rendered differently on server and client would cause.
 */
function recordPolicyViolations(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|hydrat|did not match/i.test(message.text())) {
      violations.push(message.text());
    }
  });
  page.on('pageerror', (error) => violations.push(`page error: ${error.message}`));
  return violations;
}

describe('Content-Security-Policy in Chromium', () => {
  it('hydrates every page without violations', async () => {
    const context = await newContext(browser, true);
    const page = await context.newPage();
    const violations = recordPolicyViolations(page);
    const baseUrl = portal.baseUrl.replace('127.0.0.1', 'localhost');
    await signInThroughPages(page, baseUrl, demoPatient(1).email, portal.baseUrl);

    for (const path of [
      '/',
      '/prescriptions',
      '/shipments',
      '/shipments/track/700000000022',
      '/messages',
      '/scheduling',
      '/notifications',
      '/profile',
    ]) {
      await page.goto(`${baseUrl}${path}`);
      await waitForHydration(page);
    }
    // The map loads its tiles from the sandbox (MAP_TILE_URL's default outside production).
    await page.goto(`${baseUrl}/shipments/track/700000000022`);
    await page.locator('.leaflet-tile').first().waitFor({ state: 'attached' });
    expect(violations).toEqual([]);
    await context.close();
  });

  it('blocks an injected inline script', async () => {
    const context = await newContext(browser, true);
    const page = await context.newPage();
    const violations = recordPolicyViolations(page);
    const loginUrl = `${portal.baseUrl.replace('127.0.0.1', 'localhost')}/login`;
    // What stored cross-site scripting would look like: a script in the served HTML, with the
    // portal's own policy header.
    await page.route(loginUrl, async (route) => {
      const response = await route.fetch();
      const html = await response.text();
      await route.fulfill({
        response,
        body: html.replace('</main>', '<script>window.injectedScriptRan = true;</script></main>'),
      });
    });
    await page.goto(loginUrl);
    await waitForHydration(page);

    const ran = await page.evaluate(
      () => (window as unknown as { injectedScriptRan?: boolean }).injectedScriptRan === true,
    );
    expect(ran).toBe(false);
    expect(violations.some((text) => text.includes('script-src'))).toBe(true);
    await context.close();
  });
});
