import { z } from 'zod';

import { getEnv } from '~/config/env.server';
import { singleton } from '~/utils/singleton.server';

import { fetchUpstream } from './http.server';
import { UpstreamError } from './upstream-error.server';

/** A token is renewed this long before it expires, so no request carries one that lapses in flight. */
const TOKEN_RENEW_MARGIN_MS = 60_000;

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive(),
});

interface CachedToken {
  accessToken: string;
  expiresAtMs: number;
}

interface TokenCache {
  current?: CachedToken;
  pending?: Promise<CachedToken>;
}

function getTokenCache(): TokenCache {
  return singleton('fhir-token-cache', (): TokenCache => ({}));
}

/**
 * Returns a FHIR access token from Canvas's OAuth client-credentials grant, cached until
 * TOKEN_RENEW_MARGIN_MS before it expires. Concurrent callers share one token request.
 */
export async function getFhirAccessToken(): Promise<string> {
  const cache = getTokenCache();
  if (cache.current && cache.current.expiresAtMs - TOKEN_RENEW_MARGIN_MS > Date.now()) {
    return cache.current.accessToken;
  }

  cache.pending ??= requestToken().finally(() => {
    cache.pending = undefined;
  });
  cache.current = await cache.pending;
  return cache.current.accessToken;
}

/** Drops the cached token after the FHIR server rejected it. */
export function invalidateFhirAccessToken(): void {
  getTokenCache().current = undefined;
}

async function requestToken(): Promise<CachedToken> {
  const { fhir } = getEnv();
  const response = await fetchUpstream('fhir', fhir.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: fhir.clientId,
      client_secret: fhir.clientSecret,
    }),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new UpstreamError(
      'fhir',
      'http',
      `FHIR token request failed with ${response.status}`,
      response.status,
    );
  }

  const parsed = tokenResponseSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) {
    throw new UpstreamError(
      'fhir',
      'malformed',
      'FHIR token response has no access_token or expires_in',
    );
  }
  return {
    accessToken: parsed.data.access_token,
    expiresAtMs: Date.now() + parsed.data.expires_in * 1000,
  };
}
