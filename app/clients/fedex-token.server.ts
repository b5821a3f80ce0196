import { getEnv } from '~/config/env.server';

import {
  getClientCredentialsToken,
  invalidateClientCredentialsToken,
} from './client-credentials-token.server';

/** Returns a FedEx API access token from FedEx's OAuth client-credentials grant, cached. */
export function getFedexAccessToken(): Promise<string> {
  return getClientCredentialsToken('fedex', () => {
    const { fedex } = getEnv();
    return {
      tokenUrl: `${fedex.baseUrl.replace(/\/+$/, '')}/oauth/token`,
      clientId: fedex.clientId,
      clientSecret: fedex.clientSecret,
    };
  });
}

/** Drops the cached token after a FedEx API rejected it. */
export function invalidateFedexAccessToken(): void {
  invalidateClientCredentialsToken('fedex');
}
