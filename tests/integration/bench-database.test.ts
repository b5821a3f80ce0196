import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBenchDatabase, type BenchDatabase } from '../../bench/bench-portal';
import { demoPatient, signInByEmail } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';

// The benchmarks' database: embedded PGlite in a process of its own, reached over TCP like a
// PostgreSQL server, or a fresh database on TEST_DATABASE_URL's server.
let database: BenchDatabase;
let portal: PortalServer;

beforeAll(async () => {
  database = await startBenchDatabase(false);
  portal = await startPortalServer({
    DATABASE_URL: database.url,
    DATABASE_POOL_MAX: String(database.portalPoolMax),
  });
});

afterAll(async () => {
  await portal?.stop();
  await database?.drop();
});

describe('bench database', () => {
  it('serves repeated notification pages', async () => {
    const client = await signInByEmail(portal.baseUrl, demoPatient(0).email);

    // The root loader counts unread notifications while the feed's loader runs two queries, so a
    // pool of 3 or more opens a third connection, which the embedded database closes at once.
    const statuses: Record<string, number>[] = [];
    for (const path of ['/notifications', '/notifications', '/', '/notifications']) {
      statuses.push({ [path]: (await client.request(path)).status });
    }

    expect(statuses).toEqual([
      { '/notifications': 200 },
      { '/notifications': 200 },
      { '/': 200 },
      { '/notifications': 200 },
    ]);
  });
});
