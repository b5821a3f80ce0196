import { getEnv } from '~/config/env.server';

import { getFedexAccessToken, invalidateFedexAccessToken } from './fedex-token.server';
import { fetchUpstream, type UpstreamResponse } from './http.server';
import { UpstreamError } from './upstream-error.server';

/**
 * Tracks one FedEx tracking number with Track API v1 (`POST /track/v1/trackingnumbers`, detailed
 * scans included) and returns the parsed JSON body for `parseTrackResponse`. A track request is a
 * read, so it is retried like a GET. The token is renewed once when FedEx rejects it with 401.
 * Throws UpstreamError for a non-2xx status (after that renewal), with FedEx's error codes in the
 * message, and for a body that is not JSON.
 */
export async function fetchTrackingResults(trackingNumber: string): Promise<unknown> {
  const url = `${getEnv().fedex.baseUrl.replace(/\/+$/, '')}/track/v1/trackingnumbers`;
  const body = JSON.stringify({
    includeDetailedScans: true,
    trackingInfo: [{ trackingNumberInfo: { trackingNumber } }],
  });

  let response = await sendTrackRequest(url, body, await getFedexAccessToken());
  if (response.status === 401) {
    await response.discard();
    invalidateFedexAccessToken();
    response = await sendTrackRequest(url, body, await getFedexAccessToken());
  }

  const text = await response.text();
  if (!response.ok) {
    const codes = readErrorCodes(text);
    const detail = codes.length > 0 ? ` (${codes.join(', ')})` : '';
    throw new UpstreamError(
      'fedex',
      'http',
      `FedEx track request failed with ${response.status}${detail}`,
      response.status,
    );
  }

  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UpstreamError(
      'fedex',
      'malformed',
      'FedEx track response is not valid JSON',
      undefined,
      undefined,
      { cause: error },
    );
  }
}

function sendTrackRequest(
  url: string,
  body: string,
  accessToken: string,
): Promise<UpstreamResponse> {
  return fetchUpstream('fedex', url, {
    method: 'POST',
    idempotent: true,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      // Pins the language of FedEx's status and event descriptions, which patients read.
      'x-locale': 'en_US',
      authorization: `Bearer ${accessToken}`,
    },
    body,
  });
}

/**
 * Reads the codes of FedEx's error body, `{ errors: [{ code, message }] }`. The codes name the
 * problem without repeating the request, so they are safe to log. The messages are left out.
 */
function readErrorCodes(text: string): string[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [];
  }

  const errors = (body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors
    .map((error: unknown) => (error as { code?: unknown } | null)?.code)
    .filter((code): code is string => typeof code === 'string' && code !== '');
}
