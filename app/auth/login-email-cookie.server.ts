import { createCookie } from 'react-router';

import { getEnv } from '~/config/env.server';
import { singleton } from '~/utils/singleton.server';

/**
 * Carries the email from /login to /login/verify so the patient types it once and it never
 * appears in a URL (where access logs would keep it). Signed and HttpOnly.
 */
function loginEmailCookie() {
  return singleton('login-email-cookie', () => {
    const { session } = getEnv();
    return createCookie(session.cookieSecure ? '__Host-portal_login_email' : 'portal_login_email', {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      secure: session.cookieSecure,
      maxAge: getEnv().signIn.codeLifetimeSeconds,
      secrets: [session.secret],
    });
  });
}

export async function readLoginEmail(request: Request): Promise<string | undefined> {
  const value: unknown = await loginEmailCookie().parse(request.headers.get('cookie'));
  return typeof value === 'string' ? value : undefined;
}

export function storeLoginEmail(email: string): Promise<string> {
  return loginEmailCookie().serialize(email);
}

export function clearLoginEmail(): Promise<string> {
  return loginEmailCookie().serialize('', { maxAge: 0 });
}
