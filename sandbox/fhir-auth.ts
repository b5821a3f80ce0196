import { randomBytes } from 'node:crypto';

import { unauthorized, unauthorizedTokenExpired } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';

import { parseBasicCredentials, parseBearerToken, secretsEqual } from './credentials.js';

/** Lifetime of an access token in seconds, returned as `expires_in`. */
export const ACCESS_TOKEN_LIFETIME_SECONDS = 3600;

/** Scope returned when the token request names none. */
export const DEFAULT_SCOPE = 'system/*.*';

export type TokenStatus = 'valid' | 'expired' | 'unknown';

/**
 * Access tokens issued by a sandbox token endpoint, kept in memory with their expiry. The FHIR and
 * Zoom stand-ins each keep their own.
 */
export class AccessTokenStore {
  private readonly expiryByToken = new Map<string, number>();

  /**
   * @param now - Clock in ms since the epoch. Tests pass their own to check expiry.
   * @param lifetimeSeconds - Lifetime of each token, the `expires_in` of the token response.
   */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly lifetimeSeconds: number = ACCESS_TOKEN_LIFETIME_SECONDS,
  ) {}

  issue(): string {
    this.deleteExpired();
    const token = randomBytes(32).toString('base64url');
    this.expiryByToken.set(token, this.now() + this.lifetimeSeconds * 1000);
    return token;
  }

  check(token: string): TokenStatus {
    const expiresAt = this.expiryByToken.get(token);
    if (expiresAt === undefined) {
      return 'unknown';
    }
    if (expiresAt <= this.now()) {
      this.expiryByToken.delete(token);
      return 'expired';
    }
    return 'valid';
  }

  private deleteExpired(): void {
    const now = this.now();
    for (const [token, expiresAt] of this.expiryByToken) {
      if (expiresAt <= now) {
        this.expiryByToken.delete(token);
      }
    }
  }
}

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/**
 * Creates the handler of the OAuth 2.0 client-credentials token endpoint (RFC 6749 section 4.4),
 * as Canvas serves it at `/auth/token/`. The client authenticates with HTTP Basic or with
 * `client_id` and `client_secret` in the form body. Expects `req.body` to be the form as a
 * URLSearchParams, or undefined when the body is not form-encoded.
 */
export function createTokenHandler(
  credentials: ClientCredentials,
  tokens: AccessTokenStore,
  logger: Logger,
): RequestHandler {
  return (req: Request, res: Response): void => {
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    const reject = (status: number, error: string, description: string): void => {
      logger.info({ status, error }, 'sandbox token request rejected');
      res.status(status).json({ error, error_description: description });
    };

    const form: unknown = req.body;
    if (!(form instanceof URLSearchParams)) {
      reject(400, 'invalid_request', 'The body must be application/x-www-form-urlencoded.');
      return;
    }

    const grantType = form.get('grant_type');
    if (!grantType) {
      reject(400, 'invalid_request', 'grant_type is missing. Send grant_type=client_credentials.');
      return;
    }
    if (grantType !== 'client_credentials') {
      reject(400, 'unsupported_grant_type', 'Only grant_type=client_credentials is supported.');
      return;
    }

    const basic = parseBasicCredentials(req.get('authorization'));
    const formClientId = form.get('client_id');
    const formClientSecret = form.get('client_secret');
    if (basic && formClientSecret !== null) {
      const description = 'Send the client secret either with HTTP Basic or in the body, not both.';
      reject(400, 'invalid_request', description);
      return;
    }

    const clientId = basic?.clientId ?? formClientId ?? '';
    const clientSecret = basic?.clientSecret ?? formClientSecret ?? '';
    if (
      !secretsEqual(clientId, credentials.clientId) ||
      !secretsEqual(clientSecret, credentials.clientSecret)
    ) {
      if (basic) {
        res.set('WWW-Authenticate', 'Basic realm="sandbox"');
      }
      reject(401, 'invalid_client', 'The client id or client secret is invalid.');
      return;
    }

    res.status(200).json({
      access_token: tokens.issue(),
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
      scope: form.get('scope') ?? DEFAULT_SCOPE,
    });
  };
}

/**
 * Creates middleware that rejects a request without a valid `Authorization: Bearer` token
 * with 401 and an OperationOutcome, as a FHIR server does.
 */
export function createBearerAuthenticator(
  tokens: AccessTokenStore,
  logger: Logger,
): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const token = parseBearerToken(req.get('authorization'));
    if (!token) {
      logger.info({ status: 401, reason: 'missing' }, 'sandbox FHIR request has no bearer token');
      sendUnauthorized(res, 'Bearer realm="sandbox"', unauthorized);
      return;
    }

    const status = tokens.check(token);
    if (status === 'valid') {
      next();
      return;
    }

    logger.info(
      { status: 401, reason: status },
      'sandbox FHIR request has an invalid bearer token',
    );
    const outcome = status === 'expired' ? unauthorizedTokenExpired : unauthorized;
    sendUnauthorized(res, 'Bearer realm="sandbox", error="invalid_token"', outcome);
  };
}

function sendUnauthorized(res: Response, challenge: string, outcome: OperationOutcome): void {
  res
    .status(401)
    .set('WWW-Authenticate', challenge)
    .type('application/fhir+json')
    .send(JSON.stringify(outcome));
}
