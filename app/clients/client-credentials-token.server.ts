import { z } from 'zod';

import { singleton } from '~/utils/singleton.server';

import { fetchUpstream, type UpstreamResponse } from './http.server';
import { UpstreamError, type UpstreamName } from './upstream-error.server';

/** A token is renewed this long before it expires, so no request carries one that lapses in flight. */
const TOKEN_RENEW_MARGIN_MS = 60_000;

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive(),
});

export interface ClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

export interface CachedToken {
  accessToken: string;
  expiresAtMs: number;
}

interface TokenCache {
  current?: CachedToken;
  pending?: Promise<CachedToken>;
}

function getTokenCache(upstream: UpstreamName): TokenCache {
  return singleton(`${upstream}-token-cache`, (): TokenCache => ({}));
}

/**
 * Returns an access token of `upstream` from its OAuth 2.0 client-credentials grant, cached
 * until TOKEN_RENEW_MARGIN_MS before it expires. Concurrent callers share one token request.
 */
export function getClientCredentialsToken(
  upstream: UpstreamName,
  credentials: () => ClientCredentials,
): Promise<string> {
  return getCachedAccessToken(upstream, () => requestToken(upstream, credentials()));
}

/**
 * Returns the cached access token of `upstream`, or one from `requestToken` when none is valid
 * for at least TOKEN_RENEW_MARGIN_MS more. Concurrent callers share one token request.
 */
export async function getCachedAccessToken(
  upstream: UpstreamName,
  requestToken: () => Promise<CachedToken>,
): Promise<string> {
  const cache = getTokenCache(upstream);
  if (cache.current && cache.current.expiresAtMs - TOKEN_RENEW_MARGIN_MS > Date.now()) {
    return cache.current.accessToken;
  }

  cache.pending ??= requestToken().finally(() => {
    cache.pending = undefined;
  });
  cache.current = await cache.pending;
  return cache.current.accessToken;
}

/** Drops the cached token after the upstream rejected it. */
export function invalidateClientCredentialsToken(upstream: UpstreamName): void {
  getTokenCache(upstream).current = undefined;
}

async function requestToken(
  upstream: UpstreamName,
  credentials: ClientCredentials,
): Promise<CachedToken> {
  const response = await fetchUpstream(upstream, credentials.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
    }),
  });
  return readTokenResponse(upstream, response);
}

/** Reads an OAuth 2.0 token response; throws UpstreamError for a failure or a malformed body. */
export async function readTokenResponse(
  upstream: UpstreamName,
  response: UpstreamResponse,
): Promise<CachedToken> {
  if (!response.ok) {
    await response.discard();
    throw new UpstreamError(
      upstream,
      'http',
      `${upstream} token request failed with ${response.status}`,
      response.status,
    );
  }

  const parsed = tokenResponseSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) {
    throw new UpstreamError(
      upstream,
      'malformed',
      `${upstream} token response has no access_token or expires_in`,
    );
  }
  return {
    accessToken: parsed.data.access_token,
    expiresAtMs: Date.now() + parsed.data.expires_in * 1000,
  };
}
