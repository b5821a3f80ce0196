import { useCallback, useEffect, useRef, useState, type SyntheticEvent } from 'react';
import { Form, useFetchers, useLocation, useNavigation, useRevalidator } from 'react-router';

import {
  checkSessionTime,
  isSessionTabMessage,
  sendKeepAlive,
  SESSION_CHANNEL_NAME,
  signOutNow,
  type SessionTabMessage,
} from './session-requests';
import {
  SESSION_IDLE_SECONDS,
  SESSION_MAX_AGE_SECONDS,
  sessionExpiredPath,
  signInPath,
  type SessionLimit,
  type SessionTimeRemaining,
} from './session-limits';
import {
  deadlinesAfterRequest,
  deadlinesFromRemaining,
  firstSessionEnd,
  formatTimeRemaining,
  passesAnnouncementStep,
  secondsUntil,
  SESSION_WARNING_SECONDS,
  warningAtMs,
  type SessionDeadlines,
} from './session-timeout';

interface Warning {
  limit: SessionLimit;
  endsAtMs: number;
  /** False once the patient closed a warning about the maximum age, which they cannot extend. */
  open: boolean;
}

type KeepAliveState = 'ready' | 'sending' | 'failed';

/**
 * Warns the signed-in patient SESSION_WARNING_SECONDS before their session ends, in a modal
 * dialog with a countdown, and sends the page to `/session-expired` when it has ended.
 *
 * `remaining` comes from the root loader. Each request the router makes moves the idle deadline
 * forward, and other tabs share theirs over a BroadcastChannel. Requests made with plain `fetch`
 * are not seen, so before warning, and again at the end, the server is asked for the time left.
 */
export function SessionTimeoutWarning({ remaining }: { remaining: SessionTimeRemaining }) {
  const location = useLocation();
  const requestInFlight = useRequestInFlight();
  const remainingReceivedAtMs = useTimeOfChange(remaining);
  const requestInFlightChangedAtMs = useTimeOfChange(requestInFlight);

  const dialogRef = useRef<HTMLDialogElement>(null);
  const primaryButtonRef = useRef<HTMLButtonElement>(null);
  const returnFocusRef = useRef<HTMLElement | null>(null);
  const deadlinesRef = useRef<SessionDeadlines | null>(null);
  const channelRef = useRef<BroadcastChannel | null>(null);
  const returnPathRef = useRef('/');
  const maxAgeWarningClosedRef = useRef(false);
  const checkingRef = useRef(false);
  const previousSecondsRef = useRef<number | undefined>(undefined);
  const requestInFlightRef = useRef(false);

  const [warning, setWarning] = useState<Warning | null>(null);
  const [nowMs, setNowMs] = useState(() => Date.now());
  const [scheduleVersion, setScheduleVersion] = useState(0);
  const [announcement, setAnnouncement] = useState('');
  const [keepAliveState, setKeepAliveState] = useState<KeepAliveState>('ready');

  useEffect(() => {
    returnPathRef.current = `${location.pathname}${location.search}`;
  }, [location.pathname, location.search]);

  // Opens, keeps or closes the warning for new deadlines, and schedules the next check.
  const applyDeadlines = useCallback((deadlines: SessionDeadlines) => {
    deadlinesRef.current = deadlines;
    const now = Date.now();
    setNowMs(now);
    setScheduleVersion((version) => version + 1);

    if (now < warningAtMs(deadlines)) {
      setWarning(null);
      return;
    }
    const end = firstSessionEnd(deadlines);
    const open = !(end.limit === 'max_age' && maxAgeWarningClosedRef.current);
    setWarning({ ...end, open });
  }, []);

  // A full page load, so no patient data stays in this page's memory.
  const leaveForExpiryPage = useCallback(() => {
    const deadlines = deadlinesRef.current;
    const limit = deadlines ? firstSessionEnd(deadlines).limit : 'idle';
    window.location.replace(sessionExpiredPath(limit, returnPathRef.current));
  }, []);

  const checkWithServer = useCallback(async () => {
    if (checkingRef.current) return;
    checkingRef.current = true;
    try {
      const check = await checkSessionTime();
      switch (check.kind) {
        case 'active':
          applyDeadlines(deadlinesFromRemaining(check.remaining, Date.now()));
          break;
        case 'ended':
          leaveForExpiryPage();
          break;
        case 'failed': {
          // Without a response the browser's estimate decides: warn when due, leave after the end.
          const deadlines = deadlinesRef.current;
          if (deadlines && Date.now() >= firstSessionEnd(deadlines).endsAtMs) leaveForExpiryPage();
          else if (deadlines) applyDeadlines(deadlines);
          break;
        }
      }
    } finally {
      checkingRef.current = false;
    }
  }, [applyDeadlines, leaveForExpiryPage]);

  const staySignedIn = useCallback(async () => {
    if (keepAliveState === 'sending') return;
    setKeepAliveState('sending');

    const check = await sendKeepAlive();
    switch (check.kind) {
      case 'active':
        setKeepAliveState('ready');
        applyDeadlines(deadlinesFromRemaining(check.remaining, Date.now()));
        postToOtherTabs(channelRef.current, { kind: 'remaining', remaining: check.remaining });
        break;
      case 'ended':
        leaveForExpiryPage();
        break;
      case 'failed':
        setKeepAliveState('failed');
        break;
    }
  }, [applyDeadlines, keepAliveState, leaveForExpiryPage]);

  const closeMaxAgeWarning = useCallback(() => {
    maxAgeWarningClosedRef.current = true;
    setWarning((current) => (current ? { ...current, open: false } : current));
  }, []);

  const signInAgain = useCallback(async () => {
    await signOutNow();
    window.location.assign(signInPath(returnPathRef.current));
  }, []);

  // New loader data carries the server's own count.
  useEffect(() => {
    applyDeadlines(deadlinesFromRemaining(remaining, remainingReceivedAtMs));
  }, [remaining, remainingReceivedAtMs, applyDeadlines]);

  // Each request the router finishes (navigation, form, fetcher, revalidation) reached the server.
  useEffect(() => {
    const finished = requestInFlightRef.current && !requestInFlight;
    requestInFlightRef.current = requestInFlight;
    const deadlines = deadlinesRef.current;
    if (!finished || !deadlines) return;

    applyDeadlines(deadlinesAfterRequest(deadlines, requestInFlightChangedAtMs));
    postToOtherTabs(channelRef.current, { kind: 'request' });
  }, [requestInFlight, requestInFlightChangedAtMs, applyDeadlines]);

  useEffect(() => {
    if (typeof BroadcastChannel === 'undefined') return;

    const channel = new BroadcastChannel(SESSION_CHANNEL_NAME);
    channelRef.current = channel;
    channel.onmessage = (event: MessageEvent<unknown>) => {
      const deadlines = deadlinesRef.current;
      if (!deadlines || !isSessionTabMessage(event.data)) return;

      const message = event.data;
      const now = Date.now();
      applyDeadlines(
        message.kind === 'request'
          ? deadlinesAfterRequest(deadlines, now)
          : deadlinesFromRemaining(message.remaining, now),
      );
    };
    return () => {
      channel.close();
      channelRef.current = null;
    };
  }, [applyDeadlines]);

  // Browsers slow timers down in hidden tabs, so the schedule is worked out again on return.
  useEffect(() => {
    const onVisibilityChange = () => {
      if (document.visibilityState !== 'visible') return;
      setNowMs(Date.now());
      setScheduleVersion((version) => version + 1);
    };
    document.addEventListener('visibilitychange', onVisibilityChange);
    return () => document.removeEventListener('visibilitychange', onVisibilityChange);
  }, []);

  // Before the warning: one timer for the check. During it: a tick each second for the countdown.
  useEffect(() => {
    const deadlines = deadlinesRef.current;
    if (!deadlines) return;

    if (warning) {
      const endsAtMs = warning.endsAtMs;
      const timer = setInterval(() => {
        const now = Date.now();
        setNowMs(now);
        if (now >= endsAtMs) void checkWithServer();
      }, 1000);
      return () => clearInterval(timer);
    }
    const delayMs = Math.max(0, warningAtMs(deadlines) - Date.now());
    const timer = setTimeout(() => void checkWithServer(), delayMs);
    return () => clearTimeout(timer);
  }, [warning, scheduleVersion, checkWithServer]);

  const secondsLeft = warning ? secondsUntil(warning.endsAtMs, nowMs) : SESSION_WARNING_SECONDS;

  useEffect(() => {
    const previous = previousSecondsRef.current;
    previousSecondsRef.current = warning?.open ? secondsLeft : undefined;
    if (warning?.open && previous !== undefined && passesAnnouncementStep(previous, secondsLeft)) {
      setAnnouncement(`${formatTimeRemaining(secondsLeft)} left.`);
    }
  }, [warning?.open, secondsLeft]);

  const dialogOpen = warning?.open ?? false;
  const limit = warning?.limit ?? 'idle';

  useEffect(() => {
    const dialog = dialogRef.current;
    if (!dialog) return;

    if (dialogOpen) {
      if (!dialog.open) {
        const focused = document.activeElement;
        returnFocusRef.current = focused instanceof HTMLElement ? focused : null;
        setAnnouncement('');
        setKeepAliveState('ready');
        dialog.showModal();
      }
      // The primary button changes when the maximum age takes over from the idle limit.
      primaryButtonRef.current?.focus();
      return;
    }
    if (dialog.open) dialog.close();
    returnFocusRef.current?.focus();
    returnFocusRef.current = null;
  }, [dialogOpen, limit]);

  // Escape means "stay signed in", or "close" when the maximum age cannot be extended.
  const onCancel = (event: SyntheticEvent<HTMLDialogElement>) => {
    event.preventDefault();
    if (limit === 'max_age') closeMaxAgeWarning();
    else void staySignedIn();
  };

  return (
    <dialog
      ref={dialogRef}
      className="session-dialog"
      aria-labelledby="session-warning-heading"
      aria-describedby="session-warning-reason session-warning-time"
      onCancel={onCancel}
    >
      <h2 id="session-warning-heading">Your session is about to end</h2>
      <p id="session-warning-reason">
        {limit === 'idle'
          ? `For your security, you are signed out after ${SESSION_IDLE_SECONDS / 60} minutes without activity.`
          : `For your security, a session lasts at most ${SESSION_MAX_AGE_SECONDS / 3600} hours and cannot be extended. Send or save what you are working on, then sign in again.`}
      </p>
      <p id="session-warning-time">
        You will be signed out in <strong>{formatTimeRemaining(secondsLeft)}</strong>.
      </p>
      <p role="status" className="visually-hidden">
        {announcement}
      </p>
      {keepAliveState === 'failed' ? (
        <p role="alert" className="field-error">
          The portal could not be reached. Check your connection, then choose Stay signed in again.
        </p>
      ) : null}

      {limit === 'idle' ? (
        <div className="dialog-actions">
          <button ref={primaryButtonRef} type="button" onClick={() => void staySignedIn()}>
            {keepAliveState === 'sending' ? 'Staying signed in…' : 'Stay signed in'}
          </button>
          <Form method="post" action="/logout">
            <button type="submit" className="secondary-button">
              Sign out
            </button>
          </Form>
        </div>
      ) : (
        <div className="dialog-actions">
          <button ref={primaryButtonRef} type="button" onClick={() => void signInAgain()}>
            Sign in again
          </button>
          <button type="button" className="secondary-button" onClick={closeMaxAgeWarning}>
            Continue for now
          </button>
        </div>
      )}
    </dialog>
  );
}

/**
 * Returns the `Date.now()` of the render in which `value` last changed. Deadlines count from when
 * the data or the response arrived, not from when an effect got to run, which a busy page or a
 * test's fake clock can delay.
 */
function useTimeOfChange<T>(value: T): number {
  const [change, setChange] = useState(() => ({ value, atMs: Date.now() }));
  if (Object.is(change.value, value)) return change.atMs;

  // Updating state while rendering is React's way to derive state from a changed value.
  const next = { value, atMs: Date.now() };
  setChange(next);
  return next.atMs;
}

/** True while the router waits on the server for a navigation, form, fetcher or revalidation. */
function useRequestInFlight(): boolean {
  const navigation = useNavigation();
  const revalidator = useRevalidator();
  const fetchers = useFetchers();
  return (
    navigation.state !== 'idle' ||
    revalidator.state !== 'idle' ||
    fetchers.some((fetcher) => fetcher.state !== 'idle')
  );
}

function postToOtherTabs(channel: BroadcastChannel | null, message: SessionTabMessage): void {
  channel?.postMessage(message);
}
