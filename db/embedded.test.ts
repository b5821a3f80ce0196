import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { startEmbeddedPostgres } from './embedded';

let workDir: string;

beforeEach(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'portal-embedded-'));
});

afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('startEmbeddedPostgres', () => {
  it('serves pg over loopback and keeps data', async () => {
    const dataDir = path.join(workDir, 'pglite');
    const first = await startEmbeddedPostgres({ dataDir, maxConnections: 2 });
    expect(first.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres/);
    const client = new pg.Client({ connectionString: first.url });
    await client.connect();
    await client.query('CREATE TABLE kept (value text)');
    await client.query(`INSERT INTO kept VALUES ('still here')`);
    await client.end();
    await first.stop();

    const second = await startEmbeddedPostgres({ dataDir, maxConnections: 2 });
    const reader = new pg.Client({ connectionString: second.url });
    await reader.connect();
    const result = await reader.query<{ value: string }>('SELECT value FROM kept');
    await reader.end();
    await second.stop();
    expect(result.rows).toEqual([{ value: 'still here' }]);
  });

  it('closes connections past maxConnections', async () => {
    const embedded = await startEmbeddedPostgres({
      dataDir: path.join(workDir, 'pglite'),
      maxConnections: 1,
    });
    const first = new pg.Client({ connectionString: embedded.url });
    const second = new pg.Client({ connectionString: embedded.url });
    second.on('error', () => undefined);
    try {
      await first.connect();
      await expect(second.connect()).rejects.toThrowError(/Connection terminated|ECONNRESET/);
      expect((await first.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await first.end();
      await embedded.stop();
    }
  });

  it('rejects a second user of one folder', async () => {
    const dataDir = path.join(workDir, 'pglite');
    const first = await startEmbeddedPostgres({ dataDir, maxConnections: 2 });
    try {
      await expect(startEmbeddedPostgres({ dataDir, maxConnections: 2 })).rejects.toThrowError(
        /is in use by process \d+/,
      );
    } finally {
      await first.stop();
    }
  });

  it('takes over a lock left by a stopped process', async () => {
    const dataDir = path.join(workDir, 'pglite');
    await writeFile(`${dataDir}.lock`, '2147483646');
    const embedded = await startEmbeddedPostgres({ dataDir, maxConnections: 2 });
    await embedded.stop();
  });
});
