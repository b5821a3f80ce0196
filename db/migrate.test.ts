import { mkdtemp, readdir, rm, writeFile, mkdir, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { createTestDatabase, type TestDatabase } from '../tests/support/test-database';

import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded';
import { migrate, MIGRATIONS_DIR } from './migrate';

let dataDir: string;
let embedded: EmbeddedPostgres | undefined;
let testDatabase: TestDatabase;
let pools: pg.Pool[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'portal-migrate-'));
  testDatabase = await createTestDatabase();
  if (!testDatabase.url) {
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'pglite'),
      maxConnections: 4,
    });
  }
});

afterEach(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  pools = [];
});

afterAll(async () => {
  await embedded?.stop();
  await testDatabase?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

function newPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: testDatabase.url ?? embedded?.url, max: 2 });
  pools.push(pool);
  return pool;
}

describe('migrate', () => {
  it('applies each file once under concurrent starts', async () => {
    const files = (await readdir(MIGRATIONS_DIR)).filter((name) => name.endsWith('.sql')).sort();

    const [first, second] = await Promise.all([migrate(newPool()), migrate(newPool())]);
    expect([...first, ...second].sort()).toEqual(files);

    const pool = newPool();
    const applied = await pool.query<{ name: string }>(
      'SELECT name FROM schema_migrations ORDER BY name',
    );
    expect(applied.rows.map((row) => row.name)).toEqual(files);
    expect(await migrate(pool)).toEqual([]);
  });

  it('creates the tables the portal reads', async () => {
    const pool = newPool();
    const tables = await pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    const names = tables.rows.map((row) => row.table_name);
    for (const table of [
      'shipments',
      'tracking_cache',
      'notifications',
      'subscriptions',
      'login_challenges',
      'sessions',
      'rate_limits',
      'audit_events',
    ]) {
      expect(names).toContain(table);
    }
  });

  it('rolls back a failing file and names it', async () => {
    const directory = path.join(dataDir, 'broken-migrations');
    await mkdir(directory);
    for (const file of await readdir(MIGRATIONS_DIR)) {
      await copyFile(path.join(MIGRATIONS_DIR, file), path.join(directory, file));
    }
    await writeFile(
      path.join(directory, '9999_broken.sql'),
      'CREATE TABLE half_done (id int);\nSELECT * FROM table_that_does_not_exist;',
    );

    const pool = newPool();
    await expect(migrate(pool, directory)).rejects.toThrowError(/9999_broken\.sql/);
    const leftover = await pool.query(`SELECT to_regclass('public.half_done') AS name`);
    expect(leftover.rows[0]).toEqual({ name: null });
  });

  it('rejects a badly named file', async () => {
    const directory = path.join(dataDir, 'bad-names');
    await mkdir(directory);
    await writeFile(path.join(directory, 'add-things.sql'), 'SELECT 1;');
    await expect(migrate(newPool(), directory)).rejects.toThrowError(/add-things\.sql/);
  });
});
