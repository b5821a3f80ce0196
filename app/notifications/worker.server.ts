import { getLogger } from '~/utils/logger.server';

import { runNotificationJobs } from './jobs.server';

export interface NotificationWorker {
  /** Stops scheduling runs and waits for the one in progress, if any. */
  stop(): Promise<void>;
}

/**
 * Runs the notification jobs now and then every `intervalSeconds`, one run at a time in this
 * process. Other processes may run the same jobs; the dedupe keys keep every notification single.
 */
export function startNotificationWorker(intervalSeconds: number): NotificationWorker {
  let running: Promise<void> | undefined;
  let stopped = false;

  const runOnce = () => {
    if (running || stopped) return;
    running = runNotificationJobs()
      .then((counts) => {
        const changed =
          counts.refillsUpcoming +
          counts.appointmentReminders +
          counts.messagesReceived +
          counts.deliveriesConfirmed +
          counts.bookingsReconciled;
        if (changed > 0) getLogger().info(counts, 'notification jobs made changes');
      })
      .finally(() => {
        running = undefined;
      });
  };

  runOnce();
  const timer = setInterval(runOnce, intervalSeconds * 1000);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
