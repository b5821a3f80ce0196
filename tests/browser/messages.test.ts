import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MESSAGES_PER_PAGE } from '../../app/messages/conversation-window';
import { demoPatient } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';
import { setSandboxFault } from '../support/sandbox-control';
import { SandboxFhir } from '../support/sandbox-fhir';

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
let fhir: SandboxFhir;

beforeAll(async () => {
  portal = await startPortalServer();
  browser = await launchChromium();
  fhir = new SandboxFhir(portal.baseUrl);
});

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
});

function uniqueText(label: string): string {
  return `${label} ${Math.random().toString(36).slice(2, 10)}`;
}

const setFhirFault = (settings: Record<string, unknown> | null) =>
  setSandboxFault(portal.baseUrl, 'fhir', settings);

async function openMessages(
  page: Page,
  patientIndex: number,
  javaScriptEnabled: boolean,
): Promise<void> {
  const baseUrl = portal.baseUrl.replace('127.0.0.1', 'localhost');
  await signInThroughPages(page, baseUrl, demoPatient(patientIndex).email, portal.baseUrl);
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Messages' })
    .click();
  await page.getByRole('heading', { level: 1, name: 'Messages' }).waitFor();
  if (javaScriptEnabled) await waitForHydration(page);
}

function messageBox(page: Page) {
  return page.getByRole('textbox', { name: 'Your message' });
}

function conversation(page: Page) {
  return page.getByRole('list', { name: 'Conversation with your care team' });
}

describe.each(JAVASCRIPT_MODES)('messages $name', ({ javaScriptEnabled }) => {
  // Ava with JavaScript, Marcus without, so each sign-in stays under the per-email code limit.
  const patientIndex = javaScriptEnabled ? 0 : 1;

  it('sends a message, shows it in the conversation and passes axe', async () => {
    const context = await newContext(browser, javaScriptEnabled);
    const page = await context.newPage();
    await openMessages(page, patientIndex, javaScriptEnabled);
    await assertNoAxeViolations(page, javaScriptEnabled);

    const text = uniqueText('Can I split the tablet in half?');
    await messageBox(page).fill(text);
    await page.getByRole('button', { name: 'Send message' }).click();

    await conversation(page).getByText(text).waitFor();
    await expect.poll(() => messageBox(page).inputValue()).toBe('');
    await assertNoAxeViolations(page, javaScriptEnabled);
    await context.close();
  });

  it('keeps the draft and shows the error when sending fails', async () => {
    const context = await newContext(browser, javaScriptEnabled);
    const page = await context.newPage();
    await openMessages(page, patientIndex, javaScriptEnabled);

    const text = uniqueText('My package has not arrived.');
    await setFhirFault({ errorRate: 1, errorStatus: 503, methods: ['POST'] });
    try {
      await messageBox(page).fill(text);
      await page.getByRole('button', { name: 'Send message' }).click();
      await page.getByText('Your message was not sent').waitFor();
      expect(await messageBox(page).inputValue()).toBe(text);
      expect(await conversation(page).getByText(text).count()).toBe(0);
      await assertNoAxeViolations(page, javaScriptEnabled);
    } finally {
      await setFhirFault(null);
    }

    await page.getByRole('button', { name: 'Send message' }).click();
    // The stored message has an id; the pending copy shown while it is sent has none.
    await conversation(page).locator('li[id^="message-"]').getByText(text).waitFor();
    await expect.poll(() => page.getByText('Your message was not sent').count()).toBe(0);
    expect(await conversation(page).getByText(text).count()).toBe(1);
    await context.close();
  });

  it('shows earlier messages and keeps the draft', async () => {
    const context = await newContext(browser, javaScriptEnabled);
    const page = await context.newPage();
    await openMessages(page, 2, javaScriptEnabled);
    // A full page load would drop this marker, but with JavaScript the link navigates in place.
    if (javaScriptEnabled) {
      await page.evaluate(() => Object.assign(window, { pageMarker: 'still here' }));
    }
    const shownMessages = conversation(page).locator('li[id^="message-"]');
    const earlier = page.getByRole('navigation', { name: 'Earlier messages' });
    expect(await shownMessages.count()).toBe(MESSAGES_PER_PAGE);
    const hiddenBefore = Number(
      /(\d+) earlier messages are hidden/.exec(await earlier.innerText())?.[1],
    );
    expect(hiddenBefore).toBeGreaterThan(MESSAGES_PER_PAGE);
    const draft = 'Can my next refill ship a week early?';
    await messageBox(page).fill(draft);

    await earlier.getByRole('button', { name: 'Show earlier messages' }).click();

    await expect.poll(() => shownMessages.count()).toBe(2 * MESSAGES_PER_PAGE);
    expect(new URL(page.url()).search).toBe(`?show=${2 * MESSAGES_PER_PAGE}`);
    await earlier
      .getByText(`${hiddenBefore - MESSAGES_PER_PAGE} earlier messages are hidden.`)
      .waitFor();
    expect(await messageBox(page).inputValue()).toBe(draft);
    if (javaScriptEnabled) {
      expect(
        await page.evaluate(() => (window as unknown as { pageMarker?: string }).pageMarker),
      ).toBe('still here');
    }
    await assertNoAxeViolations(page, javaScriptEnabled);
    await context.close();
  });

  it('keeps a failed draft and its key', async () => {
    const context = await newContext(browser, javaScriptEnabled);
    const page = await context.newPage();
    await openMessages(page, 2, javaScriptEnabled);
    const pageKey = page.locator(`#compose-form input[name="idempotencyKey"]`);
    const text = uniqueText('Is my dose changing next month?');

    await setFhirFault({ errorRate: 1, errorStatus: 503, methods: ['POST'] });
    let failedKey: string;
    try {
      await messageBox(page).fill(text);
      await page.getByRole('button', { name: 'Send message' }).click();
      await page.getByText('Your message was not sent').waitFor();
      failedKey = await pageKey.inputValue();
    } finally {
      await setFhirFault(null);
    }
    await page
      .getByRole('navigation', { name: 'Earlier messages' })
      .getByRole('button', { name: 'Show earlier messages' })
      .click();

    await expect.poll(() => new URL(page.url()).search).toBe(`?show=${2 * MESSAGES_PER_PAGE}`);
    await expect
      .poll(() => conversation(page).locator('li[id^="message-"]').count())
      .toBe(2 * MESSAGES_PER_PAGE);
    expect(await messageBox(page).inputValue()).toBe(text);
    // The resend keeps the failed send's key, so it cannot store the message twice.
    expect(await pageKey.inputValue()).toBe(failedKey);

    await page.getByRole('button', { name: 'Send message' }).click();
    await conversation(page).locator('li[id^="message-"]').getByText(text).waitFor();
    expect(await conversation(page).getByText(text).count()).toBe(1);
    await context.close();
  });
});

describe('messages with JavaScript', () => {
  it('shows the message at once as pending while it is sent', async () => {
    const context = await newContext(browser, true);
    const page = await context.newPage();
    await openMessages(page, 2, true);

    const text = uniqueText('Should I take it with breakfast?');
    await setFhirFault({ latencyMs: 1500, methods: ['POST'] });
    try {
      await messageBox(page).fill(text);
      await page.getByRole('button', { name: 'Send message' }).click();
      const pending = conversation(page).getByRole('listitem').filter({ hasText: 'Sending…' });
      await pending.getByText(text).waitFor();
      expect(await page.getByRole('button', { name: 'Sending…' }).isDisabled()).toBe(true);
    } finally {
      await setFhirFault(null);
    }
    await conversation(page).locator('li[id^="message-"]').getByText(text).waitFor();
    await context.close();
  });

  it('shows a practitioner reply from the poll without a reload', async () => {
    const context = await newContext(browser, true);
    const page = await context.newPage();
    await openMessages(page, 0, true);
    // A reload would drop this marker.
    await page.evaluate(() => Object.assign(window, { pageMarker: 'still here' }));

    const text = uniqueText('I have sent a new prescription to the pharmacy.');
    await fhir.create({
      resourceType: 'Communication',
      status: 'completed',
      sender: { reference: 'Practitioner/demo-dr-okafor' },
      recipient: [{ reference: 'Patient/demo-ava' }],
      sent: new Date().toISOString(),
      payload: [{ contentString: text }],
    });

    // The poll runs every 15 seconds.
    await conversation(page).getByText(text).waitFor({ timeout: 25_000 });
    expect(
      await page.evaluate(() => (window as unknown as { pageMarker?: string }).pageMarker),
    ).toBe('still here');
    await assertNoAxeViolations(page, true);
    await context.close();
  }, 60_000);
});
