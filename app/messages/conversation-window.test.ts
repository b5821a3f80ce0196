import { describe, expect, it } from 'vitest';

import { MESSAGES_PER_PAGE, parseShowCount, selectNewestMessages } from './conversation-window';
import type { ConversationMessage } from './message';

function thread(length: number, newIds: string[] = []): ConversationMessage[] {
  return Array.from({ length }, (_, index) => {
    const id = `message-${index + 1}`;
    return {
      id,
      sentAt: new Date(Date.UTC(2026, 0, 1, 0, index)).toISOString(),
      lastUpdated: null,
      from: 'care-team',
      senderName: 'Nia Okafor',
      parts: [],
      isNew: newIds.includes(id),
    };
  });
}

describe('parseShowCount', () => {
  it('defaults to one page', () => {
    expect(parseShowCount(null)).toBe(MESSAGES_PER_PAGE);
    expect(parseShowCount('')).toBe(MESSAGES_PER_PAGE);
  });

  it('accepts whole numbers from 1 to 99999', () => {
    expect(parseShowCount('1')).toBe(1);
    expect(parseShowCount('60')).toBe(60);
    expect(parseShowCount('99999')).toBe(99999);
  });

  it('rejects anything else', () => {
    for (const value of ['0', '-1', '060', '1.5', '1e3', ' 30', '30 ', '+30', 'all', '100000']) {
      expect(parseShowCount(value), value).toBeUndefined();
    }
  });
});

describe('selectNewestMessages', () => {
  it('keeps a short thread whole', () => {
    const messages = thread(3);
    expect(selectNewestMessages(messages, MESSAGES_PER_PAGE)).toEqual({ messages, earlier: null });
  });

  it('keeps the newest and counts the hidden ones', () => {
    const messages = thread(70, ['message-1', 'message-2', 'message-70']);

    const shown = selectNewestMessages(messages, 30);

    expect(shown.messages.map((message) => message.id)).toEqual(
      messages.slice(40).map((message) => message.id),
    );
    expect(shown.earlier).toEqual({
      hiddenCount: 40,
      hiddenNewCount: 2,
      nextShowCount: 30 + MESSAGES_PER_PAGE,
    });
  });

  it('links to the whole thread when one page is left', () => {
    const shown = selectNewestMessages(thread(70), 60);
    expect(shown.earlier?.nextShowCount).toBe(70);
  });
});
