/**
 * A Chromium page signed in to the bench portal, and a log of every request it makes, for the
 * sections that count what a page requests from the server. Uses the browser tests' Debian Chromium
 * and their loopback-only context.
 */
import type { Browser, BrowserContext, Page, Request as PlaywrightRequest } from 'playwright-core';

import { launchChromium, newContext, waitForHydration } from '../tests/browser/browser';

import type { BenchPortal } from './bench-portal';

export interface BenchPage {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** The portal's address with `localhost`, a secure context that keeps the `__Host-` cookie. */
  baseUrl: string;
  /** The session's Cookie header, for requests the section makes outside the browser. */
  cookieHeader: string;
  /** Every request the page made since it opened, in order. */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface RecordedRequest {
  method: string;
  url: URL;
  /** Chromium's resource type: document, script, fetch, stylesheet and so on. */
  resourceType: string;
  request: PlaywrightRequest;
}

export interface OpenPageOptions {
  /** Installs Playwright's fake clock before the page loads, so the section can move time. */
  fakeClock?: boolean;
}

/**
 * Signs `email` in, gives its session cookie to a new loopback-only context and opens `path` in
 * it, waiting until React has hydrated the page.
 */
export async function openSignedInPage(
  bench: BenchPortal,
  email: string,
  path: string,
  options: OpenPageOptions = {},
): Promise<BenchPage> {
  const baseUrl = bench.portal.baseUrl.replace('127.0.0.1', 'localhost');
  const cookieHeader = await bench.signIn(email);

  const browser = await launchChromium();
  try {
    const context = await newContext(browser, true);
    await context.addCookies(
      parseCookieHeader(cookieHeader).map(({ name, value }) => ({
        name,
        value,
        domain: 'localhost',
        path: '/',
        secure: true,
        httpOnly: true,
        sameSite: 'Lax' as const,
      })),
    );
    if (options.fakeClock) await context.clock.install();

    const page = await context.newPage();
    const requests: RecordedRequest[] = [];
    page.on('request', (request) => {
      requests.push({
        method: request.method(),
        url: new URL(request.url()),
        resourceType: request.resourceType(),
        request,
      });
    });

    const response = await page.goto(`${baseUrl}${path}`);
    if (response?.status() !== 200) {
      throw new Error(`Opening ${path} signed in returned ${response?.status() ?? 'no response'}.`);
    }
    await waitForHydration(page);
    return {
      browser,
      context,
      page,
      baseUrl,
      cookieHeader,
      requests,
      close: () => browser.close(),
    };
  } catch (error) {
    await browser.close();
    throw error;
  }
}

function parseCookieHeader(header: string): { name: string; value: string }[] {
  return header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.includes('='))
    .map((pair) => {
      const separator = pair.indexOf('=');
      return { name: pair.slice(0, separator), value: pair.slice(separator + 1) };
    });
}
