const PLACEHOLDER_ORIGIN = 'http://portal.invalid';

/**
 * Returns `target` as a percent-encoded path on this site, else `fallback`. Rejects absolute
 * URLs, protocol-relative `//host` and `/\host` (which browsers treat as another origin) and
 * control characters. Encoding makes any other character safe in a Location header.
 */
export function safeRedirectPath(target: unknown, fallback = '/'): string {
  if (typeof target !== 'string' || !target.startsWith('/')) return fallback;
  if (target.startsWith('//') || target.startsWith('/\\')) return fallback;

  const hasControlCharacter = [...target].some((character) => {
    const code = character.charCodeAt(0);
    return code < 0x20 || code === 0x7f;
  });
  if (hasControlCharacter) return fallback;

  const url = new URL(target, PLACEHOLDER_ORIGIN);
  if (url.origin !== PLACEHOLDER_ORIGIN) return fallback;
  // Resolving dot segments can turn `/.//host` into `//host`, another origin again.
  const path = `${url.pathname}${url.search}${url.hash}`;
  if (path.startsWith('//') || path.startsWith('/\\')) return fallback;
  return path;
}
