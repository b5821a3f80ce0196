import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ROOT_DATA_MAX_AGE_MS } from '../../app/root-revalidation';

import { demoPatient } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';
import { SandboxFhir } from '../support/sandbox-fhir';

import { launchChromium, newContext, signInThroughPages, waitForHydration } from './browser';

/** Loaders a `.data` GET without `_routes` runs: every loader of the page. */
const EVERY_LOADER = 'every loader';

/** A `.data` request of React Router's single fetch, with the loaders it requests. */
interface DataRequest {
  method: string;
  pathname: string;
  routes: string[] | typeof EVERY_LOADER;
}

let portal: PortalServer;
let browser: Browser;
let baseUrl: string;

beforeAll(async () => {
  // The test runs the notification jobs itself, when it needs a notice.
  portal = await startPortalServer({ NOTIFICATION_WORKER: 'off' });
  browser = await launchChromium();
  baseUrl = portal.baseUrl.replace('127.0.0.1', 'localhost');
});

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
});

/** Starts logging the page's `.data` requests. `take()` returns and clears the log. */
function logDataRequests(page: Page): { take(): DataRequest[] } {
  let log: DataRequest[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (!url.pathname.endsWith('.data')) return;
    const routes = url.searchParams.get('_routes');
    log.push({
      method: request.method(),
      pathname: url.pathname,
      routes: routes ? routes.split(',') : EVERY_LOADER,
    });
  });
  return {
    take() {
      const recorded = log;
      log = [];
      return recorded;
    },
  };
}

/**
 * Signs the patient in, waits for hydration and fixes the page's clock at the current time, so
 * the root loader's data does not age until the test moves the clock.
 */
async function openDashboard(page: Page, patientIndex: number): Promise<Date> {
  await signInThroughPages(page, baseUrl, demoPatient(patientIndex).email, portal.baseUrl);
  await waitForHydration(page);
  const now = new Date();
  await page.clock.setFixedTime(now);
  return now;
}

async function openFromHeader(page: Page, link: RegExp, heading: string | RegExp): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

async function runNotificationJobs(): Promise<{ messagesReceived: number }> {
  const response = await fetch(`${portal.baseUrl}/sandbox/jobs/run`, { method: 'POST' });
  expect(response.status).toBe(200);
  return (await response.json()) as { messagesReceived: number };
}

async function unreadCount(page: Page): Promise<number> {
  const link = page.getByRole('navigation', { name: 'Main' }).getByRole('link', {
    name: /^Notifications/,
  });
  return Number(/(\d+) unread/.exec((await link.textContent()) ?? '')?.[1] ?? 0);
}

describe('route revalidation', () => {
  it('skips the root loader between signed-in pages', async () => {
    const context = await newContext(browser, true);
    const page = await context.newPage();
    const start = await openDashboard(page, 0);
    const requests = logDataRequests(page);

    await openFromHeader(page, /^Prescriptions$/, 'Prescriptions');
    expect(requests.take()).toEqual([
      { method: 'GET', pathname: '/prescriptions.data', routes: ['routes/prescriptions'] },
    ]);

    await openFromHeader(page, /^Video visits$/, 'Video visits');
    expect(requests.take()).toEqual([
      { method: 'GET', pathname: '/scheduling.data', routes: ['routes/scheduling'] },
    ]);

    await page.clock.setFixedTime(new Date(start.getTime() + ROOT_DATA_MAX_AGE_MS));
    await openFromHeader(page, /^Profile$/, 'Your profile');
    expect(requests.take()).toEqual([
      { method: 'GET', pathname: '/profile.data', routes: EVERY_LOADER },
    ]);
    await context.close();
  });

  it('updates the header count after mark-read', async () => {
    const context = await newContext(browser, true);
    const page = await context.newPage();
    await openDashboard(page, 0);
    const before = await unreadCount(page);
    expect(before).toBeGreaterThan(0);
    await openFromHeader(page, /^Notifications/, 'Notifications');
    const requests = logDataRequests(page);

    await page
      .getByRole('button', { name: /^Mark as read/ })
      .first()
      .click();
    await expect.poll(() => unreadCount(page)).toBe(before - 1);
    expect(requests.take()).toEqual([
      { method: 'POST', pathname: '/notifications.data', routes: EVERY_LOADER },
      { method: 'GET', pathname: '/notifications.data', routes: EVERY_LOADER },
    ]);
    await context.close();
  });

  it('updates the header count after leaving Messages', async () => {
    const patient = demoPatient(1);
    const fhir = new SandboxFhir(portal.baseUrl);
    // The first run starts the message sweep, which then notifies only of messages written later.
    await runNotificationJobs();
    await fhir.create({
      resourceType: 'Communication',
      status: 'completed',
      sender: { reference: 'Practitioner/demo-dr-okafor' },
      recipient: [{ reference: `Patient/${patient.id}` }],
      sent: new Date().toISOString(),
      payload: [{ contentString: 'Your lab results are in.' }],
    });
    expect((await runNotificationJobs()).messagesReceived).toBe(1);

    const context = await newContext(browser, true);
    const page = await context.newPage();
    await openDashboard(page, 1);
    const before = await unreadCount(page);
    expect(before).toBeGreaterThan(0);
    const requests = logDataRequests(page);

    // Opening the conversation marks the reply and its notice read.
    await openFromHeader(page, /^Messages$/, 'Messages');
    expect(requests.take()).toEqual([
      { method: 'GET', pathname: '/messages.data', routes: ['routes/messages'] },
    ]);

    await openFromHeader(page, /^Dashboard$/, /^Hello/);
    expect(requests.take()).toEqual([
      { method: 'GET', pathname: '/_root.data', routes: EVERY_LOADER },
    ]);
    await expect.poll(() => unreadCount(page)).toBe(before - 1);
    await context.close();
  });

  it('reloads only the conversation after a send', async () => {
    const context = await newContext(browser, true);
    const page = await context.newPage();
    await openDashboard(page, 2);
    await openFromHeader(page, /^Messages$/, 'Messages');
    await waitForHydration(page);
    const requests = logDataRequests(page);

    const text = `Can I take it at night? ${Math.random().toString(36).slice(2, 8)}`;
    const box = page.getByRole('textbox', { name: 'Your message' });
    await box.fill(text);
    await page.getByRole('button', { name: 'Send message' }).click();
    await page
      .getByRole('list', { name: 'Conversation with your care team' })
      .getByRole('listitem')
      .filter({ hasText: text })
      .and(page.locator(':not([aria-busy="true"])'))
      .waitFor();
    await expect.poll(() => box.inputValue()).toBe('');

    expect(requests.take()).toEqual([
      { method: 'POST', pathname: '/messages.data', routes: EVERY_LOADER },
      { method: 'GET', pathname: '/messages.data', routes: ['routes/messages'] },
    ]);
    await context.close();
  });
});
