import { AsyncLocalStorage } from 'node:async_hooks';

import { getEnv } from '~/config/env.server';
import { singleton } from '~/utils/singleton.server';

interface UpstreamDeadline {
  /** Epoch ms after which no upstream attempt starts and none keeps waiting. */
  deadlineMs: number;
}

function deadlineStorage(): AsyncLocalStorage<UpstreamDeadline> {
  return singleton('upstream-deadline-storage', () => new AsyncLocalStorage<UpstreamDeadline>());
}

/**
 * Runs `work` under one deadline, UPSTREAM_BUDGET_MS from now, shared by every upstream call it
 * makes. entry.server.tsx runs each portal request this way, so a page waits on upstreams for at
 * most the budget however many calls it chains. Work that goes on after the response, such as
 * the sign-in email, calls it again to get a budget of its own.
 */
export function runWithUpstreamBudget<T>(work: () => T): T {
  const deadlineMs = Date.now() + getEnv().upstreamBudgetMs;
  return deadlineStorage().run({ deadlineMs }, work);
}

/**
 * Returns the deadline of an upstream call starting now: the deadline of the portal request it
 * serves, or UPSTREAM_BUDGET_MS from now for a call outside any request (a background job),
 * whichever comes first.
 */
export function upstreamDeadlineMs(): number {
  const ownDeadlineMs = Date.now() + getEnv().upstreamBudgetMs;
  const requestDeadlineMs = deadlineStorage().getStore()?.deadlineMs;
  return requestDeadlineMs === undefined
    ? ownDeadlineMs
    : Math.min(ownDeadlineMs, requestDeadlineMs);
}
