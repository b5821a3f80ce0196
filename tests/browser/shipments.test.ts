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

/** Collects the URLs of map code (Leaflet or the map module) the page requests. */
function recordMapRequests(page: Page): string[] {
  const requested: string[] = [];
  page.on('request', (request) => {
    const url = request.url();
    if (/leaflet|tracking-map/i.test(url)) requested.push(url);
  });
  return requested;
}

/** Sums the page's layout shifts so far, as Cumulative Layout Shift counts them. */
function totalLayoutShift(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        let total = 0;
        const observer = new PerformanceObserver((list) => {
          for (const entry of list.getEntries())
            total += (entry as unknown as { value: number }).value;
        });
        observer.observe({ type: 'layout-shift', buffered: true });
        // Buffered entries arrive in a task of their own, well within this wait.
        setTimeout(() => {
          observer.disconnect();
          resolve(total);
        }, 200);
      }),
  );
}

describe.each(JAVASCRIPT_MODES)('shipments $name', ({ javaScriptEnabled }) => {
  it('tracks a shipment and passes axe', async () => {
    const context = await newContext(browser, javaScriptEnabled);
    const page = await context.newPage();
    const baseUrl = portal.baseUrl.replace('127.0.0.1', 'localhost');
    const mapRequests = recordMapRequests(page);
    await signInThroughPages(page, baseUrl, demoPatient(1).email, portal.baseUrl);

    for (const path of ['/', '/prescriptions', '/profile', '/shipments']) {
      await page.goto(`${baseUrl}${path}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
    }
    await assertNoAxeViolations(page, javaScriptEnabled);
    expect(mapRequests).toEqual([]);

    await page.getByRole('link', { name: 'Track FedEx 700000000022' }).click();
    await page.getByRole('heading', { level: 1, name: 'Track FedEx 700000000022' }).waitFor();
    await page.getByText('Last known location:').waitFor();
    expect(await page.getByRole('heading', { name: 'Scan history' }).isVisible()).toBe(true);

    const mapSpaceHeight = () =>
      page.locator('.tracking-map-space').evaluate((space) => space.getBoundingClientRect().height);
    if (javaScriptEnabled) {
      await page.locator('.leaflet-container').waitFor();
      expect(mapRequests.length).toBeGreaterThan(0);
      // The server renders the map's space, so nothing moves when the map appears.
      expect(await totalLayoutShift(page)).toBe(0);
    } else {
      expect(await page.locator('.leaflet-container').count()).toBe(0);
      expect(mapRequests).toEqual([]);
      expect(await mapSpaceHeight()).toBe(0);
    }
    await assertNoAxeViolations(page, javaScriptEnabled);
    await context.close();
  });
});
