import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  /** Connection string for `pg`, on a loopback port chosen by the OS. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts PGlite with its data in `dataDir` and serves it over the Postgres wire protocol on
 * 127.0.0.1, so the portal's ordinary `pg` code runs unchanged.
 *
 * PGlite executes one query at a time; the socket server multiplexes up to `maxConnections`
 * clients and keeps a transaction's statements together. It closes any connection past that
 * limit as soon as it opens, which `pg` reports as `read ECONNRESET` or `Connection terminated
 * unexpectedly`, so a pool on this database must stay within `maxConnections`. PGlite itself
 * takes no lock on its folder, and two processes writing one folder corrupt it, so a lock file
 * guards it.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  maxConnections: number;
}): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  await mkdir(path.dirname(dataDir), { recursive: true });
  const releaseLock = await lockDataDir(`${dataDir}.lock`);

  let db: PGlite;
  try {
    db = await PGlite.create(dataDir);
  } catch (error) {
    await releaseLock();
    throw new Error(
      `The embedded database in ${dataDir} could not be opened (${(error as Error).message}). ` +
        'If it was damaged, delete that folder to start with fresh demo data.',
      { cause: error },
    );
  }

  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: 0,
    maxConnections: options.maxConnections,
  });
  await server.start();

  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
      await releaseLock();
    },
  };
}

/**
 * Creates `lockPath` holding this process id, or fails when a running process has it. A lock
 * left by a process that is gone is taken over. Returns the function that releases it.
 */
async function lockDataDir(lockPath: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }

    const holderPid = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holderPid) && holderPid > 0 && isProcessRunning(holderPid)) {
      throw new Error(
        `The embedded database in ${lockPath.replace(/\.lock$/, '')} is in use by process ${holderPid}. ` +
          'Stop that portal, or give this one its own EMBEDDED_DATABASE_DIR.',
      );
    }
    await rm(lockPath, { force: true });
  }
  throw new Error(`The lock file ${lockPath} could not be created.`);
}

function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
