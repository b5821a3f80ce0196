import { expect } from 'vitest';

/** Parses a Content-Security-Policy header into its directives, each with its sources. */
export function parseContentSecurityPolicy(header: string | null): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) directives.set(name, sources);
  }
  return directives;
}

/**
 * Asserts that a page's policy is strict (scripts by nonce only, no plugins, no `<base>`, no
 * framing, images from the portal and `mapTileSource` only) and that every script in its HTML
 * carries the nonce. Returns the nonce. Leave `mapTileSource` out when the map's tiles come from
 * the portal itself, as the sandbox's do.
 */
export function expectStrictDocumentPolicy(
  header: string | null,
  html: string,
  { mapTileSource }: { mapTileSource?: string } = {},
): string {
  const policy = parseContentSecurityPolicy(header);
  const scriptSources = policy.get('script-src') ?? [];
  const nonceSource = scriptSources.find((source) => source.startsWith("'nonce-"));
  expect(nonceSource).toMatch(/^'nonce-[A-Za-z0-9+/]{22}=='$/);
  expect(scriptSources).toContain("'strict-dynamic'");
  expect(scriptSources).not.toContain("'unsafe-inline'");
  expect(scriptSources).not.toContain("'unsafe-eval'");
  expect(policy.get('object-src')).toEqual(["'none'"]);
  expect(policy.get('base-uri')).toEqual(["'none'"]);
  expect(policy.get('frame-ancestors')).toEqual(["'none'"]);
  expect(policy.get('img-src')).toEqual([
    "'self'",
    'data:',
    ...(mapTileSource ? [mapTileSource] : []),
  ]);

  const nonce = (nonceSource ?? '').slice("'nonce-".length, -1);
  const scripts = html.match(/<script\b[^>]*>/g) ?? [];
  expect(scripts.length).toBeGreaterThan(0);
  for (const script of scripts) expect(script).toContain(`nonce="${nonce}"`);
  const modulePreloads = html.match(/<link\b[^>]*rel="modulepreload"[^>]*>/g) ?? [];
  for (const preload of modulePreloads) expect(preload).toContain(`nonce="${nonce}"`);
  return nonce;
}
