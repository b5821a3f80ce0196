import pg from 'pg';

import { getEnv } from '~/config/env.server';
import { getLogger } from '~/utils/logger.server';
import { singleton } from '~/utils/singleton.server';

const POOL_KEY = 'pg-pool';

/**
 * Creates the pool for a connection string; server.ts calls this once at start. A database that
 * is down or cut off fails a query within DATABASE_CONNECT_TIMEOUT_MS (no connection) or
 * DATABASE_QUERY_TIMEOUT_MS (no response on an open connection) instead of hanging the request.
 */
export function createPool(connectionString: string, max: number): pg.Pool {
  const { databaseTimeouts } = getEnv();
  const pool = new pg.Pool({
    connectionString,
    max,
    idleTimeoutMillis: 30_000,
    // pg-pool applies this to opening a connection and to waiting for a free one in the pool.
    connectionTimeoutMillis: databaseTimeouts.connectMs,
    // pool.query releases a client whose query timed out with the error, so the pool drops it.
    query_timeout: databaseTimeouts.queryMs,
  });
  pool.on('error', (error) => {
    getLogger().error({ err: { message: error.message } }, 'idle database client failed');
  });
  return pool;
}

/** Stores the pool server.ts created, so every module of the process shares it. */
export function registerPool(pool: pg.Pool): pg.Pool {
  return singleton(POOL_KEY, () => pool);
}

/** Returns the process's one pool. */
export function getPool(): pg.Pool {
  return singleton(POOL_KEY, () => {
    const { database } = getEnv();
    if (database.mode === 'embedded') {
      throw new Error(
        'The embedded database is not running. Start the portal with server.ts, which starts it, or set DATABASE_URL.',
      );
    }
    return createPool(database.url, database.poolMax);
  });
}

/**
 * Runs `work` inside one transaction on one client, rolling back when it throws. A client whose
 * rollback fails is closed rather than returned to the pool, because its connection may be dead
 * or still busy with a timed-out query.
 */
export async function withTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await getPool().connect();
  let brokenConnection: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      brokenConnection =
        rollbackError instanceof Error ? rollbackError : new Error('ROLLBACK failed');
    });
    throw error;
  } finally {
    client.release(brokenConnection);
  }
}
