import type { ConversationMessage } from './message';

/**
 * Messages `/messages` shows at first, the newest of the thread, and how many more each "Show
 * earlier messages" link adds. Each message is in the HTML twice, as markup and as loader data
 * for hydration. The whole 130-message thread of the demo patient Priya made a first response of
 * 26 KB gzip, more than the 14 KB a new TCP connection delivers in its first round trip. With 30
 * messages her page is about 7 KB with headers (`npm run bench:budget`), which leaves room for
 * messages longer than the demo's. The JSON API returns the whole thread.
 */
export const MESSAGES_PER_PAGE = 30;

/** `?show=`: a whole number from 1, at most five digits. */
const SHOW_PATTERN = /^[1-9]\d{0,4}$/;

/** The newest messages of a conversation that the page shows, and what it leaves out. */
export interface ConversationWindow {
  /** The newest messages, oldest first. */
  messages: ConversationMessage[];
  earlier: EarlierMessages | null;
}

/** The messages older than the ones shown. `ConversationWindow.earlier` is null when none are. */
export interface EarlierMessages {
  hiddenCount: number;
  /**
   * Number of hidden care-team messages the patient had not read. Opening the page has marked
   * them read, like the rest of the conversation, so the page states their number instead.
   */
  hiddenNewCount: number;
  /** `?show=` value of the link that shows more: one page more, at most the whole thread. */
  nextShowCount: number;
}

/**
 * Reads `?show=`. Absent or empty means MESSAGES_PER_PAGE, and anything but a whole number from 1
 * to 99999 returns undefined.
 */
export function parseShowCount(value: string | null): number | undefined {
  if (value === null || value === '') return MESSAGES_PER_PAGE;
  if (!SHOW_PATTERN.test(value)) return undefined;
  return Number(value);
}

/** Keeps the newest `showCount` of `messages`, which are ordered oldest first. */
export function selectNewestMessages(
  messages: ConversationMessage[],
  showCount: number,
): ConversationWindow {
  const hiddenCount = Math.max(0, messages.length - showCount);
  if (hiddenCount === 0) return { messages, earlier: null };

  const hidden = messages.slice(0, hiddenCount);
  return {
    messages: messages.slice(hiddenCount),
    earlier: {
      hiddenCount,
      hiddenNewCount: hidden.filter((message) => message.isNew).length,
      nextShowCount: Math.min(showCount + MESSAGES_PER_PAGE, messages.length),
    },
  };
}
