/**
 * The setup every benchmark shares: the portal's production build on loopback, with a second,
 * development portal's sandbox as its FHIR, SendGrid, FedEx, Zoom and Canvas sign-on upstreams,
 * and a fresh database. The database is a new one on TEST_DATABASE_URL's (or DATABASE_URL's)
 * server, or else embedded PostgreSQL in a process of its own. Every process shares this
 * machine's cores.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import pg from 'pg';

import { migrate } from '../db/migrate';
import { seedIntegrationDatabase } from '../sandbox/integration-db-seed';
import { PatientClient, readSignInCode } from '../tests/support/patient-client';
import { startPortalServer, type PortalServer } from '../tests/support/portal-server';
import { setSandboxFault, type SandboxUpstream } from '../tests/support/sandbox-control';
import {
  sandboxCanvasOauthSettings,
  sandboxUpstreamSettings,
} from '../tests/support/sandbox-upstreams';
import { createTestDatabase, type TestDatabase } from '../tests/support/test-database';

import { DATABASE_BANNER } from './embedded-database';
import { MEMORY_PROBE_BANNER, type MemorySample } from './memory-probe';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const PROBE_MODULE = path.join(REPO_ROOT, 'bench/memory-probe.ts');

export interface BenchPortal {
  /** The production build under measurement. */
  portal: PortalServer;
  /** The development portal whose sandbox serves as every upstream. */
  upstreams: PortalServer;
  /** True when the database is embedded PGlite, false for a PostgreSQL server. */
  embeddedDatabase: boolean;
  /** Memory probe URLs by process name, when started with `memoryProbe`. */
  probes: Record<string, string>;
  /** Signs `email` in with a code from the sandbox's mailbox and returns the Cookie header. */
  signIn(email: string): Promise<string>;
  /** Signs `email` in like `signIn` and returns the client holding the session. */
  signInClient(email: string): Promise<PatientClient>;
  /** Sets (or, with null, clears) the faults, such as `latencyMs`, of one sandbox stand-in. */
  setFaults(upstream: SandboxUpstream, settings: Record<string, unknown> | null): Promise<void>;
  stop(): Promise<void>;
}

export interface BenchPortalOptions {
  /** Loads bench/memory-probe.ts into every process and starts the portal with --expose-gc. */
  memoryProbe?: boolean;
  /** More settings for the portal under measurement. */
  env?: Record<string, string>;
  /** More `node` arguments for the portal under measurement, such as `--cpu-prof`. */
  nodeArgs?: string[];
}

/** Starts the sandbox, the database and the production portal, and waits until each is ready. */
export async function startBenchPortal(options: BenchPortalOptions = {}): Promise<BenchPortal> {
  const serverBuild = path.join(REPO_ROOT, 'build/server/index.js');
  if (!existsSync(serverBuild)) {
    throw new Error(`${serverBuild} is missing. Run npm run build first.`);
  }
  const probeEnv: Record<string, string> = options.memoryProbe ? { BENCH_MEMORY_PROBE: 'on' } : {};
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const upstreams = await startPortalServer(
      { LOG_LEVEL: 'warn', ...probeEnv },
      { nodeArgs: options.memoryProbe ? ['--import', PROBE_MODULE] : [] },
    );
    cleanups.push(() => upstreams.stop());
    const database = await startBenchDatabase(options.memoryProbe === true);
    cleanups.push(() => database.drop());
    await seedDemoRows(database.url);

    const portal = await startPortalServer(
      {
        NODE_ENV: 'production',
        DATABASE_URL: database.url,
        DATABASE_POOL_MAX: String(database.portalPoolMax),
        SESSION_SECRET: 'bench-secret-of-at-least-32-characters',
        ...sandboxUpstreamSettings(upstreams.baseUrl),
        ...sandboxCanvasOauthSettings(upstreams.baseUrl),
        // Benchmarks sign many sessions in, more often than the sign-in limits allow one client.
        SEND_CODE_LIMIT_PER_EMAIL: '10000',
        SEND_CODE_LIMIT_PER_IP: '10000',
        VERIFY_CODE_LIMIT_PER_IP: '10000',
        // Map tiles from the sandbox, so no page the bench loads in a browser reaches CARTO.
        MAP_TILE_URL: `${upstreams.baseUrl}/sandbox/map-tiles/{z}/{x}/{y}{r}.png`,
        // One log line per request would measure the pipe to this process, not the portal.
        LOG_LEVEL: 'warn',
        ...probeEnv,
        ...options.env,
      },
      {
        nodeArgs: [
          ...(options.memoryProbe ? ['--expose-gc', '--import', PROBE_MODULE] : []),
          ...(options.nodeArgs ?? []),
        ],
      },
    );
    cleanups.push(() => portal.stop());

    const probes: Record<string, string> = {};
    if (options.memoryProbe) {
      probes.portal = await waitForBanner(() => portal.output(), MEMORY_PROBE_BANNER);
      probes['sandbox upstreams'] = await waitForBanner(
        () => upstreams.output(),
        MEMORY_PROBE_BANNER,
      );
      if (database.probeUrl) probes['embedded database'] = database.probeUrl;
    }

    return {
      portal,
      upstreams,
      embeddedDatabase: database.embedded,
      probes,
      signIn: async (email) => (await signIn(portal, upstreams, email)).cookieHeader(),
      signInClient: (email) => signIn(portal, upstreams, email),
      setFaults: (upstream, settings) => setSandboxFault(upstreams.baseUrl, upstream, settings),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface BenchDatabase {
  url: string;
  embedded: boolean;
  /**
   * DATABASE_POOL_MAX for the portal. The embedded database's socket server can mix the messages
   * of several connections. It also closes any connection past its limit of 2 as soon as it
   * opens, and a larger pool then fails requests with `read ECONNRESET`.
   */
  portalPoolMax: number;
  /** Memory probe of the embedded database's process, when it has one. */
  probeUrl: string | undefined;
  drop(): Promise<void>;
}

/**
 * Creates a fresh database on TEST_DATABASE_URL's or DATABASE_URL's server, or else starts
 * embedded PostgreSQL in a child process.
 */
export async function startBenchDatabase(memoryProbe: boolean): Promise<BenchDatabase> {
  const testDatabase: TestDatabase = await createTestDatabase();
  if (testDatabase.url) {
    return {
      url: testDatabase.url,
      embedded: false,
      portalPoolMax: 10,
      probeUrl: undefined,
      drop: () => testDatabase.drop(),
    };
  }

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'portal-bench-'));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      ...(memoryProbe ? ['--import', PROBE_MODULE] : []),
      'bench/embedded-database.ts',
      path.join(dataDir, 'pglite'),
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...(memoryProbe ? { BENCH_MEMORY_PROBE: 'on' } : {}) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const drop = async () => {
    await stopChild(child);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const url = await waitForBanner(() => output, DATABASE_BANNER, child);
    const probeUrl = memoryProbe
      ? await waitForBanner(() => output, MEMORY_PROBE_BANNER, child)
      : undefined;
    return { url, embedded: true, portalPoolMax: 1, probeUrl, drop };
  } catch (error) {
    await drop();
    throw error;
  }
}

/**
 * Applies the migrations and writes the integration service's demo rows (subscriptions,
 * shipments, notifications), which a development server seeds at start and a production build
 * never does, so the bench's pages show a shipment to track.
 */
async function seedDemoRows(url: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await migrate(pool);
    await seedIntegrationDatabase(pool, new Date());
  } finally {
    await pool.end();
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Waits for the line that starts with `banner` in a process's output and returns the rest of it. */
async function waitForBanner(
  output: () => string,
  banner: string,
  child?: ChildProcess,
): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const line = output()
      .split('\n')
      .find((text) => text.startsWith(banner));
    if (line) return line.slice(banner.length).trim();
    if (child && child.exitCode !== null) {
      throw new Error(`The process exited with code ${child.exitCode} before "${banner.trim()}".`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`No "${banner.trim()}" line within 30 s.`);
}

async function signIn(
  portal: PortalServer,
  upstreams: PortalServer,
  email: string,
): Promise<PatientClient> {
  const client = new PatientClient(portal.baseUrl);
  const since = new Date();
  const sent = await client.postJson('/api/patient/auth/send-code', { email });
  if (sent.status !== 202) throw new Error(`Requesting a sign-in code failed with ${sent.status}.`);
  const code = await readSignInCode(upstreams.baseUrl, email, since);
  const verified = await client.postJson('/api/patient/auth/verify', { email, code });
  if (verified.status !== 200) throw new Error(`Sign-in failed with status ${verified.status}.`);
  return client;
}

/** Reads each process's memory probe (bench/memory-probe.ts) by its name in `probes`. */
export async function sampleProbes(
  probes: Record<string, string>,
): Promise<Record<string, MemorySample>> {
  const samples: Record<string, MemorySample> = {};
  for (const [name, probeUrl] of Object.entries(probes)) {
    const response = await fetch(`${probeUrl}/memory`);
    if (!response.ok) {
      throw new Error(`The memory probe of the ${name} returned ${response.status}.`);
    }
    samples[name] = (await response.json()) as MemorySample;
  }
  return samples;
}
