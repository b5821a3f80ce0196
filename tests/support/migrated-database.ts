import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import pg from 'pg';

import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../db/embedded';
import { migrate } from '../../db/migrate';

import { createTestDatabase } from './test-database';

export interface MigratedDatabase {
  pool: pg.Pool;
  stop(): Promise<void>;
}

/**
 * Starts a fresh database with every migration applied: a new database on TEST_DATABASE_URL's
 * server when set, else embedded PostgreSQL in a temporary folder.
 */
export async function startMigratedDatabase(poolMax = 4): Promise<MigratedDatabase> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'portal-db-test-'));
  const testDatabase = await createTestDatabase();
  let embedded: EmbeddedPostgres | undefined;
  if (!testDatabase.url) {
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'pglite'),
      maxConnections: poolMax + 2,
    });
  }

  // The embedded database gets one connection, as in server.ts: its socket server can mix the
  // messages of separate connections.
  const pool = new pg.Pool({
    connectionString: testDatabase.url ?? embedded?.url,
    max: embedded ? 1 : poolMax,
  });
  await migrate(pool);
  return {
    pool,
    async stop() {
      await pool.end();
      await embedded?.stop();
      await testDatabase.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
