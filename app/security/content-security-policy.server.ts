import { randomBytes } from 'node:crypto';

/** Creates a fresh nonce for one response: 128 random bits, base64. */
export function createCspNonce(): string {
  return randomBytes(16).toString('base64');
}

/**
 * Builds the Content-Security-Policy of an HTML page. Scripts run only when they carry this response's
 * nonce, or when a nonced script loads them ('strict-dynamic'), so injected markup cannot run
 * code. Images come from the portal and the map's tile host only, plus inline `data:` images.
 * `mapTileSource` is the tile host from MAP_TILE_URL, undefined when the portal serves the tiles.
 *
 * Outside production, server.ts serves pages through Vite's development server, which injects
 * each stylesheet as a `<style>` element from JavaScript, so inline styles are allowed there.
 * Production serves the build, which links every stylesheet.
 */
export function documentContentSecurityPolicy(
  nonce: string,
  options: { development: boolean; mapTileSource: string | undefined },
): string {
  const styleSource = options.development ? "'self' 'unsafe-inline'" : "'self'";
  // Vite's client opens a WebSocket for hot reload, on a port of its own when HMR is off.
  const connectSource = options.development ? "'self' ws://localhost:*" : "'self'";
  return [
    "default-src 'self'",
    `script-src 'nonce-${nonce}' 'strict-dynamic'`,
    `style-src ${styleSource}`,
    // Leaflet shows a 1×1 data: GIF in place of a tile that failed to load.
    ["img-src 'self' data:", options.mapTileSource].filter(Boolean).join(' '),
    `connect-src ${connectSource}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The policy of every other response (JSON, text): nothing may load, and no one may frame it. */
export const NON_DOCUMENT_CONTENT_SECURITY_POLICY =
  "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
