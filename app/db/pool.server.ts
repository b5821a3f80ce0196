import pg from 'pg';

import { getEnv } from '~/config/env.server';
import { getLogger } from '~/utils/logger.server';
import { singleton } from '~/utils/singleton.server';

const POOL_KEY = 'pg-pool';

/** Creates the pool for a connection string; server.ts calls this once at start. */
export function createPool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, idleTimeoutMillis: 30_000 });
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

/** Runs `work` inside one transaction on one client, rolling back when it throws. */
export async function withTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await getPool().connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
