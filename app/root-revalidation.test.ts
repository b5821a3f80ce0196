import type { ShouldRevalidateFunctionArgs } from 'react-router';
import { describe, expect, it } from 'vitest';

import { isSignedInPage, ROOT_DATA_MAX_AGE_MS, shouldRevalidateRoot } from './root-revalidation';

const FRESH_MS = 5_000;

function navigation(
  from: string,
  to: string,
  submission: Partial<ShouldRevalidateFunctionArgs> = {},
): ShouldRevalidateFunctionArgs {
  const origin = 'http://localhost:3000';
  return {
    currentUrl: new URL(from, origin),
    currentParams: {},
    nextUrl: new URL(to, origin),
    nextParams: {},
    // React Router 7 with single fetch passes true for every loader of a successful request.
    defaultShouldRevalidate: true,
    ...submission,
  };
}

function postTo(formAction: string, actionStatus = 303): Partial<ShouldRevalidateFunctionArgs> {
  return { formMethod: 'POST', formAction, actionStatus };
}

describe('shouldRevalidateRoot', () => {
  it('skips navigations between signed-in pages', () => {
    const pairs = [
      ['/', '/prescriptions'],
      ['/prescriptions', '/shipments'],
      ['/shipments', '/shipments/track/700000000011'],
      ['/profile', '/'],
      ['/notifications', '/notifications?cursor=abc'],
      ['/scheduling', '/scheduling?date=2026-03-04'],
      ['/scheduling', '/scheduling/appointments/a1/reschedule'],
    ];
    for (const [from = '', to = ''] of pairs) {
      expect(shouldRevalidateRoot(navigation(from, to), FRESH_MS), `${from} → ${to}`).toBe(false);
    }
  });

  it('runs when the patient leaves Messages', () => {
    expect(shouldRevalidateRoot(navigation('/messages', '/'), FRESH_MS)).toBe(true);
    expect(shouldRevalidateRoot(navigation('/messages', '/notifications'), FRESH_MS)).toBe(true);
  });

  it('runs once its data is a minute old', () => {
    const args = navigation('/prescriptions', '/shipments');
    expect(shouldRevalidateRoot(args, ROOT_DATA_MAX_AGE_MS - 1)).toBe(false);
    expect(shouldRevalidateRoot(args, ROOT_DATA_MAX_AGE_MS)).toBe(true);
  });

  it('runs when the same address loads again', () => {
    expect(shouldRevalidateRoot(navigation('/shipments', '/shipments'), FRESH_MS)).toBe(true);
    const revalidator = navigation('/scheduling?date=2026-03-04', '/scheduling?date=2026-03-04');
    expect(shouldRevalidateRoot(revalidator, FRESH_MS)).toBe(true);
  });

  it('runs for pages outside the signed-in area', () => {
    for (const to of ['/login', '/login?redirectTo=%2Fshipments', '/session-expired', '/logout']) {
      expect(shouldRevalidateRoot(navigation('/shipments', to), FRESH_MS), to).toBe(true);
    }
  });

  it('runs after form submissions that change its data', () => {
    const submissions: [string, string, string][] = [
      ['/notifications', '/notifications', '/notifications'],
      ['/scheduling?date=2026-03-04', '/scheduling?date=2026-03-04', '/scheduling?booked=a1'],
      ['/profile', '/profile', '/login?signedOut=1'],
      ['/shipments', '/logout', '/login'],
      ['/login/verify', '/login/verify', '/'],
    ];
    for (const [from, formAction, to] of submissions) {
      const args = navigation(from, to, postTo(formAction));
      expect(shouldRevalidateRoot(args, FRESH_MS), formAction).toBe(true);
    }
  });

  it('skips a message send', () => {
    const args = navigation('/messages', '/messages#message-m1', postTo('/messages'));
    expect(shouldRevalidateRoot(args, ROOT_DATA_MAX_AGE_MS * 10)).toBe(false);
  });

  it('follows the default after a failed submission', () => {
    const args = navigation('/notifications', '/notifications', {
      ...postTo('/notifications', 429),
      defaultShouldRevalidate: false,
    });
    expect(shouldRevalidateRoot(args, FRESH_MS)).toBe(false);
  });

  it('treats a GET form as a navigation', () => {
    const args = navigation('/scheduling', '/scheduling?date=2026-03-05', {
      formMethod: 'GET',
      formAction: '/scheduling',
    });
    expect(shouldRevalidateRoot(args, FRESH_MS)).toBe(false);
  });
});

describe('isSignedInPage', () => {
  it('accepts the dashboard and the sections under the header links', () => {
    for (const path of [
      '/',
      '/messages',
      '/shipments/track/1',
      '/scheduling/appointments/a/cancel',
    ]) {
      expect(isSignedInPage(path), path).toBe(true);
    }
  });

  it('rejects sign-in, expiry and unknown pages', () => {
    for (const path of ['/login', '/login/verify', '/session-expired', '/auth/canvas', '/nope']) {
      expect(isSignedInPage(path), path).toBe(false);
    }
  });
});
