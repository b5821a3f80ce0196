import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { appendPortalLog } from './portal-logs';
import { createTestDatabase, type TestDatabase } from './test-database';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const READY_TIMEOUT_MS = 90_000;

export interface PortalServer {
  baseUrl: string;
  /**
   * Everything the process wrote to stdout and stderr so far, for log assertions. With
   * PORTAL_TEST_LOG_DIR set, the output also goes to a file there.
   */
  output(): string;
  /** Sends a signal to the process, for shutdown and crash tests. */
  kill(signal: NodeJS.Signals): void;
  /** Resolves with the exit code (null after a signal) once the process has exited. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Starts `server.ts` in a child process on a free loopback port with the sandbox upstreams and a
 * fresh database (embedded, or a new one on TEST_DATABASE_URL's server) unless `extraEnv` names
 * a DATABASE_URL, and waits for /readyz. `options.nodeArgs` go to `node` after `--import tsx`,
 * so they may import TypeScript modules.
 */
export async function startPortalServer(
  extraEnv: Record<string, string> = {},
  options: { nodeArgs?: string[] } = {},
): Promise<PortalServer> {
  const port = await findFreePort();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'portal-test-'));
  const database: TestDatabase = extraEnv.DATABASE_URL
    ? { url: extraEnv.DATABASE_URL, drop: () => Promise.resolve() }
    : await createTestDatabase();

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    EMBEDDED_DATABASE_DIR: path.join(dataDir, 'pglite'),
    // Tests run the notification jobs themselves (POST /sandbox/jobs/run), so that background
    // runs never change the upstream call counts or notifications a test checks.
    NOTIFICATION_WORKER: 'off',
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...extraEnv,
  };
  const nodeArgs = ['--import', 'tsx', ...(options.nodeArgs ?? []), 'server.ts'];
  const child = spawn(process.execPath, nodeArgs, { cwd: REPO_ROOT, env });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  let output = '';
  const logFile = `portal-${port}-${child.pid ?? 'exited'}.log`;
  const capture = (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    appendPortalLog(logFile, text);
  };
  child.stdout.on('data', capture);
  child.stderr.on('data', capture);

  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(baseUrl, child, () => output);
  } catch (error) {
    await stopChild(child);
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }

  return {
    baseUrl,
    output: () => output,
    kill: (signal) => child.kill(signal),
    exited,
    async stop() {
      await stopChild(child);
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function waitUntilReady(
  baseUrl: string,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(
        `The portal exited with code ${child.exitCode} before it was ready:\n${output()}`,
      );
    }
    const ready = await fetch(`${baseUrl}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`The portal was not ready within ${READY_TIMEOUT_MS} ms:\n${output()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  // A process ended by a signal has a signalCode and no exitCode.
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('No port was assigned.'));
      });
    });
  });
}
