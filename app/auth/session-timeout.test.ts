import { describe, expect, it } from 'vitest';

import {
  LAST_SEEN_WRITE_INTERVAL_SECONDS,
  SESSION_IDLE_SECONDS,
  sessionExpiredPath,
  signInPath,
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
} from './session-timeout';

const NOW_MS = 1_750_000_000_000;

describe('deadlinesFromRemaining', () => {
  it('counts from the browser clock', () => {
    expect(
      deadlinesFromRemaining({ idleSecondsRemaining: 1800, maxAgeSecondsRemaining: 7200 }, NOW_MS),
    ).toEqual({ idleEndsAtMs: NOW_MS + 1_800_000, maxAgeEndsAtMs: NOW_MS + 7_200_000 });
  });
});

describe('deadlinesAfterRequest', () => {
  it('assumes the earliest idle restart', () => {
    const deadlines = { idleEndsAtMs: NOW_MS + 60_000, maxAgeEndsAtMs: NOW_MS + 7_200_000 };
    const after = deadlinesAfterRequest(deadlines, NOW_MS);
    expect(after.idleEndsAtMs).toBe(
      NOW_MS + (SESSION_IDLE_SECONDS - LAST_SEEN_WRITE_INTERVAL_SECONDS) * 1000,
    );
    expect(after.maxAgeEndsAtMs).toBe(deadlines.maxAgeEndsAtMs);
  });

  it('keeps a later idle deadline', () => {
    const deadlines = {
      idleEndsAtMs: NOW_MS + SESSION_IDLE_SECONDS * 1000,
      maxAgeEndsAtMs: NOW_MS + 7_200_000,
    };
    expect(deadlinesAfterRequest(deadlines, NOW_MS)).toEqual(deadlines);
  });
});

describe('firstSessionEnd', () => {
  it('picks the idle limit when it comes first', () => {
    expect(firstSessionEnd({ idleEndsAtMs: NOW_MS + 1, maxAgeEndsAtMs: NOW_MS + 2 })).toEqual({
      limit: 'idle',
      endsAtMs: NOW_MS + 1,
    });
  });

  it('picks the maximum age when it comes first', () => {
    expect(firstSessionEnd({ idleEndsAtMs: NOW_MS + 2, maxAgeEndsAtMs: NOW_MS + 1 })).toEqual({
      limit: 'max_age',
      endsAtMs: NOW_MS + 1,
    });
  });

  it('gives a tie to the maximum age', () => {
    expect(firstSessionEnd({ idleEndsAtMs: NOW_MS, maxAgeEndsAtMs: NOW_MS }).limit).toBe('max_age');
  });
});

describe('warningAtMs', () => {
  it('warns two minutes before the first end', () => {
    expect(SESSION_WARNING_SECONDS).toBe(120);
    expect(warningAtMs({ idleEndsAtMs: NOW_MS + 600_000, maxAgeEndsAtMs: NOW_MS + 900_000 })).toBe(
      NOW_MS + 480_000,
    );
    expect(warningAtMs({ idleEndsAtMs: NOW_MS + 900_000, maxAgeEndsAtMs: NOW_MS + 300_000 })).toBe(
      NOW_MS + 180_000,
    );
  });
});

describe('secondsUntil', () => {
  it.each([
    [120_000, 120],
    [119_001, 120],
    [119_000, 119],
    [1, 1],
    [0, 0],
    [-5_000, 0],
  ])('rounds %i ms up to %i s', (spanMs, seconds) => {
    expect(secondsUntil(NOW_MS + spanMs, NOW_MS)).toBe(seconds);
  });
});

describe('formatTimeRemaining', () => {
  it.each([
    [120, '2 minutes'],
    [105, '1 minute 45 seconds'],
    [61, '1 minute 1 second'],
    [60, '1 minute'],
    [30, '30 seconds'],
    [1, '1 second'],
    [0, '0 seconds'],
  ])('formats %i s as "%s"', (seconds, text) => {
    expect(formatTimeRemaining(seconds)).toBe(text);
  });
});

describe('passesAnnouncementStep', () => {
  it('announces at one minute, 30 and 10 seconds', () => {
    expect(passesAnnouncementStep(61, 60)).toBe(true);
    expect(passesAnnouncementStep(31, 30)).toBe(true);
    expect(passesAnnouncementStep(11, 10)).toBe(true);
  });

  it('stays quiet between steps', () => {
    for (let seconds = 120; seconds > 61; seconds -= 1) {
      expect(passesAnnouncementStep(seconds, seconds - 1)).toBe(false);
    }
    expect(passesAnnouncementStep(60, 59)).toBe(false);
    expect(passesAnnouncementStep(10, 9)).toBe(false);
  });

  it('announces once after a skipped stretch', () => {
    expect(passesAnnouncementStep(100, 20)).toBe(true);
  });
});

describe('session paths', () => {
  it('builds the expiry page address', () => {
    expect(sessionExpiredPath('idle', '/messages?page=2')).toBe(
      '/session-expired?reason=idle&redirectTo=%2Fmessages%3Fpage%3D2',
    );
    expect(sessionExpiredPath('max_age', '/')).toBe('/session-expired?reason=max_age');
  });

  it('builds the sign-in address', () => {
    expect(signInPath('/prescriptions')).toBe('/login?redirectTo=%2Fprescriptions');
    expect(signInPath('/')).toBe('/login');
  });
});
