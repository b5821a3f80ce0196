/**
 * Route loaders that React Router requests from the server, in Chromium, as a patient moves between
 * pages, sends a message, books a visit and marks a notification read. Each step counts the
 * `.data` requests and the loaders they name in `_routes`, against the loaders React Router 7
 * runs by default, and checks that the page shows the change.
 */
import type { Page } from 'playwright-core';

import { demoPatient } from '../tests/support/patient-client';
import { countUpstreamRequests } from '../tests/support/sandbox-control';

import { openSignedInPage, type BenchPage } from './bench-browser';
import type { BenchPortal } from './bench-portal';
import type { BenchSection } from './report';

/** Moves the page's clock past the root data's maximum age (app/root-revalidation.ts). */
const ROOT_DATA_AGE_STEP_MS = 61_000;

interface StepResult {
  step: string;
  /** `.data` requests: one per navigation or revalidation, one per form or fetcher action. */
  dataRequests: number;
  /** Loader runs the server was asked for. */
  loaderRuns: string[];
  /** Loader runs React Router 7 requests when no route has a `shouldRevalidate`. */
  defaultLoaderRuns: string[];
  /** Calls the sandbox's FHIR server counted during the step, token requests left out. */
  fhirCalls: number;
  /** Result of the step's check of the page, or the failure. */
  check: string;
  failed: boolean;
}

export async function measureRevalidation(bench: BenchPortal): Promise<BenchSection> {
  const tab = await openSignedInPage(bench, demoPatient(0).email, '/');
  const countFhirCalls = () => countUpstreamRequests(bench.upstreams.baseUrl, 'fhir');
  const recordStep = (step: string, act: () => Promise<string>) =>
    measureStep(tab, countFhirCalls, step, act);
  try {
    // A fixed clock, so that the root loader's data does not age until the last step.
    const start = new Date();
    await tab.page.clock.setFixedTime(start);
    const results: StepResult[] = [];
    const navigate = async (link: string, heading: string | RegExp) =>
      results.push(
        await recordStep(`open ${link}`, async () => {
          // The Notifications link's name ends with the unread count.
          await mainNavigation(tab.page)
            .getByRole('link', { name: new RegExp(`^${link}`) })
            .click();
          await tab.page.getByRole('heading', { level: 1, name: heading }).waitFor();
          return `shows ${link}`;
        }),
      );

    await navigate('Prescriptions', 'Prescriptions');
    await navigate('Shipments', /Shipments/);
    await navigate('Messages', 'Messages');
    results.push(await recordStep('send a message', () => sendMessage(tab.page)));
    await navigate('Video visits', 'Video visits');
    results.push(await recordStep('show another day', () => chooseDay(tab.page)));
    results.push(await recordStep('choose a time', () => chooseTime(tab.page)));
    results.push(await recordStep('book the visit', () => bookVisit(tab.page)));
    await navigate('Notifications', 'Notifications');
    results.push(await recordStep('mark one read', () => markOneRead(tab.page)));
    await navigate('Profile', 'Your profile');
    await tab.page.clock.setFixedTime(new Date(start.getTime() + ROOT_DATA_AGE_STEP_MS));
    await navigate('Dashboard', /^Hello/);

    return buildSection(results);
  } finally {
    await tab.close();
  }
}

function mainNavigation(page: Page) {
  return page.getByRole('navigation', { name: 'Main' });
}

/**
 * Runs one step and returns the `.data` requests it made. The loaders a request without
 * `_routes` runs are all the loaders of the page it loads, read from the router afterwards.
 */
async function measureStep(
  tab: BenchPage,
  countFhirCalls: () => Promise<number>,
  step: string,
  act: () => Promise<string>,
): Promise<StepResult> {
  const firstRequest = tab.requests.length;
  const fhirBefore = await countFhirCalls();
  let check: string;
  let failed = false;
  try {
    check = await act();
    await tab.page.waitForLoadState('networkidle');
  } catch (error) {
    check = `failed: ${(error as Error).message.split('\n')[0] ?? ''}`;
    failed = true;
  }
  const pageLoaders = await matchedLoaders(tab.page);
  const fhirCalls = (await countFhirCalls()) - fhirBefore;

  const dataRequests = tab.requests
    .slice(firstRequest)
    .filter((request) => request.url.pathname.endsWith('.data'));
  const loaderRuns: string[] = [];
  const defaultLoaderRuns: string[] = [];
  for (const request of dataRequests) {
    // A POST runs the action; React Router then revalidates with a GET of its own.
    if (request.method !== 'GET') continue;
    const routes = request.url.searchParams.get('_routes');
    loaderRuns.push(...(routes ? routes.split(',') : pageLoaders));
    defaultLoaderRuns.push(...pageLoaders);
  }
  return {
    step,
    dataRequests: dataRequests.length,
    loaderRuns,
    defaultLoaderRuns,
    fhirCalls,
    check,
    failed,
  };
}

/** Ids of the routes that match the page's URL and have a loader, root first. */
function matchedLoaders(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const routerWindow = window as unknown as {
      __reactRouterDataRouter: { state: { matches: { route: { id: string } }[] } };
      __reactRouterManifest: { routes: Record<string, { hasLoader?: boolean }> };
    };
    const { routes } = routerWindow.__reactRouterManifest;
    return routerWindow.__reactRouterDataRouter.state.matches
      .map((match) => match.route.id)
      .filter((id) => routes[id]?.hasLoader === true);
  });
}

async function sendMessage(page: Page): Promise<string> {
  const text = `Is it fine to take it with food? (${Math.random().toString(36).slice(2, 8)})`;
  const box = page.getByRole('textbox', { name: 'Your message' });
  await box.fill(text);
  await page.getByRole('button', { name: 'Send message' }).click();
  // The page shows the text at once as pending, and as a message once the loader has it.
  const sent = page
    .getByRole('list', { name: 'Conversation with your care team' })
    .getByRole('listitem')
    .filter({ hasText: text })
    .and(page.locator(':not([aria-busy="true"])'));
  await sent.waitFor();
  await page.waitForFunction(
    () => document.querySelector<HTMLTextAreaElement>('#message-text')?.value === '',
  );
  return 'the sent message is in the conversation';
}

async function chooseDay(page: Page): Promise<string> {
  await page
    .getByRole('navigation', { name: 'Choose a day' })
    .getByRole('link', { name: /^Wed,/ })
    .first()
    .click();
  await page.getByRole('heading', { name: /^Open times on Wed,/ }).waitFor();
  return 'shows the times of that day';
}

async function chooseTime(page: Page): Promise<string> {
  await page
    .getByRole('region', { name: /^Open times on/ })
    .getByRole('link')
    .nth(2)
    .click();
  await page.getByRole('button', { name: 'Book this visit' }).waitFor();
  return 'asks to confirm the time';
}

async function bookVisit(page: Page): Promise<string> {
  const before = await unreadBadge(page);
  await page.getByRole('button', { name: 'Book this visit' }).click();
  await page.getByText('Your video visit is booked.').waitFor();
  const after = await waitForBadgeChange(page, before);
  return `visit booked; header's unread count ${before} → ${after}`;
}

async function markOneRead(page: Page): Promise<string> {
  const before = await unreadBadge(page);
  const status = page.getByRole('main').getByRole('status').first();
  const statusBefore = (await status.textContent()) ?? '';
  await page
    .getByRole('button', { name: /^Mark as read/ })
    .first()
    .click();
  const after = await waitForBadgeChange(page, before);
  if (after !== before - 1) throw new Error(`the header's unread count went ${before} → ${after}`);
  if ((await status.textContent()) === statusBefore) throw new Error('the page kept its count');
  return `header's unread count ${before} → ${after}`;
}

/** Returns the number in the header's Notifications link, 0 when it shows none. */
async function unreadBadge(page: Page): Promise<number> {
  const link = mainNavigation(page).getByRole('link', { name: /^Notifications/ });
  const text = (await link.textContent()) ?? '';
  const match = /(\d+)\s*unread/.exec(text);
  return match ? Number(match[1]) : 0;
}

async function waitForBadgeChange(page: Page, before: number): Promise<number> {
  const deadline = Date.now() + 5_000;
  let after = await unreadBadge(page);
  while (after === before && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    after = await unreadBadge(page);
  }
  if (after === before) throw new Error(`the header's unread count stayed at ${before}`);
  return after;
}

function buildSection(results: StepResult[]): BenchSection {
  const rows = results.map((result) => ({
    step: result.step,
    '.data requests': result.dataRequests,
    'loaders run': result.loaderRuns.length,
    'by default': result.defaultLoaderRuns.length,
    'loaders skipped': describeSkipped(result) || '-',
    'FHIR calls': result.fhirCalls,
    'the page afterwards': result.check,
  }));
  const total = (pick: (result: StepResult) => number) =>
    results.reduce((sum, result) => sum + pick(result), 0);
  rows.push({
    step: 'all steps',
    '.data requests': total((result) => result.dataRequests),
    'loaders run': total((result) => result.loaderRuns.length),
    'by default': total((result) => result.defaultLoaderRuns.length),
    'loaders skipped': '',
    'FHIR calls': total((result) => result.fhirCalls),
    'the page afterwards': '',
  });

  return {
    title: 'Route revalidation',
    method: METHOD,
    rows,
    notes: notesText(results),
    failures: results
      .filter((result) => result.failed)
      .map((result) => `${result.step}: ${result.check}`),
  };
}

/** Route ids the default would have run that this step did not, with how often. */
function describeSkipped(result: StepResult): string {
  const remaining = [...result.loaderRuns];
  const skipped: string[] = [];
  for (const id of result.defaultLoaderRuns) {
    const index = remaining.indexOf(id);
    if (index >= 0) remaining.splice(index, 1);
    else skipped.push(id);
  }
  return skipped.join(', ');
}

const METHOD = `
\`bench/revalidation.ts\` signs a sandbox patient in, opens the dashboard in Debian's Chromium
(headless, loopback only) and walks through the portal with the header's links and the pages'
own forms: three pages, a message send, booking a video visit, marking a notification read, and
the profile. The page's clock is fixed, as for a patient who opens each page within a minute of
the last root load, and moved on ${ROOT_DATA_AGE_STEP_MS / 1000} s before the last step. For
each step it counts the \`.data\` requests (React Router's single fetch: one per navigation or
revalidation, one per action) and the loaders each one runs: those named in \`_routes\`, or,
without it, every loader of the page. "By default" is every loader of the page for each
revalidating request, which is what React Router 7 runs when no route has a
\`shouldRevalidate\`. Each step also checks what the page shows afterwards; a failed check fails
the run.
`;

function notesText(results: StepResult[]): string {
  const countRoot = (runs: (result: StepResult) => string[]) =>
    results.reduce((sum, result) => sum + runs(result).filter((id) => id === 'root').length, 0);
  const send = results.find((result) => result.step === 'send a message');
  return `
The root loader (sign-in state, unread notification count, session time left) ran
${countRoot((result) => result.loaderRuns)} times where the default runs it
${countRoot((result) => result.defaultLoaderRuns)} times. Each run reads the session and counts the
unread notifications in Postgres, next to the same session read by the page's own loader. It calls
no upstream, so skipping it saves database queries, not requests. It still runs after every form submission except a message send, when the patient leaves Messages
(which marks notices read), for any page outside the signed-in area, and once its data is a
minute old (app/root-revalidation.ts). On 2026-12-05, before that file existed, this script
measured every step at its default: 24 loader runs, 12 of them the root's.

The send's ${send?.fhirCalls ?? 'unknown'} FHIR calls include the create and the Messages loader
reading the whole conversation again, which the page needs for the new message and a fresh
idempotency key. NOTE: the portal's in-process notification jobs call the same sandbox FHIR server
once a minute, so a step that overlaps a sweep counts its calls too.
`;
}
