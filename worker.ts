/**
 * Runs the notification jobs alone, for production, where the web servers set
 * NOTIFICATION_WORKER=off. Several workers may run at once: the dedupe keys keep every
 * notification single. Needs DATABASE_URL, because the embedded database serves one process.
 */
import { EnvError, getEnv } from './app/config/env.server';
import { createPool, registerPool } from './app/db/pool.server';
import { startNotificationWorker } from './app/notifications/worker.server';
import { getLogger } from './app/utils/logger.server';
import { migrate } from './db/migrate';

async function main(): Promise<void> {
  const env = getEnv();
  if (env.database.mode !== 'external') {
    throw new EnvError(
      'The worker needs DATABASE_URL: the embedded database serves only the process that starts it, so run the jobs in `npm start` instead.',
    );
  }

  const pool = registerPool(createPool(env.database.url, env.database.poolMax));
  await migrate(pool);
  const worker = startNotificationWorker(env.notifications.jobsIntervalSeconds);
  getLogger().info(
    { intervalSeconds: env.notifications.jobsIntervalSeconds },
    'notification worker started',
  );

  // setInterval in the worker is unref'd, so this keeps the process alive until a signal.
  const keepAlive = setInterval(() => undefined, 60_000);
  const shutdown = (signal: string) => {
    getLogger().info({ signal }, 'notification worker stopping');
    clearInterval(keepAlive);
    void worker
      .stop()
      .then(() => pool.end())
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  if (error instanceof EnvError) {
    process.stderr.write(`The worker cannot start. ${error.message}\n`);
    process.exit(1);
  }
  throw error;
});
