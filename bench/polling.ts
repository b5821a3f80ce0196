/**
 * Cost of the Messages page's 15-second poll, measured in Chromium with Playwright's fake
 * clock: HTTP requests per poll, FHIR calls per poll, bytes on the wire with and without a new
 * message, and every request an open tab makes in a simulated hour.
 */
import type { Page, Response as PlaywrightResponse } from 'playwright-core';

import { SESSION_IDLE_SECONDS } from '../app/auth/session-limits';
import { MESSAGE_POLL_INTERVAL_MS } from '../app/messages/use-conversation-poll';
import { demoPatient } from '../tests/support/patient-client';
import { countUpstreamRequests } from '../tests/support/sandbox-control';
import { SandboxFhir } from '../tests/support/sandbox-fhir';

import { openSignedInPage, type BenchPage, type RecordedRequest } from './bench-browser';
import type { BenchPortal } from './bench-portal';
import { weighResponse } from './page-weight';
import { markdownTable, median, verdict, type BenchSection } from './report';

/** Simulated time the Messages tab stays open, in poll intervals: one hour. */
const SIMULATED_POLLS = (60 * 60_000) / MESSAGE_POLL_INTERVAL_MS;
/** Polls that each bring one new reply from the care team. */
const REPLY_POLLS = 3;

/** Maximum HTTP requests the page makes in one poll interval, session checks aside. */
const MAX_REQUESTS_PER_POLL = 1;
/** Maximum FHIR calls of one poll, the median over the polls measured. */
const MAX_FHIR_CALLS_PER_POLL = 1;
/** Maximum bytes on the wire, status line and headers included, of a poll that finds nothing. */
const MAX_QUIET_POLL_BYTES = 1000;
/** Maximum gzip body bytes of a poll that finds nothing. */
const MAX_QUIET_POLL_GZIP_BODY_BYTES = 200;

const POLL_PATH = '/api/patient/messages';
const SESSION_CHECK_PATH = '/api/patient/session';

/** One poll as the browser made it, with what the sandbox's FHIR server saw meanwhile. */
interface PollSample {
  url: string;
  /** Requests to the poll endpoint while the clock moved on by one interval. */
  pollRequests: number;
  /** Session checks by the session warning in the same interval. */
  sessionChecks: number;
  /** Any other request in the interval, such as a route loader or a page. */
  otherRequests: string[];
  fhirCalls: number;
  responseHeaderBytes: number;
  /** The body as sent, after the compression Chromium and the server agreed on. */
  responseBodyBytes: number;
  contentEncoding: string;
  requestBytes: number;
  newMessages: number;
  /**
   * Body bytes of the same URL requested again from Node with `Accept-Encoding: gzip` only, right
   * after the poll; NaN where not measured.
   */
  gzipBodyBytes: number;
}

export async function measurePolling(bench: BenchPortal): Promise<BenchSection> {
  const patient = demoPatient(2);
  const tab = await openSignedInPage(bench, patient.email, '/messages', { fakeClock: true });
  try {
    const countFhirCalls = () => countUpstreamRequests(bench.upstreams.baseUrl, 'fhir');
    const poll = (): Promise<PollSample> => advanceOnePoll(tab, countFhirCalls);

    const gzipBodyBytes = async (sample: PollSample | undefined) => {
      if (!sample) return Number.NaN;
      const url = sample.url.replace(tab.baseUrl, bench.portal.baseUrl);
      return (await weighResponse(url, tab.cookieHeader)).bodyBytes;
    };

    // Timers the page set while loading, such as React Router's look-up of the routes its links
    // lead to, run once the fake clock moves. They belong to the page load, not to the polls.
    await tab.page.clock.runFor(1_000);
    await tab.page.waitForLoadState('networkidle');

    const spanStart = await fakeNow(tab.page);
    const requestsBefore = tab.requests.length;
    const quiet: PollSample[] = [];
    for (let index = 0; index < SIMULATED_POLLS; index++) quiet.push(await poll());
    const spanMs = (await fakeNow(tab.page)) - spanStart;
    const openTab = summarizeOpenTab(tab.requests.slice(requestsBefore), spanMs);
    // Requested again before any reply exists, so the response is the same empty one.
    const largestQuiet = largest(quiet);
    if (largestQuiet) largestQuiet.gzipBodyBytes = await gzipBodyBytes(largestQuiet);

    const fhir = new SandboxFhir(bench.upstreams.baseUrl);
    const replies: PollSample[] = [];
    const missingReplies: number[] = [];
    for (let index = 0; index < REPLY_POLLS; index++) {
      const text = `Your refill is approved (reply ${index + 1} of ${REPLY_POLLS}).`;
      await fhir.create({
        resourceType: 'Communication',
        status: 'completed',
        sender: { reference: 'Practitioner/demo-dr-okafor' },
        recipient: [{ reference: `Patient/${patient.id}` }],
        sent: new Date().toISOString(),
        payload: [{ contentString: text }],
      });
      const sample = await poll();
      sample.gzipBodyBytes = await gzipBodyBytes(sample);
      replies.push(sample);
      if (sample.newMessages !== 1 || !(await isShown(tab.page, text))) {
        missingReplies.push(index + 1);
      }
    }

    const conversation = await measureWholeConversation(tab, countFhirCalls);
    conversation.gzipBodyBytes = await gzipBodyBytes(conversation);
    return buildSection({
      quiet,
      replies,
      missingReplies,
      conversation,
      openTab,
    });
  } finally {
    await tab.close();
  }
}

/**
 * Moves the page's clock on by one poll interval and waits for the poll's response. Every request
 * the page makes meanwhile belongs to this interval.
 */
async function advanceOnePoll(
  tab: BenchPage,
  countFhirCalls: () => Promise<number>,
): Promise<PollSample> {
  const firstRequest = tab.requests.length;
  const fhirBefore = await countFhirCalls();
  const responsePromise = tab.page.waitForResponse(
    (response) => new URL(response.url()).pathname === POLL_PATH,
    { timeout: 15_000 },
  );

  await tab.page.clock.runFor(MESSAGE_POLL_INTERVAL_MS);
  const response = await responsePromise;
  const sample = await sampleOf(response, await countFhirCalls(), fhirBefore);

  const requests = tab.requests.slice(firstRequest);
  return {
    ...sample,
    pollRequests: requests.filter((request) => request.url.pathname === POLL_PATH).length,
    sessionChecks: requests.filter((request) => request.url.pathname === SESSION_CHECK_PATH).length,
    otherRequests: requests
      .filter((request) => ![POLL_PATH, SESSION_CHECK_PATH].includes(request.url.pathname))
      .map((request) => `${request.method} ${request.url.pathname}`),
  };
}

/** Measures the whole conversation, as a reload or a request without `since` gets it. */
async function measureWholeConversation(
  tab: BenchPage,
  countFhirCalls: () => Promise<number>,
): Promise<PollSample> {
  const fhirBefore = await countFhirCalls();
  const [response] = await Promise.all([
    tab.page.waitForResponse((candidate) => new URL(candidate.url()).pathname === POLL_PATH),
    tab.page.evaluate(async (path) => {
      const reply = await fetch(path, { headers: { accept: 'application/json' } });
      await reply.arrayBuffer();
    }, POLL_PATH),
  ]);
  return sampleOf(response, await countFhirCalls(), fhirBefore);
}

async function sampleOf(
  response: PlaywrightResponse,
  fhirAfter: number,
  fhirBefore: number,
): Promise<PollSample> {
  const body = (await response.json()) as { messages?: unknown[] };
  const sizes = await response.request().sizes();
  return {
    url: response.url(),
    pollRequests: 1,
    sessionChecks: 0,
    otherRequests: [],
    fhirCalls: fhirAfter - fhirBefore,
    responseHeaderBytes: sizes.responseHeadersSize,
    responseBodyBytes: sizes.responseBodySize,
    contentEncoding: response.headers()['content-encoding'] ?? 'identity',
    requestBytes: sizes.requestHeadersSize + sizes.requestBodySize,
    newMessages: body.messages?.length ?? 0,
    gzipBodyBytes: Number.NaN,
  };
}

async function isShown(page: Page, text: string): Promise<boolean> {
  try {
    await page
      .getByRole('list', { name: 'Conversation with your care team' })
      .getByText(text)
      .waitFor({
        timeout: 5_000,
      });
    return true;
  } catch {
    return false;
  }
}

interface OpenTabSummary {
  spanMs: number;
  /** Requests by kind, such as "message poll" or "session check", in the simulated span. */
  byKind: Map<string, number>;
  total: number;
}

function summarizeOpenTab(requests: RecordedRequest[], spanMs: number): OpenTabSummary {
  const byKind = new Map<string, number>();
  for (const request of requests) {
    const kind = describeRequest(request);
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  }
  return { spanMs, byKind, total: requests.length };
}

function describeRequest(request: RecordedRequest): string {
  const { pathname } = request.url;
  if (pathname === POLL_PATH) return `message poll (${request.method} ${POLL_PATH}?since=)`;
  if (pathname === SESSION_CHECK_PATH) return `session check (${request.method} ${pathname})`;
  if (pathname.endsWith('.data')) return `route data (${request.method} ${pathname})`;
  return `${request.resourceType} (${request.method} ${pathname})`;
}

interface PollResults {
  quiet: PollSample[];
  replies: PollSample[];
  missingReplies: number[];
  conversation: PollSample;
  openTab: OpenTabSummary;
}

function buildSection(results: PollResults): BenchSection {
  const { quiet, replies, conversation } = results;
  const quietFhir = median(quiet.map((sample) => sample.fhirCalls));
  const replyFhir = median(replies.map((sample) => sample.fhirCalls));
  const quietSample = largest(quiet);
  const quietWithinBudget =
    wireBytes(quietSample) <= MAX_QUIET_POLL_BYTES &&
    (quietSample?.gzipBodyBytes ?? Number.NaN) <= MAX_QUIET_POLL_GZIP_BODY_BYTES;

  return {
    title: 'Message polling',
    method: methodText(),
    rows: [
      row('poll, nothing new (largest)', quietSample, quietFhir, quietWithinBudget),
      row('poll with one reply', replies.at(-1), replyFhir, undefined),
      row('whole conversation (no `since`)', conversation, conversation.fhirCalls, undefined),
    ],
    notes: notesText(results.openTab, quiet),
    failures: findFailures(results, quietFhir, replyFhir),
  };
}

function findFailures(results: PollResults, quietFhir: number, replyFhir: number): string[] {
  const { quiet, replies, missingReplies } = results;
  const failures: string[] = [];
  const samples = [...quiet, ...replies];

  const crowded = samples.filter(
    (sample) => sample.pollRequests + sample.otherRequests.length > MAX_REQUESTS_PER_POLL,
  );
  const example = crowded[0];
  if (example) {
    const requests = [`${example.pollRequests} poll(s)`, ...example.otherRequests].join(', ');
    failures.push(
      `${crowded.length} poll interval(s) made more than ${MAX_REQUESTS_PER_POLL} request ` +
        `besides session checks, e.g. ${requests}`,
    );
  }
  const missed = samples.filter((sample) => sample.pollRequests === 0).length;
  if (missed > 0) failures.push(`${missed} poll interval(s) made no poll`);

  if (quietFhir > MAX_FHIR_CALLS_PER_POLL) {
    failures.push(`a poll that finds nothing makes ${quietFhir} FHIR calls (median)`);
  }
  if (replyFhir > MAX_FHIR_CALLS_PER_POLL) {
    failures.push(`a poll that brings a reply makes ${replyFhir} FHIR calls (median)`);
  }

  const quietSample = largest(quiet);
  const quietBytes = wireBytes(quietSample);
  const quietGzipBodyBytes = quietSample?.gzipBodyBytes ?? Number.NaN;
  if (quietBytes > MAX_QUIET_POLL_BYTES) {
    failures.push(`a poll that finds nothing sent ${quietBytes} bytes > ${MAX_QUIET_POLL_BYTES}`);
  }
  if (quietGzipBodyBytes > MAX_QUIET_POLL_GZIP_BODY_BYTES) {
    failures.push(
      `a poll that finds nothing has a ${quietGzipBodyBytes}-byte gzip body > ${MAX_QUIET_POLL_GZIP_BODY_BYTES}`,
    );
  }
  if (missingReplies.length > 0) {
    failures.push(`reply ${missingReplies.join(', ')} did not reach the page with its poll`);
  }
  return failures;
}

function row(
  name: string,
  sample: PollSample | undefined,
  fhirCalls: number,
  withinBudget: boolean | undefined,
): Record<string, string | number> {
  return {
    response: name,
    'HTTP requests': sample ? sample.pollRequests + sample.otherRequests.length : Number.NaN,
    'FHIR calls': fhirCalls,
    messages: sample?.newMessages ?? Number.NaN,
    'body bytes as sent': sample?.responseBodyBytes ?? Number.NaN,
    encoding: sample?.contentEncoding ?? '',
    'header bytes': sample?.responseHeaderBytes ?? Number.NaN,
    'bytes on the wire': sample ? wireBytes(sample) : Number.NaN,
    'gzip body bytes': sample?.gzipBodyBytes ?? Number.NaN,
    'request bytes': sample?.requestBytes ?? Number.NaN,
    'within budget':
      withinBudget === undefined
        ? '-'
        : verdict(
            withinBudget,
            `over ${MAX_QUIET_POLL_BYTES} bytes or ${MAX_QUIET_POLL_GZIP_BODY_BYTES} gzip body bytes`,
          ),
  };
}

function wireBytes(sample: PollSample | undefined): number {
  return sample ? sample.responseHeaderBytes + sample.responseBodyBytes : Number.NaN;
}

/** Returns the sample with the most bytes on the wire. */
function largest(samples: PollSample[]): PollSample | undefined {
  return samples.reduce<PollSample | undefined>(
    (found, sample) => (found && wireBytes(found) >= wireBytes(sample) ? found : sample),
    undefined,
  );
}

function fakeNow(page: Page): Promise<number> {
  return page.evaluate(() => Date.now());
}

function methodText(): string {
  const idleMinutes = SESSION_IDLE_SECONDS / 60;
  return `
\`bench/polling.ts\` opens \`/messages\` for the sandbox patient with the longest thread in
Debian's Chromium (headless, loopback only), signed in with a session cookie, and installs
Playwright's fake clock. It then moves the clock on ${MESSAGE_POLL_INTERVAL_MS / 1000} s at a
time, ${SIMULATED_POLLS} times (one simulated hour), and waits for each poll's response. Every
request the page makes is logged, not only the poll. For each interval the sandbox's
\`/sandbox/stats\` gives the FHIR calls (token requests left out). Then a practitioner's reply is
created in the sandbox FHIR server ${REPLY_POLLS} times, each followed by one interval, and the
reply must show on the page. "Whole conversation" is one request without \`since\`, which a
reload of the data costs.

Bytes are Chromium's count of the response as sent over HTTP/1.1: the status line and headers,
and the body after the compression Chromium and the server agreed on (\`encoding\`). "Gzip body
bytes" is the same URL requested again from Node with \`Accept-Encoding: gzip\` only. "Request
bytes" is the request line and headers, mostly the session cookie.

"Per hour of an open tab" means a visible tab whose session stays alive the whole hour, because
the patient uses this or another tab: the simulated hour passes in seconds of real time, so the
server never ends the session. The poll sends \`x-background-request\`, which does not count as
activity. A tab left alone is signed out after ${idleMinutes} minutes of no activity: the session
warning checks the time left about 2 minutes before the end, the page then moves to
\`/session-expired\` and polling stops, so such a tab makes about half the polls counted below,
plus one page load. A hidden tab does not poll.

Budgets, checked on every run: at most ${MAX_REQUESTS_PER_POLL} HTTP request per poll interval
(session checks aside, so a poll that made the router reload route data fails), at most
${MAX_FHIR_CALLS_PER_POLL} FHIR call per poll (median, see the notes), at most
${MAX_QUIET_POLL_BYTES} bytes on the wire and ${MAX_QUIET_POLL_GZIP_BODY_BYTES} gzip body bytes
for a poll that finds nothing, and each reply on the page after its poll.
`;
}

function notesText(openTab: OpenTabSummary, quiet: PollSample[]): string {
  const hours = openTab.spanMs / 3_600_000;
  const kinds = [...openTab.byKind].sort((first, second) => second[1] - first[1]);
  const table = markdownTable([
    ...kinds.map(([kind, count]) => ({
      'request (open tab)': kind,
      'in the simulated span': count,
      'per hour': Math.round(count / hours),
    })),
    {
      'request (open tab)': 'all requests',
      'in the simulated span': openTab.total,
      'per hour': Math.round(openTab.total / hours),
    },
  ]);
  const fhirCalls = quiet.map((sample) => sample.fhirCalls);
  const responseBytes = quiet.reduce((sum, sample) => sum + wireBytes(sample), 0);
  const requestBytes = quiet.reduce((sum, sample) => sum + sample.requestBytes, 0);
  const headerShare = median(quiet.map((sample) => sample.responseHeaderBytes / wireBytes(sample)));
  return `
Requests of an open tab over ${(openTab.spanMs / 60_000).toFixed(1)} simulated minutes:

${table}

An hour of polls that find nothing moves about ${Math.round(responseBytes / hours / 1000)} KB of
responses and ${Math.round(requestBytes / hours / 1000)} KB of requests. Response headers are
${Math.round(headerShare * 100)}% of a quiet poll's response; HTTP/2 would compress them between
requests, HTTP/1.1 as measured here does not. FHIR calls per quiet poll: median
${median(fhirCalls)}, maximum ${Math.max(...fhirCalls)}. NOTE: the portal's in-process
notification jobs call the same sandbox FHIR server once a minute, so an interval that overlaps
one of their sweeps counts their calls too; the median leaves those out.
`;
}
