import { getEnv } from '~/config/env.server';

/**
 * Name of the cookie that keeps a form's unsent input across a sign-in. As with the session
 * cookie, `__Host-` needs Secure, so a deployment that turns Secure off gets an unprefixed name.
 */
export function keptInputCookieName(): string {
  return getEnv().session.cookieSecure ? '__Host-portal_kept_input' : 'portal_kept_input';
}

/** Returns the Set-Cookie header of kept input: HttpOnly, SameSite=Lax, for the whole site. */
export function serializeKeptInputCookie(value: string, maxAgeSeconds: number): string {
  const attributes = [`${keptInputCookieName()}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  attributes.push(`Max-Age=${maxAgeSeconds}`);
  if (getEnv().session.cookieSecure) attributes.push('Secure');
  return attributes.join('; ');
}

/** Returns the Set-Cookie header that removes kept input, for sign-out and after it is shown. */
export function clearKeptInputCookie(): string {
  return serializeKeptInputCookie('', 0);
}
