import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  /** Connection string for `pg`, on a loopback port chosen by the OS. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts PGlite with its data in `dataDir` and serves it over the Postgres wire protocol on
 * 127.0.0.1, so the portal's ordinary `pg` code runs unchanged.
 *
 * PGlite executes one query at a time; the socket server multiplexes up to `maxConnections`
 * clients and keeps a transaction's statements together.
 * NOTE: two processes must not share one `dataDir`; PGlite takes no lock on it.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  maxConnections: number;
}): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });

  const db = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: 0,
    maxConnections: options.maxConnections,
  });
  await server.start();

  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
