import AxeBuilder from '@axe-core/playwright';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Page,
  type Request as PlaywrightRequest,
} from 'playwright-core';
import { expect } from 'vitest';

import { readSignInCode } from '../support/patient-client';
import { recordSensitiveValue, recordSentFields } from '../support/portal-logs';

/** Debian's Chromium; browser tests never download a browser of their own. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that keep Chromium from reaching for hosts this machine cannot and must not reach. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

export const JAVASCRIPT_MODES = [
  { name: 'with JavaScript', javaScriptEnabled: true },
  { name: 'without JavaScript', javaScriptEnabled: false },
] as const;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Opens a phone-sized context whose requests may reach only loopback: anything else, such as
 * map tiles, is aborted, so browser tests never send traffic to another host.
 */
export async function newContext(
  browser: Browser,
  javaScriptEnabled: boolean,
): Promise<BrowserContext> {
  const context = await browser.newContext({
    javaScriptEnabled,
    viewport: { width: 390, height: 844 },
  });
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    const local = url.protocol === 'data:' || LOOPBACK_HOSTS.has(url.hostname);
    await (local ? route.continue() : route.abort('blockedbyclient'));
  });
  // The request event, unlike route, also fires for each hop of a redirect, such as Canvas's
  // redirect to the callback with the authorization code.
  context.on('request', recordSentValues);
  context.on('response', (response) => {
    // NOTE: a response that arrives as the context closes can lose its cookies here. The log
    // scan also matches any JWT, so a session token is found even when it was not recorded.
    response.headerValue('set-cookie').then(recordSetCookies, () => undefined);
  });
  return context;
}

/** Records the query and form fields a page sends that the log scan looks for. */
function recordSentValues(request: PlaywrightRequest): void {
  const fields = [...new URL(request.url()).searchParams];
  const body = request.postData();
  if (body && request.headers()['content-type']?.startsWith('application/x-www-form-urlencoded')) {
    fields.push(...new URLSearchParams(body));
  }
  recordSentFields('the browser', fields);
}

function recordSetCookies(header: string | null): void {
  for (const cookie of header?.split('\n') ?? []) {
    const [pair = ''] = cookie.split(';');
    const separator = pair.indexOf('=');
    // remix-auth-oauth2 names its state cookie `<name>:<random id>`.
    const name = pair.slice(0, separator).split(':')[0];
    recordSensitiveValue(`cookie ${name}`, 'token', pair.slice(separator + 1));
  }
}

/**
 * Fails with the list of rules when axe finds any WCAG 2.1 A or AA violation on the page.
 *
 * axe runs as a script in the page, which a context without JavaScript never executes. For such
 * a page the check runs on a copy of its current HTML, without scripts, in a scratch context
 * with JavaScript on. A `<base>` keeps the stylesheets loading, so contrast is judged as shown.
 */
export async function assertNoAxeViolations(page: Page, javaScriptEnabled: boolean): Promise<void> {
  let target = page;
  let scratch: BrowserContext | undefined;
  if (!javaScriptEnabled) {
    const browser = page.context().browser();
    if (!browser) throw new Error('The page has no browser to open a scratch context in.');
    const html = (await page.content())
      .replace(/<script\b[\s\S]*?<\/script>/gi, '')
      .replace(/<head>/i, `<head><base href="${page.url()}">`);
    scratch = await browser.newContext({
      javaScriptEnabled: true,
      viewport: page.viewportSize() ?? undefined,
    });
    target = await scratch.newPage();
    await target.setContent(html, { waitUntil: 'load' });
  }

  try {
    const results = await new AxeBuilder({ page: target })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
      .analyze();
    const summary = results.violations.map(
      (violation) =>
        `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`,
    );
    expect(summary).toEqual([]);
  } finally {
    await scratch?.close();
  }
}

/**
 * Signs a patient in through the pages and leaves the page on the dashboard. `baseUrl` must use
 * localhost: Chromium keeps the Secure `__Host-` cookie over HTTP only in a secure context.
 */
export async function signInThroughPages(
  page: Page,
  baseUrl: string,
  email: string,
  mailboxUrl: string,
): Promise<void> {
  const since = new Date();
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Email me a code' }).click();
  await page.getByRole('heading', { level: 1, name: 'Enter your code' }).waitFor();

  const code = await readSignInCode(mailboxUrl, email, since);
  await page.getByLabel('6-digit code').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: /^Hello/ }).waitFor();
}

/**
 * Waits until React has hydrated the page, so a click runs the enhanced handler and not a plain
 * form post. React marks each hydrated element with a `__reactFiber` property.
 */
export async function waitForHydration(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const main = document.querySelector('main');
    return main !== null && Object.keys(main).some((key) => key.startsWith('__reactFiber'));
  });
}
