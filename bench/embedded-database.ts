/**
 * Serves embedded PostgreSQL (PGlite) from a process of its own for bench/load.ts, so that the
 * database does not share an event loop with the load generator and skew its timings. Prints
 * `database listening on <url>` once it accepts connections, and stops on SIGTERM or SIGINT.
 *
 * Run: node --import tsx bench/embedded-database.ts <data folder>
 */
export const DATABASE_BANNER = 'database listening on ';

async function main(): Promise<void> {
  const dataDir = process.argv[2];
  if (!dataDir)
    throw new Error('Pass the data folder, e.g. node bench/embedded-database.ts /tmp/x');

  // Imported here, so that importing the banner does not load PGlite.
  const { startEmbeddedPostgres } = await import('../db/embedded');
  // The portal gets one connection, because the socket server can mix the messages of several.
  // A connection past this limit is closed at once, so bench-portal.ts sets the portal's
  // DATABASE_POOL_MAX to 1.
  const database = await startEmbeddedPostgres({ dataDir, maxConnections: 2 });
  process.stdout.write(`${DATABASE_BANNER}${database.url}\n`);

  const stop = () => {
    void database.stop().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1]?.endsWith('embedded-database.ts')) await main();
