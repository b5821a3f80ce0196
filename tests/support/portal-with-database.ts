import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { decodeJwt } from 'jose';
import pg from 'pg';

import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../db/embedded';

import { startPortalServer, type PortalServer } from './portal-server';
import { createTestDatabase } from './test-database';

export interface PortalWithDatabase {
  portal: PortalServer;
  /** A connection to the portal's own database, for arranging rows a test cannot reach by HTTP. */
  pool: pg.Pool;
  stop(): Promise<void>;
}

/**
 * Starts a test portal on a database this process can also query: a fresh database on
 * TEST_DATABASE_URL's server when set, else embedded PostgreSQL started here.
 *
 * The embedded server handles one statement at a time and can mix the protocol messages of
 * connections that send at the same moment. So the portal gets one connection, and a test
 * should query only while none of its requests is running.
 */
export async function startPortalWithDatabase(
  extraEnv: Record<string, string> = {},
): Promise<PortalWithDatabase> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'portal-db-'));
  const testDatabase = await createTestDatabase();
  let embedded: EmbeddedPostgres | undefined;
  let portal: PortalServer | undefined;
  let pool: pg.Pool | undefined;

  const stop = async () => {
    await portal?.stop();
    await pool?.end();
    await embedded?.stop();
    await testDatabase.drop();
    await rm(dataDir, { recursive: true, force: true });
  };

  try {
    if (!testDatabase.url) {
      embedded = await startEmbeddedPostgres({
        dataDir: path.join(dataDir, 'pglite'),
        maxConnections: 4,
      });
    }
    const url = testDatabase.url ?? embedded?.url ?? '';
    portal = await startPortalServer({
      DATABASE_URL: url,
      DATABASE_POOL_MAX: embedded ? '1' : '4',
      ...extraEnv,
    });
    pool = new pg.Pool({ connectionString: url, max: 1 });
  } catch (error) {
    await stop();
    throw error;
  }
  return { portal, pool, stop };
}

/** Returns the session id (`sid`) inside a session cookie's JWT. */
export function sessionIdOf(sessionJwt: string | undefined): string {
  if (!sessionJwt) throw new Error('The client holds no session cookie.');

  const { sid } = decodeJwt(sessionJwt);
  if (typeof sid !== 'string') throw new Error('The session JWT carries no session id.');
  return sid;
}
