import { randomBytes } from 'node:crypto';

import pg from 'pg';

export interface TestDatabase {
  /** Connection string of a fresh, empty database, or undefined to use the embedded one. */
  url: string | undefined;
  drop(): Promise<void>;
}

/**
 * Creates a fresh database on the PostgreSQL server named by TEST_DATABASE_URL or DATABASE_URL,
 * so each test server starts from an empty schema. Without either, tests use the portal's
 * embedded database.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (!serverUrl) return { url: undefined, drop: () => Promise.resolve() };

  const name = `portal_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();

  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
