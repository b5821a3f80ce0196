import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isDatabaseUnavailable } from './database-errors.server';

/** Accepts connections and never responds, like a database behind a dropped network. */
let silentServer: Server;
let silentPort: number;
const silentSockets: Socket[] = [];

beforeAll(async () => {
  silentServer = createServer((socket) => silentSockets.push(socket));
  await new Promise<void>((resolve) => silentServer.listen(0, '127.0.0.1', resolve));
  silentPort = (silentServer.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const socket of silentSockets) socket.destroy();
  await new Promise((resolve) => silentServer.close(resolve));
});

/** Returns the error of one query through a fresh pool, or fails the test when it succeeds. */
async function queryError(config: pg.PoolConfig): Promise<unknown> {
  const pool = new pg.Pool({ max: 1, ...config });
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    return error;
  } finally {
    await pool.end();
  }
  throw new Error('The query succeeded, but the test expects it to fail.');
}

describe('isDatabaseUnavailable', () => {
  it('matches a refused connection', async () => {
    // Port 1 on loopback has no listener, so the connect is refused at once.
    const error = await queryError({ connectionString: 'postgres://portal@127.0.0.1:1/portal' });

    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('matches a connect that times out', async () => {
    const error = await queryError({
      connectionString: `postgres://portal@127.0.0.1:${silentPort}/portal`,
      connectionTimeoutMillis: 200,
    });

    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('matches server states that refuse work', () => {
    for (const code of ['08006', '08001', '57P01', '57P03', '53300']) {
      const error = Object.assign(new Error('the server cannot serve now'), { code });
      expect(isDatabaseUnavailable(error), code).toBe(true);
    }
  });

  it('leaves errors of the query itself alone', () => {
    const syntaxError = Object.assign(new Error('syntax error at or near "SELEC"'), {
      code: '42601',
    });
    const uniqueViolation = Object.assign(new Error('duplicate key'), { code: '23505' });

    expect(isDatabaseUnavailable(syntaxError)).toBe(false);
    expect(isDatabaseUnavailable(uniqueViolation)).toBe(false);
    expect(isDatabaseUnavailable(new Error('something else'))).toBe(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
  });

  it('matches an AggregateError of refused addresses', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED ::1:5432'), {
      code: 'ECONNREFUSED',
    });

    expect(isDatabaseUnavailable(new AggregateError([refused], 'all addresses failed'))).toBe(true);
  });
});
