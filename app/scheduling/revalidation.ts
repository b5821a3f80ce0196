import type { ShouldRevalidateFunctionArgs } from 'react-router';

/**
 * Decides revalidation after a booking or reschedule. A failed change altered nothing, so the
 * page keeps its data and the chosen slot, unless the slot was taken: then the list must be fresh.
 */
export function revalidateUnlessChangeFailed({
  actionStatus,
  actionResult,
  defaultShouldRevalidate,
}: ShouldRevalidateFunctionArgs): boolean {
  const failure = (actionResult as { failure?: { code: string } } | undefined)?.failure;
  if (actionStatus !== undefined && actionStatus >= 400 && failure?.code !== 'slot_taken') {
    return false;
  }
  return defaultShouldRevalidate;
}
