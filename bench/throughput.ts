/**
 * Throughput: requests per second of the signed-in dashboard against those of a page with no
 * loader work, served by the same portal process with instant FHIR responses, so the figure is
 * what the portal's own code costs per dashboard view.
 */
import autocannon from 'autocannon';

import { SIGN_IN_PATIENTS } from '../tests/support/patient-client';

import { sampleProbes, startBenchPortal, type BenchPortal } from './bench-portal';
import { startFhirReplay, type FhirReplay } from './replay-fhir';
import { verdict, type BenchSection } from './report';

/** Concurrent connections; each keeps one patient's session. */
const CONNECTIONS = 10;
/** Seconds of load before each measured run, whose responses are not counted. */
const WARMUP_SECONDS = 2;
/** Seconds of each measured run. */
const MEASURED_SECONDS = 8;
/** Each page is measured this many times, in turns with the others, and the runs averaged. */
const ROUNDS = 2;
/** Target: the dashboard serves at least this fraction of the bare page's requests per second. */
const TARGET_RATIO = 0.7;
/** The Accept-Encoding of browsers, so the portal compresses each page as it would for a patient. */
const ACCEPT_ENCODING = 'gzip, deflate, br';
/** Seconds autocannon waits for a response before it counts a timeout. */
const REQUEST_TIMEOUT_SECONDS = 10;

/**
 * The page that stands for React Router's own cost: an existing page whose loader only reads
 * its query string, requested signed out, so the root loader finds no cookie and reads nothing.
 */
const BARE_PAGE = '/login/canvas-error';

interface Target {
  name: string;
  path: string;
  signedIn: boolean;
}

const DASHBOARD: Target = { name: 'dashboard, signed in', path: '/', signedIn: true };
const BARE: Target = {
  name: `${BARE_PAGE}, signed out (bare page)`,
  path: BARE_PAGE,
  signedIn: false,
};
const BARE_SIGNED_IN: Target = {
  name: `${BARE_PAGE}, signed in`,
  path: BARE_PAGE,
  signedIn: true,
};
const TARGETS = [DASHBOARD, BARE, BARE_SIGNED_IN];

interface RunResult {
  requestsPerSecond: number;
  p50Ms: number;
  /** CPU milliseconds per request, by process, from the memory probes. */
  cpuMsPerRequest: Record<string, number>;
  /** FHIR requests the replay served or forwarded, per measured request. */
  fhirRequestsPerRequest: number;
  /** Responses other than 200, connection errors and timeouts. */
  problems: string[];
}

export async function measureThroughput(): Promise<BenchSection> {
  const replay = await startFhirReplay();
  const stack = await startBenchPortal({
    memoryProbe: true,
    env: { CANVAS_FHIR_BASE_URL: replay.baseUrl },
  }).catch(async (error: unknown) => {
    await replay.close();
    throw error;
  });
  try {
    replay.forwardTo(`${stack.upstreams.baseUrl}/sandbox/fhir`);
    const cookies: string[] = [];
    for (const patient of SIGN_IN_PATIENTS) cookies.push(await stack.signIn(patient.email));
    // Records every FHIR response the dashboard needs, for every patient.
    for (const cookie of cookies) {
      const response = await fetch(`${stack.portal.baseUrl}/`, { headers: { cookie } });
      await response.arrayBuffer();
    }

    const runs = new Map<Target, RunResult[]>(TARGETS.map((target) => [target, []]));
    const forwardedBefore = replay.counts().forwarded;
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of TARGETS) {
        runs.get(target)?.push(await measureTarget(stack, replay, target, cookies));
      }
    }
    const forwardedDuringRuns = replay.counts().forwarded - forwardedBefore;

    return buildSection(runs, forwardedDuringRuns, stack.embeddedDatabase);
  } finally {
    await stack.stop();
    await replay.close();
  }
}

async function measureTarget(
  stack: BenchPortal,
  replay: FhirReplay,
  target: Target,
  cookies: string[],
): Promise<RunResult> {
  const sessionCookies = target.signedIn ? cookies : [''];
  await runLoad(stack.portal.baseUrl, target.path, sessionCookies, WARMUP_SECONDS);
  const before = await sampleProbes(stack.probes);
  const fhirBefore = countFhirRequests(replay);
  const result = await runLoad(stack.portal.baseUrl, target.path, sessionCookies, MEASURED_SECONDS);
  const fhirRequests = countFhirRequests(replay) - fhirBefore;
  const after = await sampleProbes(stack.probes);

  const requests = Math.max(1, result.requests.total);
  const cpuMsPerRequest: Record<string, number> = {};
  for (const [name, end] of Object.entries(after)) {
    const start = before[name];
    if (!start) continue;
    const cpuMs = (end.cpu.user + end.cpu.system - start.cpu.user - start.cpu.system) / 1000;
    cpuMsPerRequest[name] = cpuMs / requests;
  }

  const problems: string[] = [];
  if (result.non2xx > 0) problems.push(`${result.non2xx} responses other than 2xx`);
  if (result.errors > 0) problems.push(`${result.errors} connection errors`);
  if (result.timeouts > 0) problems.push(`${result.timeouts} timeouts`);
  return {
    requestsPerSecond: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    cpuMsPerRequest,
    fhirRequestsPerRequest: fhirRequests / requests,
    problems,
  };
}

function countFhirRequests(replay: FhirReplay): number {
  const { forwarded, replayed } = replay.counts();
  return forwarded + replayed;
}

/** Sends GET `path` from CONNECTIONS connections for `seconds`, connection i with cookie i. */
function runLoad(
  baseUrl: string,
  path: string,
  cookies: string[],
  seconds: number,
): Promise<autocannon.Result> {
  let nextConnection = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: baseUrl,
        connections: CONNECTIONS,
        duration: seconds,
        timeout: REQUEST_TIMEOUT_SECONDS,
        setupClient: (client) => {
          const cookie = cookies[nextConnection++ % cookies.length] ?? '';
          const headers = {
            accept: 'text/html',
            'accept-encoding': ACCEPT_ENCODING,
            ...(cookie ? { cookie } : {}),
          };
          client.setRequests([{ method: 'GET', path, headers }]);
        },
      },
      (error: unknown, result) => {
        if (error) reject(error instanceof Error ? error : new Error('autocannon failed to run.'));
        else resolve(result);
      },
    );
  });
}

function buildSection(
  runs: Map<Target, RunResult[]>,
  forwardedDuringRuns: number,
  embeddedDatabase: boolean,
): BenchSection {
  const mean = (values: number[]) =>
    values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
  const meanRps = (target: Target) =>
    mean((runs.get(target) ?? []).map((run) => run.requestsPerSecond));
  const bareRps = meanRps(BARE);
  const dashboardRatio = meanRps(DASHBOARD) / bareRps;

  const failures: string[] = [];
  const rows = TARGETS.map((target) => {
    const results = runs.get(target) ?? [];
    const cpu = (processName: string) =>
      Number(mean(results.map((run) => run.cpuMsPerRequest[processName] ?? 0)).toFixed(1));
    for (const problem of new Set(results.flatMap((run) => run.problems))) {
      failures.push(`${target.name}: ${problem} under load`);
    }
    const ratio = meanRps(target) / bareRps;
    return {
      page: target.name,
      'requests/s': Math.round(meanRps(target)),
      'runs (requests/s)': results.map((run) => Math.round(run.requestsPerSecond)).join(', '),
      'p50 latency (ms)': Math.round(mean(results.map((run) => run.p50Ms))),
      'portal CPU per request (ms)': cpu('portal'),
      'database CPU per request (ms)': embeddedDatabase ? cpu('embedded database') : '-',
      'FHIR requests per request': Number(
        mean(results.map((run) => run.fhirRequestsPerRequest)).toFixed(1),
      ),
      'ratio to bare page': Number(ratio.toFixed(2)),
    };
  });

  const meanCpu = (target: Target, processName: string) =>
    mean((runs.get(target) ?? []).map((run) => run.cpuMsPerRequest[processName] ?? 0)).toFixed(1);
  const notes = [
    `Dashboard to bare page: ${dashboardRatio.toFixed(2)} (target ≥ ${TARGET_RATIO}): ` +
      `${verdict(dashboardRatio >= TARGET_RATIO, `${dashboardRatio.toFixed(2)} < ${TARGET_RATIO}`)}. ` +
      `A dashboard request took ${meanCpu(DASHBOARD, 'portal')} ms of the portal's CPU` +
      (embeddedDatabase
        ? ` and ${meanCpu(DASHBOARD, 'embedded database')} ms of the database's`
        : '') +
      `, the bare page ${meanCpu(BARE, 'portal')} ms of the portal's and none of the database's. ` +
      'Every process shares the same cores, so requests per second follow that CPU time.',
    `The bare page signed in reaches ${(meanRps(BARE_SIGNED_IN) / bareRps).toFixed(2)} of itself signed out, ` +
      `and the dashboard ${(meanRps(DASHBOARD) / meanRps(BARE_SIGNED_IN)).toFixed(2)} of the signed-in bare page. ` +
      'The first ratio is the ceiling of every signed-in page, whatever its loader does. Each signed-in ' +
      'request verifies its session JWT, reads its session row (so a revoked session ends at ' +
      'once, in every process), counts unread notifications for the header, writes its audit ' +
      'row, and renders the signed-in header. Skipping the session row or the audit row would ' +
      'trade health-data rules for the figure, so the dashboard is measured against both pages.',
  ];
  if (forwardedDuringRuns > 0) {
    notes.push(
      `${forwardedDuringRuns} FHIR requests reached the sandbox during the runs, so some dashboard requests waited for the sandbox's engine.`,
    );
  }

  return {
    title: 'Dashboard throughput',
    missedTargets:
      dashboardRatio >= TARGET_RATIO
        ? []
        : [`dashboard to bare page ${dashboardRatio.toFixed(2)} < ${TARGET_RATIO}`],
    method: `
A second stack like the one every section uses (sandbox, fresh ${embeddedDatabase ? 'embedded database' : 'PostgreSQL database'}, production
build), whose portal gets its FHIR responses from bench/replay-fhir.ts: a loopback HTTP server
that forwards the first GET of each address to the sandbox's FHIR stand-in, stores the response
in memory, and serves every later GET of that address from memory at once. Instants in a query
(the dashboard's search for upcoming appointments) do not count as a different address. So
FHIR responds over real HTTP without the sandbox engine's CPU, which is larger than the portal's
and would share the machine's cores with it. The database and the other upstreams are real.
Each of the ${SIGN_IN_PATIENTS.length} sandbox patients who can sign in loads the dashboard once to record its responses.

autocannon 9.0.0 then sends \`GET\` with \`Accept: text/html\` and
\`Accept-Encoding: ${ACCEPT_ENCODING}\` from ${CONNECTIONS} connections to each page in turn, ${WARMUP_SECONDS} s of
warm-up and ${MEASURED_SECONDS} s measured, in ${ROUNDS} rounds, and the table shows the mean. Signed-in
connections carry the sessions of the patients in turn. The bare page is \`${BARE_PAGE}\`,
an existing page whose loader only reads its query string: requested signed out, the root
loader finds no cookie, so the request costs React Router's routing and rendering of the same
root layout, with no database or upstream work. The same page signed in adds what every
signed-in page costs: the root loader's session check, unread count and audit row. CPU per
request comes from \`process.cpuUsage()\` of each process (bench/memory-probe.ts) over the
measured run. On a shared machine both figures vary between runs of the same build, by up to
2× in ours, so compare pages within one run. "FHIR requests per request" counts the replay's
responses.
`,
    rows,
    notes: notes.join('\n\n'),
    failures,
  };
}
