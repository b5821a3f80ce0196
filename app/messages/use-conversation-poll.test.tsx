// @vitest-environment jsdom
import { act, cleanup, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { ConversationMessage } from './message';
import { MESSAGE_POLL_INTERVAL_MS, useConversationPoll } from './use-conversation-poll';

const START_CURSOR = '2026-12-01T10:00:00.000Z';

function reply(id: string, lastUpdated: string): ConversationMessage {
  return {
    id,
    sentAt: lastUpdated,
    lastUpdated,
    from: 'care-team',
    senderName: 'Nia Okafor',
    parts: [{ kind: 'text', text: `Reply ${id}` }],
    isNew: true,
  };
}

let visibility: DocumentVisibilityState = 'visible';
const fetchMock = vi.fn<typeof fetch>();

function answerWith(messages: ConversationMessage[], cursor: string): void {
  fetchMock.mockResolvedValueOnce(Response.json({ messages, cursor }));
}

function answerWithStatus(status: number): void {
  fetchMock.mockResolvedValueOnce(new Response('{}', { status }));
}

function requestedSince(call: number): string | null {
  const input = fetchMock.mock.calls[call]?.[0];
  if (typeof input !== 'string') throw new Error(`Call ${call} did not fetch a URL string.`);
  const url = new URL(input, 'http://portal.test');
  return url.searchParams.get('since');
}

function setVisibility(state: DocumentVisibilityState): void {
  visibility = state;
  document.dispatchEvent(new Event('visibilitychange'));
}

beforeEach(() => {
  vi.useFakeTimers();
  visibility = 'visible';
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility });
  fetchMock.mockReset();
  vi.stubGlobal('fetch', fetchMock);
});

afterEach(() => {
  // Vitest runs without globals, so Testing Library cannot unmount on its own.
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('useConversationPoll', () => {
  it('polls every 15 seconds from the latest cursor', async () => {
    const { result } = renderHook(() => useConversationPoll(START_CURSOR));
    answerWith([reply('r1', '2026-12-01T10:05:00.000Z')], '2026-12-01T10:05:00.000Z');
    answerWith([], '2026-12-01T10:05:00.000Z');

    await act(() => vi.advanceTimersByTimeAsync(MESSAGE_POLL_INTERVAL_MS - 1));
    expect(fetchMock).not.toHaveBeenCalled();
    await act(() => vi.advanceTimersByTimeAsync(1));
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(requestedSince(0)).toBe(START_CURSOR);
    expect(result.current.messages.map((message) => message.id)).toEqual(['r1']);

    await act(() => vi.advanceTimersByTimeAsync(MESSAGE_POLL_INTERVAL_MS));
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(requestedSince(1)).toBe('2026-12-01T10:05:00.000Z');
    expect(result.current.messages).toHaveLength(1);
  });

  it('stops while the tab is hidden and polls at once when shown', async () => {
    renderHook(() => useConversationPoll(START_CURSOR));

    act(() => setVisibility('hidden'));
    await act(() => vi.advanceTimersByTimeAsync(5 * MESSAGE_POLL_INTERVAL_MS));
    expect(fetchMock).not.toHaveBeenCalled();

    answerWith([], START_CURSOR);
    act(() => setVisibility('visible'));
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it('backs off after failures and recovers after a success', async () => {
    const { result } = renderHook(() => useConversationPoll(START_CURSOR));
    answerWithStatus(503);
    answerWithStatus(503);
    answerWith([], START_CURSOR);
    answerWith([], START_CURSOR);

    await act(() => vi.advanceTimersByTimeAsync(MESSAGE_POLL_INTERVAL_MS));
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(result.current.failures).toBe(1);

    // The second poll waits twice the interval, the third four times.
    await act(() => vi.advanceTimersByTimeAsync(2 * MESSAGE_POLL_INTERVAL_MS - 1));
    expect(fetchMock).toHaveBeenCalledTimes(1);
    await act(() => vi.advanceTimersByTimeAsync(1));
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(result.current.failures).toBe(2);

    await act(() => vi.advanceTimersByTimeAsync(4 * MESSAGE_POLL_INTERVAL_MS));
    expect(fetchMock).toHaveBeenCalledTimes(3);
    expect(result.current.failures).toBe(0);

    await act(() => vi.advanceTimersByTimeAsync(MESSAGE_POLL_INTERVAL_MS));
    expect(fetchMock).toHaveBeenCalledTimes(4);
  });

  it('stops polling when the page unmounts', async () => {
    const { unmount } = renderHook(() => useConversationPoll(START_CURSOR));
    unmount();
    await act(() => vi.advanceTimersByTimeAsync(3 * MESSAGE_POLL_INTERVAL_MS));
    expect(fetchMock).not.toHaveBeenCalled();
  });
});
