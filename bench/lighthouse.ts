/**
 * Lighthouse audits of every page of the production build, as a phone on a slow network loads
 * it: Lighthouse's default mobile settings (a Moto G Power screen, simulated throttling of
 * 150 ms round trips, 1.6 Mbit/s down and 4× CPU slowdown). Signed-in pages are audited as a
 * demo patient (bench/lighthouse-pages.ts). Each page runs three times and its row is the run
 * with the median performance score. The full reports go to docs/lighthouse/reports/
 * (git-ignored), a compact summary to docs/lighthouse/summary.json.
 *
 * Run alone: npm run bench -- --only lighthouse --no-build
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { launch, type LaunchedChrome } from 'chrome-launcher';
import lighthouse, { type Flags, type Result } from 'lighthouse';
import { format, resolveConfig } from 'prettier';

import { REPO_ROOT, type BenchPortal } from './bench-portal';
import { listAuditedPages, type AuditedPage } from './lighthouse-pages';
import { kilobytes, verdict, type BenchSection } from './report';

/** Debian's Chromium. The bench never downloads a browser of its own. */
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Flags on top of chrome-launcher's defaults, which already turn off Chromium's background
 * networking. The resolver rule makes every host name but 127.0.0.1 fail to resolve, so no
 * request, such as a map tile from a CDN, can leave this machine.
 */
const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

const CATEGORIES = ['performance', 'accessibility', 'best-practices'] as const;
type Category = (typeof CATEGORIES)[number];

/** Runs per page. The row shows the run with the median performance score. */
const RUNS_PER_PAGE = 3;

/** Minimum score (0–100) of each category. */
export const LIGHTHOUSE_TARGETS: Record<Category, number> = {
  performance: 95,
  accessibility: 100,
  'best-practices': 100,
};

const REPORT_DIR = path.join(REPO_ROOT, 'docs/lighthouse/reports');
const SUMMARY_FILE = path.join(REPO_ROOT, 'docs/lighthouse/summary.json');

interface RunSummary {
  scores: Record<Category, number>;
  /** Largest Contentful Paint, in milliseconds. */
  lcpMs: number;
  /** Total Blocking Time, in milliseconds. */
  tbtMs: number;
  /** Cumulative Layout Shift, unitless. */
  cls: number;
  /** First Contentful Paint, in milliseconds. */
  fcpMs: number;
  /** Bytes transferred for the page and everything it loaded. */
  transferredBytes: number;
  /** The path the page showed at the end, after any redirect. */
  finalPath: string;
  /** Hosts other than loopback that the page requested, which must be none. */
  foreignHosts: string[];
  /** Weighted audits that cost points, as `<category>: <audit id>`. */
  lostPoints: string[];
  /** Performance opportunities with their estimated savings in milliseconds. */
  opportunities: { id: string; savingsMs: number }[];
  /** Audits Lighthouse could not run, with the innermost error message. */
  erroredAudits: { id: string; error: string }[];
  /** Report file, relative to the repository. */
  reportFile: string;
}

interface PageSummary {
  page: string;
  signedIn: boolean;
  performanceScores: number[];
  median: RunSummary;
}

/**
 * Audits every page, or with `options.pages` only the pages of those names (such as
 * `/shipments/track/:trackingNumber`), and writes the reports and the summary.
 */
export async function measureLighthouse(
  bench: BenchPortal,
  options: { pages?: string[] } = {},
): Promise<BenchSection> {
  const pages = (await listAuditedPages(bench)).filter(
    (page) => !options.pages || options.pages.includes(page.name),
  );
  await mkdir(REPORT_DIR, { recursive: true });

  const loadAtStart = os.loadavg()[0] ?? Number.NaN;
  const chrome = await launch({ chromePath: CHROMIUM_PATH, chromeFlags: CHROMIUM_FLAGS });
  const summaries: PageSummary[] = [];
  const failures: string[] = [];
  let browser = 'unknown';
  try {
    browser = await readBrowserVersion(chrome);
    for (const page of pages) {
      const runs: RunSummary[] = [];
      for (let run = 1; run <= RUNS_PER_PAGE; run++) {
        runs.push(await auditPage(chrome, bench.portal.baseUrl, page, run));
      }
      summaries.push(summarizePage(page, runs));
      failures.push(...deterministicFailures(page, runs));
    }
  } finally {
    chrome.kill();
  }
  const loadAtEnd = os.loadavg()[0] ?? Number.NaN;
  await writeSummary(summaries, browser, loadAtStart, loadAtEnd);

  return {
    title: 'Lighthouse',
    method: `
Lighthouse 12.2.3 (Node API) audits each page of the production build in Debian's headless
Chromium (${browser}) with its default mobile settings: a Moto G Power screen and simulated
throttling of 150 ms round trips, 1.6 Mbit/s and 4× CPU slowdown, on a cold cache. Signed-in
pages are audited as a sandbox demo patient, whose session cookie Lighthouse sends with every
request. A page that ends anywhere but its own address fails the run. \`/login/verify\` is
audited as reached after requesting a code. Chromium resolves no host but 127.0.0.1, and the
bench portal's map tiles come from the sandbox (\`MAP_TILE_URL\`), so nothing leaves the machine.
Each page runs ${RUNS_PER_PAGE} times, and the row is the run with the median performance score.
Targets: performance ≥ ${LIGHTHOUSE_TARGETS.performance}, accessibility ${LIGHTHOUSE_TARGETS.accessibility}, best practices ${LIGHTHOUSE_TARGETS['best-practices']}. The full
reports are written to \`docs/lighthouse/reports/\` (not committed) and a per-page summary to
\`docs/lighthouse/summary.json\`.
`,
    rows: summaries.map(toRow),
    notes: describeRuns(summaries, loadAtStart, loadAtEnd),
    failures,
    missedTargets: summaries.flatMap((summary) => {
      const misses = missedCategories(summary);
      return misses.length > 0 ? [`${summary.page}: ${misses.join(', ')}`] : [];
    }),
  };
}

/** Returns the browser's product name and version, such as `HeadlessChrome/156.0.8078.114`. */
async function readBrowserVersion(chrome: LaunchedChrome): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${chrome.port}/json/version`);
  const { Browser: product } = (await response.json()) as { Browser?: string };
  return product ?? 'unknown';
}

async function auditPage(
  chrome: LaunchedChrome,
  baseUrl: string,
  page: AuditedPage,
  run: number,
): Promise<RunSummary> {
  const cookie = await page.cookie();
  const flags: Flags = {
    port: chrome.port,
    hostname: '127.0.0.1',
    output: 'json',
    logLevel: 'error',
    onlyCategories: [...CATEGORIES],
    // Lighthouse clears the origin's cookies before each run, so the cookie goes in a header.
    extraHeaders: cookie ? { Cookie: cookie } : null,
  };
  const result = await lighthouse(`${baseUrl}${page.path}`, flags);
  if (!result) throw new Error(`Lighthouse returned no result for ${page.name}.`);
  const { lhr } = result;
  if (lhr.runtimeError) {
    throw new Error(
      `Lighthouse failed on ${page.name}: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`,
    );
  }

  const reportFile = path.join(REPORT_DIR, `${slugOf(page.name)}.run${run}.json`);
  await writeFile(reportFile, typeof result.report === 'string' ? result.report : '');
  return summarizeRun(lhr, path.relative(REPO_ROOT, reportFile));
}

function summarizeRun(lhr: Result, reportFile: string): RunSummary {
  const numeric = (id: string) => lhr.audits[id]?.numericValue ?? Number.NaN;
  const score = (category: Category) => Math.round((lhr.categories[category]?.score ?? 0) * 100);
  const lostPoints = CATEGORIES.flatMap((category) =>
    (lhr.categories[category]?.auditRefs ?? []).flatMap((ref) => {
      const audit = lhr.audits[ref.id];
      const lost = ref.weight > 0 && audit?.score !== null && (audit?.score ?? 1) < 1;
      return lost ? [`${category}: ${ref.id}`] : [];
    }),
  );
  const opportunities = Object.values(lhr.audits).flatMap((audit) => {
    const savingsMs = audit.details?.type === 'opportunity' ? audit.details.overallSavingsMs : 0;
    return savingsMs && savingsMs > 0 ? [{ id: audit.id, savingsMs: Math.round(savingsMs) }] : [];
  });
  const erroredAudits = Object.values(lhr.audits).flatMap((audit) =>
    audit.scoreDisplayMode === 'error'
      ? [{ id: audit.id, error: innermostError(audit.errorMessage) }]
      : [],
  );

  return {
    scores: {
      performance: score('performance'),
      accessibility: score('accessibility'),
      'best-practices': score('best-practices'),
    },
    lcpMs: Math.round(numeric('largest-contentful-paint')),
    tbtMs: Math.round(numeric('total-blocking-time')),
    cls: Number(numeric('cumulative-layout-shift').toFixed(3)),
    fcpMs: Math.round(numeric('first-contentful-paint')),
    transferredBytes: numeric('total-byte-weight'),
    finalPath: new URL(lhr.finalDisplayedUrl).pathname,
    foreignHosts: requestedForeignHosts(lhr),
    lostPoints,
    opportunities,
    erroredAudits,
    reportFile,
  };
}

/** Strips Lighthouse's "Required X gatherer encountered an error" wrappers from a message. */
function innermostError(message: string | undefined): string {
  const firstLine = (message ?? 'no message').split('\n')[0] ?? '';
  return firstLine
    .replace(/^Required \w+ gatherer encountered an error: /, '')
    .replace(/^Dependency "\w+" failed with exception: /, '');
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Returns the hosts of the requests in the run's network log that are not loopback. */
function requestedForeignHosts(lhr: Result): string[] {
  const details = lhr.audits['network-requests']?.details;
  const items = details?.type === 'table' ? details.items : [];
  const hosts = items.flatMap((item) => {
    if (typeof item.url !== 'string') return [];
    const url = new URL(item.url);
    return url.protocol === 'data:' || LOOPBACK_HOSTS.has(url.hostname) ? [] : [url.hostname];
  });
  return [...new Set(hosts)];
}

/** Picks the run with the median performance score as the page's figures. */
function summarizePage(page: AuditedPage, runs: RunSummary[]): PageSummary {
  const byPerformance = [...runs].sort((a, b) => a.scores.performance - b.scores.performance);
  const median = byPerformance[Math.floor(byPerformance.length / 2)];
  if (!median) throw new Error(`No Lighthouse run of ${page.name} finished.`);
  return {
    page: page.name,
    signedIn: page.signedIn,
    performanceScores: runs.map((run) => run.scores.performance),
    median,
  };
}

/**
 * Returns the failures that do not depend on timing. A page fails when it did not render at its
 * own address (a signed-in page that ended on /login), when it requested a host other than
 * loopback, and when it scored below 100 in accessibility in every run. Accessibility audits are
 * axe rules over the page's DOM, which is the same in each run, so a miss that every run shows
 * is the page's and not the machine's. Performance and best-practices scores are reported and
 * never failed, because performance is timed and best practices counts console errors, which
 * can depend on timing.
 */
function deterministicFailures(page: AuditedPage, runs: RunSummary[]): string[] {
  const failures: string[] = [];
  const wrongPage = runs.find((run) => run.finalPath !== page.path);
  if (wrongPage) {
    failures.push(`${page.name} ended on ${wrongPage.finalPath} in Lighthouse, not on the page`);
  }
  const foreign = [...new Set(runs.flatMap((run) => run.foreignHosts))];
  if (foreign.length > 0) {
    failures.push(`${page.name} requested hosts other than loopback: ${foreign.join(', ')}`);
  }
  const target = LIGHTHOUSE_TARGETS.accessibility;
  if (runs.every((run) => run.scores.accessibility < target)) {
    const audits = new Set(
      runs.flatMap((run) => run.lostPoints.filter((lost) => lost.startsWith('accessibility'))),
    );
    failures.push(
      `${page.name} scores below ${target} in accessibility in every run (${[...audits].join(', ')})`,
    );
  }
  return failures;
}

/** Lists the categories whose median score is under its target, each with the score. */
function missedCategories({ median }: PageSummary): string[] {
  return CATEGORIES.filter(
    (category) => median.scores[category] < LIGHTHOUSE_TARGETS[category],
  ).map((category) => `${category} ${median.scores[category]}`);
}

function toRow(summary: PageSummary): Record<string, string | number> {
  const { page, signedIn, median } = summary;
  const misses = missedCategories(summary);
  return {
    page,
    'signed in': signedIn ? 'yes' : 'no',
    performance: median.scores.performance,
    accessibility: median.scores.accessibility,
    'best practices': median.scores['best-practices'],
    'LCP (s)': Number((median.lcpMs / 1000).toFixed(2)),
    'TBT (ms)': median.tbtMs,
    CLS: median.cls,
    'FCP (s)': Number((median.fcpMs / 1000).toFixed(2)),
    'transferred (KB)': kilobytes(median.transferredBytes),
    'targets met': verdict(misses.length === 0, misses.join(', ')),
  };
}

/** Groups the audits Lighthouse could not run by their error, over every page's median run. */
function groupErroredAudits(summaries: PageSummary[]): Map<string, Set<string>> {
  const byError = new Map<string, Set<string>>();
  for (const { median } of summaries) {
    for (const { id, error } of median.erroredAudits) {
      byError.set(error, (byError.get(error) ?? new Set()).add(id));
    }
  }
  return byError;
}

function describeRuns(summaries: PageSummary[], loadAtStart: number, loadAtEnd: number): string {
  const pageLines = summaries.map(({ page, performanceScores, median }) => {
    const lost = median.lostPoints.filter((entry) => !entry.startsWith('performance'));
    const opportunities = [...median.opportunities]
      .sort((a, b) => b.savingsMs - a.savingsMs)
      .slice(0, 3)
      .map((opportunity) => `${opportunity.id} ${opportunity.savingsMs} ms`);
    return (
      `- \`${page}\`: performance ${performanceScores.join(', ')}` +
      (lost.length > 0 ? `; points lost to ${lost.join(', ')}` : '') +
      (opportunities.length > 0 ? `; estimated savings: ${opportunities.join(', ')}` : '')
    );
  });
  const errorLines = [...groupErroredAudits(summaries)].map(
    ([error, ids]) =>
      `Lighthouse could not run ${[...ids].map((id) => `\`${id}\``).join(', ')} (${error}). ` +
      'These audits carry no weight in the category scores.',
  );

  return [
    `The machine's 1-minute load average was ${loadAtStart.toFixed(1)} at the start and ` +
      `${loadAtEnd.toFixed(1)} at the end of the audits, on ${os.cpus().length} shared cores. ` +
      'Simulated throttling scales the CPU time and the paint timing that Chromium observed, so ' +
      'a busy machine lowers performance scores. The scores of all runs show the spread:',
    '',
    ...pageLines,
    ...(errorLines.length > 0 ? ['', ...errorLines] : []),
  ].join('\n');
}

/** Writes docs/lighthouse/summary.json: each page's median run and its performance spread. */
async function writeSummary(
  summaries: PageSummary[],
  browser: string,
  loadAtStart: number,
  loadAtEnd: number,
): Promise<void> {
  const summary = {
    lighthouse: '12.2.3',
    browser,
    settings: 'default mobile config: Moto G Power screen, simulated throttling',
    runsPerPage: RUNS_PER_PAGE,
    loadAverage: { start: loadAtStart, end: loadAtEnd },
    targets: LIGHTHOUSE_TARGETS,
    auditsNotRun: Object.fromEntries(
      [...groupErroredAudits(summaries)].map(([error, ids]) => [error, [...ids]]),
    ),
    pages: summaries.map(({ page, signedIn, performanceScores, median }) => ({
      page,
      signedIn,
      performanceScores,
      median: {
        scores: median.scores,
        lcpMs: median.lcpMs,
        tbtMs: median.tbtMs,
        cls: median.cls,
        fcpMs: median.fcpMs,
        transferredBytes: median.transferredBytes,
        lostPoints: median.lostPoints,
        opportunities: median.opportunities,
        reportFile: median.reportFile,
      },
    })),
  };
  const prettierOptions = (await resolveConfig(SUMMARY_FILE)) ?? {};
  await writeFile(
    SUMMARY_FILE,
    await format(JSON.stringify(summary), { ...prettierOptions, filepath: SUMMARY_FILE }),
  );
}

function slugOf(name: string): string {
  return (
    name
      .replaceAll(/[^a-z0-9]+/gi, '-')
      .replace(/^-+|-+$/g, '')
      .toLowerCase() || 'dashboard'
  );
}
