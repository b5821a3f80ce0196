import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type pg from 'pg';

export const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Key of the advisory lock that lets exactly one process migrate at a time. */
const MIGRATION_LOCK_KEY = 7_351_942_001;

const MIGRATION_FILE_PATTERN = /^\d{4}_[a-z0-9_]+\.sql$/;

/**
 * Applies the SQL files of `db/migrations` that this database has not seen, in file-name order.
 *
 * A session-level advisory lock serialises concurrent starts on PostgreSQL: the second process
 * waits, then finds nothing left to apply. Each file runs in its own transaction that first
 * claims its `schema_migrations` row, which also guards embedded PGlite, where every pooled
 * connection shares one backend and the advisory lock therefore never blocks.
 * Returns the names of the files this call applied.
 */
export async function migrate(pool: pg.Pool, directory = MIGRATIONS_DIR): Promise<string[]> {
  const files = await listMigrationFiles(directory);
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         name text PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const applied = await client.query<{ name: string }>('SELECT name FROM schema_migrations');
    const appliedNames = new Set(applied.rows.map((row) => row.name));

    const newlyApplied: string[] = [];
    for (const file of files) {
      if (appliedNames.has(file)) continue;
      if (await applyMigration(client, directory, file)) newlyApplied.push(file);
    }
    return newlyApplied;
  } finally {
    await client
      .query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
      .catch(() => undefined);
    client.release();
  }
}

/** Applies one file in a transaction; returns false when another caller claimed it first. */
async function applyMigration(
  client: pg.PoolClient,
  directory: string,
  file: string,
): Promise<boolean> {
  const sql = await readFile(path.join(directory, file), 'utf8');
  await client.query('BEGIN');
  try {
    const claim = await client.query(
      'INSERT INTO schema_migrations (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING name',
      [file],
    );
    if (claim.rowCount === 0) {
      await client.query('ROLLBACK');
      return false;
    }
    await client.query(sql);
    await client.query('COMMIT');
    return true;
  } catch (error) {
    await client.query('ROLLBACK');
    throw new Error(`Migration ${file} failed: ${(error as Error).message}`, { cause: error });
  }
}

async function listMigrationFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory);
  const sqlFiles = entries.filter((name) => name.endsWith('.sql')).sort();

  const badNames = sqlFiles.filter((name) => !MIGRATION_FILE_PATTERN.test(name));
  if (badNames.length > 0) {
    throw new Error(
      `Migration file names must look like 0001_name.sql; rename: ${badNames.join(', ')}`,
    );
  }
  return sqlFiles;
}
