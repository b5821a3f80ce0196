import { useEffect } from 'react';
import type { ShouldRevalidateFunctionArgs } from 'react-router';

/**
 * Revalidation of the root loader. With single fetch, React Router 7 runs every matched loader on
 * each navigation (react-router 7.18.7, `singleFetchLoaderNavigationStrategy`), so without this
 * the root loader would read the session and count unread notifications a second time for every
 * page the patient opens.
 *
 * The root loader's data is the sign-in state, the unread notification count in the header and
 * the session's time left. The time left needs no reload: the session warning moves its idle
 * deadline after every request the router makes (see session-timeout-warning.tsx). The other two
 * change only in the cases `shouldRevalidateRoot` lists.
 */

/**
 * Maximum age of the header's unread count when the patient opens another page. The integration
 * service and the notification jobs add notifications at any time, so an older count is read
 * again on the next navigation.
 */
export const ROOT_DATA_MAX_AGE_MS = 60_000;

/** First path segments of the pages that need a session. Each has a link in the header. */
const SIGNED_IN_SECTIONS = new Set([
  'prescriptions',
  'shipments',
  'messages',
  'scheduling',
  'notifications',
  'profile',
]);

/** Opening the conversation and each poll mark the care team's messages and their notices read. */
const MARKS_NOTIFICATIONS_READ = '/messages';

/** A message send changes neither the sign-in state nor the notifications. */
const SEND_MESSAGE_ACTION = '/messages';

/**
 * Decides whether the root loader runs again, given how long ago its data arrived. It runs after
 * every form submission except a message send, and when the patient loads the same address again.
 * It also runs when the next page is not a signed-in one, because the session may have ended,
 * when the patient leaves Messages, and when its data is older than ROOT_DATA_MAX_AGE_MS. Other
 * navigations between signed-in pages skip it.
 */
export function shouldRevalidateRoot(
  {
    currentUrl,
    nextUrl,
    formMethod,
    formAction,
    defaultShouldRevalidate,
  }: ShouldRevalidateFunctionArgs,
  rootDataAgeMs: number,
): boolean {
  const submitted = formMethod !== undefined && formMethod.toUpperCase() !== 'GET';
  if (submitted) {
    const sentMessage = formAction !== undefined && pathnameOf(formAction) === SEND_MESSAGE_ACTION;
    return sentMessage ? false : defaultShouldRevalidate;
  }

  const sameAddress = currentUrl.pathname + currentUrl.search === nextUrl.pathname + nextUrl.search;
  if (sameAddress || !isSignedInPage(nextUrl.pathname)) return defaultShouldRevalidate;
  if (currentUrl.pathname === MARKS_NOTIFICATIONS_READ) return defaultShouldRevalidate;
  if (rootDataAgeMs >= ROOT_DATA_MAX_AGE_MS) return defaultShouldRevalidate;
  return false;
}

/** True for the dashboard and the pages under the header's links. */
export function isSignedInPage(pathname: string): boolean {
  if (pathname === '/') return true;
  const [, section = ''] = pathname.split('/');
  return SIGNED_IN_SECTIONS.has(section);
}

function pathnameOf(path: string): string {
  return new URL(path, 'http://portal.invalid').pathname;
}

/** `Date.now()` when the page last rendered new root data; 0 before the first render. */
let rootDataReceivedAtMs = 0;

/** Records when new root loader data reached the page, for the age that `revalidateRoot` uses. */
export function useRootDataReceivedTime(rootData: unknown): void {
  useEffect(() => {
    rootDataReceivedAtMs = Date.now();
  }, [rootData]);
}

/** Decides, as the root route's `shouldRevalidate`, whether the root loader runs again. */
export function revalidateRoot(args: ShouldRevalidateFunctionArgs): boolean {
  return shouldRevalidateRoot(args, Date.now() - rootDataReceivedAtMs);
}
