import { useEffect, useRef, useState } from 'react';

import { BACKGROUND_REQUEST_HEADER } from '~/auth/session-limits';

import type { ConversationMessage } from './message';

/** Time between polls while the page is visible and the last poll worked. */
export const MESSAGE_POLL_INTERVAL_MS = 15_000;
/** Maximum wait between polls after repeated failures. */
const MAX_BACKOFF_MS = 4 * 60_000;

export interface ConversationPoll {
  /** Messages the polls have brought since the page loaded, by id. */
  messages: ConversationMessage[];
  /** Consecutive failed polls; 0 while polling works. */
  failures: number;
}

interface PollAnswer {
  messages: ConversationMessage[];
  cursor: string;
}

/**
 * Polls `GET /api/patient/messages?since=` every 15 seconds while the page is visible. Each
 * tick requests the messages changed since the last cursor, so it costs one small request and
 * runs no route loader. Polling stops while the tab is hidden and resumes with an immediate
 * poll when it is shown again. After a failure the wait doubles, up to four minutes.
 */
export function useConversationPoll(initialCursor: string): ConversationPoll {
  const [messages, setMessages] = useState<ConversationMessage[]>([]);
  const [failures, setFailures] = useState(0);
  const cursorRef = useRef(initialCursor);

  // A newer cursor from the loader (after a send or a reload) moves the poll forward.
  useEffect(() => {
    if (Date.parse(initialCursor) > Date.parse(cursorRef.current))
      cursorRef.current = initialCursor;
  }, [initialCursor]);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let controller: AbortController | undefined;
    let failureCount = 0;
    let stopped = false;

    const schedule = (delayMs: number) => {
      clearTimeout(timer);
      if (stopped || document.visibilityState === 'hidden') return;
      timer = setTimeout(() => void tick(), delayMs);
    };

    const tick = async () => {
      controller?.abort();
      controller = new AbortController();
      try {
        const answer = await fetchUpdate(cursorRef.current, controller.signal);
        cursorRef.current = answer.cursor;
        if (answer.messages.length > 0) {
          setMessages((current) => mergeById(current, answer.messages));
        }
        failureCount = 0;
        setFailures(0);
        schedule(MESSAGE_POLL_INTERVAL_MS);
      } catch (error) {
        if (stopped || (error as Error).name === 'AbortError') return;
        failureCount += 1;
        setFailures(failureCount);
        schedule(Math.min(MESSAGE_POLL_INTERVAL_MS * 2 ** failureCount, MAX_BACKOFF_MS));
      }
    };

    const onVisibilityChange = () => {
      if (document.visibilityState === 'hidden') {
        clearTimeout(timer);
        controller?.abort();
      } else {
        schedule(0);
      }
    };

    document.addEventListener('visibilitychange', onVisibilityChange);
    schedule(MESSAGE_POLL_INTERVAL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller?.abort();
      document.removeEventListener('visibilitychange', onVisibilityChange);
    };
  }, []);

  return { messages, failures };
}

async function fetchUpdate(since: string, signal: AbortSignal): Promise<PollAnswer> {
  const response = await fetch(`/api/patient/messages?since=${encodeURIComponent(since)}`, {
    // A poll is not the patient's activity: it must not keep an unattended tab signed in.
    headers: { accept: 'application/json', [BACKGROUND_REQUEST_HEADER]: '1' },
    credentials: 'same-origin',
    signal,
  });
  if (response.status === 401) {
    // The session ended; a reload shows the sign-in page with a way back here.
    window.location.reload();
    throw new Error('Signed out');
  }
  if (!response.ok) throw new Error(`Poll failed with status ${response.status}`);
  return (await response.json()) as PollAnswer;
}

function mergeById(
  current: ConversationMessage[],
  incoming: ConversationMessage[],
): ConversationMessage[] {
  const byId = new Map(current.map((message) => [message.id, message]));
  for (const message of incoming) byId.set(message.id, message);
  return [...byId.values()];
}
