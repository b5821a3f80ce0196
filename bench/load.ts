/**
 * Load test: signed-in patients read the dashboard, prescriptions, messages and shipments, as
 * pages and as JSON, for a bounded time against the production build on loopback. Reports
 * latency percentiles, requests per second, and the portal's memory after a warm-up and at the
 * end, each after a full garbage collection. Fails on any connection error, timeout or response
 * other than 2xx, and when the heap after collection grows by more than MAX_HEAP_GROWTH_MIB.
 *
 * The portal under load runs NODE_ENV=production from build/. `npm run load` builds it first,
 * because server.ts loads app modules from source while the build has its own copies, so a stale
 * build can disagree with server.ts. The portal's upstreams are a second, development portal's
 * sandbox. Its database is a fresh one on TEST_DATABASE_URL's (or DATABASE_URL's) server, or else
 * embedded PostgreSQL in a process of its own. Every process, the load generator included, shares
 * this machine's cores.
 *
 * Run: npm run load -- --duration 30 --connections 10 --warmup 5
 */
import os from 'node:os';
import { parseArgs } from 'node:util';

import autocannon from 'autocannon';

import { SIGN_IN_PATIENTS } from '../tests/support/patient-client';

import { sampleProbes, startBenchPortal } from './bench-portal';
import type { MemorySample } from './memory-probe';

/**
 * Paths every session requests in turn: four pages and the JSON API behind three of them. The
 * dashboard, `/`, has no JSON twin.
 */
const PATHS = [
  '/',
  '/prescriptions',
  '/messages',
  '/shipments',
  '/api/patient/prescriptions',
  '/api/patient/messages',
  '/api/patient/shipments',
];

/**
 * Largest growth of the heap in use, after a full collection, from the end of the warm-up to
 * the end of the run. The portal keeps nothing per request once it has responded, and its
 * caches are bounded by the sandbox's few patients and practitioners, so more growth under a
 * steady load is taken to be a leak.
 *
 * NOTE: a short run finds only a fast leak. On a busy 2-core machine `npm run load:short` makes
 * about 150 requests, so each must leave about 50 KiB behind to fail it. Longer runs find smaller
 * leaks.
 */
const MAX_HEAP_GROWTH_MIB = 8;
/** Seconds autocannon waits for a response before it counts a timeout. */
const REQUEST_TIMEOUT_SECONDS = 10;
const MIB = 1024 * 1024;

interface Options {
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
}

interface LoadResult {
  result: autocannon.Result;
  /** Response time of every response, in milliseconds. */
  latenciesMs: number[];
}

async function main(): Promise<void> {
  const options = readOptions();
  const bench = await startBenchPortal({ memoryProbe: true });
  try {
    const { portal, probes } = bench;
    const cookies: string[] = [];
    for (let index = 0; index < options.connections; index++) {
      const patient = SIGN_IN_PATIENTS[index % SIGN_IN_PATIENTS.length];
      if (!patient) throw new Error('The sandbox has no patient to sign in.');
      cookies.push(await bench.signIn(patient.email));
    }

    const warmup = await runLoad(
      portal.baseUrl,
      cookies,
      options.connections,
      options.warmupSeconds,
    );
    const atStart = await sampleProcesses(probes);
    const measured = await runLoad(
      portal.baseUrl,
      cookies,
      options.connections,
      options.durationSeconds,
    );
    const atEnd = await sampleProcesses(probes);

    report(options, bench.embeddedDatabase, measured, atStart, atEnd);
    console.table(await timeEachPath(portal.baseUrl, cookies));

    const failures = [
      ...findFailures('warm-up', warmup.result),
      ...findFailures('run', measured.result),
    ];
    const portalAtStart = atStart.portal;
    const portalAtEnd = atEnd.portal;
    if (!portalAtStart || !portalAtEnd) throw new Error('The portal has no memory sample.');
    const heapGrowthMib = (portalAtEnd.heapUsed - portalAtStart.heapUsed) / MIB;
    if (heapGrowthMib > MAX_HEAP_GROWTH_MIB) {
      failures.push(
        `the heap in use grew by ${heapGrowthMib.toFixed(1)} MiB, more than ${MAX_HEAP_GROWTH_MIB} MiB`,
      );
    }
    if (!portalAtEnd.collected) failures.push('the portal ran without --expose-gc');

    if (failures.length > 0) {
      console.error(`Load test failed: ${failures.join('; ')}.`);
      process.exitCode = 1;
    } else {
      console.log(
        `Load test passed: no errors, every response 2xx, heap growth under ${MAX_HEAP_GROWTH_MIB} MiB.`,
      );
    }
  } finally {
    await bench.stop();
  }
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '30' },
      warmup: { type: 'string', default: '5' },
      connections: { type: 'string', default: '10' },
    },
  });
  const whole = (name: string, value: string, min: number, max: number): number => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < min || number > max) {
      throw new Error(`--${name} must be a whole number from ${min} to ${max}, not ${value}.`);
    }
    return number;
  };
  return {
    durationSeconds: whole('duration', values.duration, 1, 3600),
    warmupSeconds: whole('warmup', values.warmup, 1, 600),
    connections: whole('connections', values.connections, 1, 200),
  };
}

/**
 * Runs autocannon with one session per connection. Each connection requests PATHS in turn,
 * starting at its own offset, so every path is under load from the first second.
 */
function runLoad(
  baseUrl: string,
  cookies: string[],
  connections: number,
  durationSeconds: number,
): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let nextConnection = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: baseUrl,
        connections,
        duration: durationSeconds,
        timeout: REQUEST_TIMEOUT_SECONDS,
        setupClient: (client) => {
          const connection = nextConnection++;
          const cookie = cookies[connection % cookies.length] ?? '';
          client.setRequests(
            PATHS.map((_, index) => ({
              method: 'GET',
              path: PATHS[(index + connection) % PATHS.length] ?? '/',
              headers: { cookie },
            })),
          );
        },
      },
      (error: unknown, result) => {
        if (error) reject(error instanceof Error ? error : new Error('autocannon failed to run.'));
        else resolve({ result, latenciesMs });
      },
    );
    instance.on('response', (_client, _statusCode, _bytes, responseTimeMs) => {
      latenciesMs.push(responseTimeMs);
    });
  });
}

/**
 * Requests each path alone, once per session, after the load, and returns the median response
 * time per path, which is the cost of each path without queueing behind the others.
 */
async function timeEachPath(
  baseUrl: string,
  cookies: string[],
): Promise<Record<string, { 'median alone (ms)': number }>> {
  const medians: Record<string, { 'median alone (ms)': number }> = {};
  for (const requestPath of PATHS) {
    const timesMs: number[] = [];
    for (const cookie of cookies.slice(0, SIGN_IN_PATIENTS.length)) {
      const started = performance.now();
      const response = await fetch(`${baseUrl}${requestPath}`, { headers: { cookie } });
      await response.arrayBuffer();
      timesMs.push(performance.now() - started);
    }
    timesMs.sort((a, b) => a - b);
    medians[requestPath] = { 'median alone (ms)': Math.round(percentile(timesMs, 0.5)) };
  }
  return medians;
}

/**
 * Samples each process through its probe, and this process, which runs the load generator,
 * directly. The probes collect garbage first where `--expose-gc` is on.
 */
async function sampleProcesses(
  probes: Record<string, string>,
): Promise<Record<string, MemorySample>> {
  const samples = await sampleProbes(probes);
  samples['load generator'] = {
    ...process.memoryUsage(),
    collected: false,
    cpu: process.cpuUsage(),
  };
  return samples;
}

function findFailures(phase: string, result: autocannon.Result): string[] {
  const failures: string[] = [];
  if (result.errors > 0) failures.push(`${phase}: ${result.errors} connection errors`);
  if (result.timeouts > 0) failures.push(`${phase}: ${result.timeouts} timeouts`);
  if (result.non2xx > 0) {
    const statuses = Object.entries(result.statusCodeStats ?? {})
      .filter(([status]) => !status.startsWith('2'))
      .map(([status, stats]) => `${stats.count ?? 0} × ${status}`);
    failures.push(`${phase}: ${result.non2xx} responses other than 2xx (${statuses.join(', ')})`);
  }
  if (result['2xx'] === 0) failures.push(`${phase}: no successful response`);
  return failures;
}

function percentile(sortedMs: number[], fraction: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  const index = Math.min(sortedMs.length - 1, Math.ceil(fraction * sortedMs.length) - 1);
  return sortedMs[Math.max(0, index)] ?? Number.NaN;
}

function report(
  options: Options,
  embedded: boolean,
  { result, latenciesMs }: LoadResult,
  atStart: Record<string, MemorySample>,
  atEnd: Record<string, MemorySample>,
): void {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const mib = (bytes: number) => Number((bytes / MIB).toFixed(1));
  console.log(
    `Machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ` +
      `${mib(os.totalmem())} MiB RAM, Node ${process.version}, ` +
      `1-minute load average ${os.loadavg()[0]?.toFixed(1) ?? 'unknown'} at the end. ` +
      `Database: ${embedded ? 'embedded PGlite, one connection' : 'PostgreSQL, 10 connections'}.`,
  );
  console.log(
    `Load: ${options.connections} connections, one session each, ${options.durationSeconds} s after a ${options.warmupSeconds} s warm-up.`,
  );
  console.table({
    requests: result.requests.total,
    'requests per second': Math.round(result.requests.total / result.duration),
    'p50 latency (ms)': Math.round(percentile(sorted, 0.5)),
    'p95 latency (ms)': Math.round(percentile(sorted, 0.95)),
    'p99 latency (ms)': Math.round(percentile(sorted, 0.99)),
    'max latency (ms)': Math.round(sorted.at(-1) ?? Number.NaN),
    '2xx': result['2xx'],
    'other statuses': result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  });

  const rows: Record<string, Record<string, number>> = {};
  for (const [name, end] of Object.entries(atEnd)) {
    const start = atStart[name];
    if (!start) continue;
    const cpuMs = (end.cpu.user + end.cpu.system - start.cpu.user - start.cpu.system) / 1000;
    rows[name] = {
      'CPU per request (ms)': Number((cpuMs / Math.max(1, result.requests.total)).toFixed(1)),
      'rss after warm-up (MiB)': mib(start.rss),
      'rss at end (MiB)': mib(end.rss),
      'heap used after warm-up (MiB)': mib(start.heapUsed),
      'heap used at end (MiB)': mib(end.heapUsed),
    };
  }
  console.table(rows);
}

await main();
