/**
 * Returns `target` when it is a path on this site, else `fallback`. Rejects absolute URLs,
 * protocol-relative `//host` and `/\host`, which browsers treat as another origin.
 */
export function safeRedirectPath(target: unknown, fallback = '/'): string {
  if (typeof target !== 'string' || !target.startsWith('/')) return fallback;
  if (target.startsWith('//') || target.startsWith('/\\')) return fallback;
  if ([...target].some((character) => character.charCodeAt(0) < 0x20)) return fallback;
  return target;
}
