import { getEnv } from '~/config/env.server';

import {
  getClientCredentialsToken,
  invalidateClientCredentialsToken,
} from './client-credentials-token.server';

/** Returns a FHIR access token from Canvas's OAuth client-credentials grant, cached. */
export function getFhirAccessToken(): Promise<string> {
  return getClientCredentialsToken('fhir', () => {
    const { fhir } = getEnv();
    return { tokenUrl: fhir.tokenUrl, clientId: fhir.clientId, clientSecret: fhir.clientSecret };
  });
}

/** Drops the cached token after the FHIR server rejected it. */
export function invalidateFhirAccessToken(): void {
  invalidateClientCredentialsToken('fhir');
}
