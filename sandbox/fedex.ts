import { randomBytes, randomUUID } from 'node:crypto';

import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';

import { parseFormBody, toBodyParserError } from './body-parsing.js';
import { parseBearerToken, secretsEqual } from './credentials.js';
import { createFaultInjector, type FaultRegistry } from './faults.js';
import { buildCompleteTrackResult } from './fedex-tracking-data.js';
import type { CallCounters } from './stats.js';

/** Lifetime of an access token in seconds, returned as `expires_in`, as FedEx returns it. */
export const FEDEX_TOKEN_LIFETIME_SECONDS = 3599;

/** Maximum number of tracking numbers that FedEx accepts in one track request. */
export const MAX_TRACKING_NUMBERS_PER_REQUEST = 30;

const MAX_BODY_SIZE = '100kb';

/** One entry of FedEx's error list, e.g. `{ code: 'NOT.AUTHORIZED.ERROR', message: '…' }`. */
export interface FedexError {
  code: string;
  message: string;
}

export interface FedexStandInOptions {
  /** Client id (FedEx calls it the API key) that the token endpoint accepts. */
  clientId: string;
  /** Client secret (FedEx calls it the secret key) that the token endpoint accepts. */
  clientSecret: string;
  faults: FaultRegistry;
  counters: CallCounters;
  logger: Logger;
}

/**
 * Creates the FedEx stand-in: the OAuth client-credentials endpoint at `POST /oauth/token` and
 * Track API v1 at `POST /track/v1/trackingnumbers`, both behind the `fedex` faults. Mount it at
 * the API base, `/sandbox/fedex`. Errors use FedEx's shape, `{ transactionId, errors: [...] }`.
 */
export function createFedexRouter(options: FedexStandInOptions): Router {
  const { counters, logger } = options;
  const tokens = new FedexTokenStore();
  const router = express.Router();

  router.use(
    createFaultInjector({
      upstream: 'fedex',
      faults: options.faults,
      counters,
      buildErrorResponse: (status) => ({
        contentType: 'application/json',
        body: errorBody([
          { code: errorCodeForStatus(status), message: `Injected fault ${status}.` },
        ]),
      }),
      truncatedResponse: {
        contentType: 'application/json',
        body: '{"transactionId":"7f3c","output":{"completeTrackResults":[{"trackingNumber":"7000',
      },
    }),
  );

  router.post(
    '/oauth/token',
    (_req: Request, _res: Response, next: NextFunction) => {
      counters.increment('fedex', 'tokenRequests');
      next();
    },
    parseFormBody(),
    createTokenHandler(options, tokens, logger),
  );

  router.post(
    '/track/v1/trackingnumbers',
    createBearerAuthenticator(tokens, logger),
    express.json({ limit: MAX_BODY_SIZE }),
    createTrackHandler(logger),
  );

  router.use((req: Request, res: Response) => {
    const message =
      'Not found: the stand-in serves POST /oauth/token and POST /track/v1/trackingnumbers.';
    logger.info(
      { status: 404, method: req.method, path: req.path },
      'sandbox FedEx route not found',
    );
    res.status(404).json(errorBody([{ code: 'NOT.FOUND.ERROR', message }]));
  });

  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }

    const clientError = toBodyParserError(error);
    if (clientError) {
      logger.info(
        { status: clientError.status, path: req.path },
        'sandbox FedEx request body rejected',
      );
      const message = `${clientError.message} Send a JSON body.`;
      res.status(clientError.status).json(errorBody([{ code: 'BAD.REQUEST.ERROR', message }]));
      return;
    }

    logger.error({ err: error, path: req.path }, 'sandbox FedEx request failed');
    const message = 'Internal error in the FedEx stand-in. See the server log.';
    res.status(500).json(errorBody([{ code: 'INTERNAL.SERVER.ERROR', message }]));
  });

  return router;
}

/** Access tokens issued by the stand-in, kept in memory with their expiry. */
class FedexTokenStore {
  private readonly expiryByToken = new Map<string, number>();

  issue(): string {
    const now = Date.now();
    for (const [token, expiresAt] of this.expiryByToken) {
      if (expiresAt <= now) this.expiryByToken.delete(token);
    }

    const token = randomBytes(32).toString('base64url');
    this.expiryByToken.set(token, now + FEDEX_TOKEN_LIFETIME_SECONDS * 1000);
    return token;
  }

  isValid(token: string): boolean {
    const expiresAt = this.expiryByToken.get(token);
    return expiresAt !== undefined && expiresAt > Date.now();
  }
}

/**
 * Creates the handler of FedEx's OAuth token endpoint. It accepts only the client-credentials
 * grant with `client_id` and `client_secret` in an `application/x-www-form-urlencoded` body.
 */
function createTokenHandler(
  credentials: { clientId: string; clientSecret: string },
  tokens: FedexTokenStore,
  logger: Logger,
): RequestHandler {
  return (req: Request, res: Response): void => {
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    const reject = (status: number, error: FedexError): void => {
      logger.info({ status, errorCode: error.code }, 'sandbox FedEx token request rejected');
      res.status(status).json(errorBody([error]));
    };

    const form: unknown = req.body;
    if (!(form instanceof URLSearchParams)) {
      const message = 'The body must be application/x-www-form-urlencoded.';
      reject(400, { code: 'BAD.REQUEST.ERROR', message });
      return;
    }

    const grantType = form.get('grant_type');
    if (grantType !== 'client_credentials') {
      const message = `grant_type is ${grantType ? 'unsupported' : 'missing'}. Send grant_type=client_credentials.`;
      reject(400, { code: 'BAD.REQUEST.ERROR', message });
      return;
    }

    const clientId = form.get('client_id') ?? '';
    const clientSecret = form.get('client_secret') ?? '';
    if (
      !secretsEqual(clientId, credentials.clientId) ||
      !secretsEqual(clientSecret, credentials.clientSecret)
    ) {
      const message =
        'The given client credentials were not valid. Check client_id and client_secret.';
      reject(401, { code: 'NOT.AUTHORIZED.ERROR', message });
      return;
    }

    res.status(200).json({
      access_token: tokens.issue(),
      token_type: 'bearer',
      expires_in: FEDEX_TOKEN_LIFETIME_SECONDS,
      scope: 'CXS',
    });
  };
}

/** Creates middleware that rejects a request without a valid bearer token with FedEx's 401. */
function createBearerAuthenticator(tokens: FedexTokenStore, logger: Logger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const token = parseBearerToken(req.get('authorization'));
    if (token && tokens.isValid(token)) {
      next();
      return;
    }

    const reason = token ? 'invalid' : 'missing';
    logger.info({ status: 401, reason }, 'sandbox FedEx request has no valid bearer token');
    const message = token
      ? 'The access token is invalid or expired. Request a new one from /oauth/token.'
      : 'The access token is missing. Send Authorization: Bearer <token> from /oauth/token.';
    res.status(401).json(errorBody([{ code: 'NOT.AUTHORIZED.ERROR', message }]));
  };
}

const trackRequestSchema = z.object({
  includeDetailedScans: z.boolean().optional(),
  trackingInfo: z.array(
    z.object({
      trackingNumberInfo: z.object({ trackingNumber: z.string().trim().min(1) }),
    }),
  ),
});

/** Creates the handler of `POST /track/v1/trackingnumbers`, which tracks by tracking number. */
function createTrackHandler(logger: Logger): RequestHandler {
  return (req: Request, res: Response): void => {
    const reject = (error: FedexError): void => {
      logger.info({ status: 400, errorCode: error.code }, 'sandbox FedEx track request rejected');
      res.status(400).json(errorBody([error]));
    };

    const body = req.body as { trackingInfo?: unknown; includeDetailedScans?: unknown } | undefined;
    if (
      body?.includeDetailedScans !== undefined &&
      typeof body.includeDetailedScans !== 'boolean'
    ) {
      reject({
        code: 'INVALID.INPUT.EXCEPTION',
        message: 'includeDetailedScans must be true or false.',
      });
      return;
    }

    const request = trackRequestSchema.safeParse(body);
    if (!request.success || request.data.trackingInfo.length === 0) {
      reject({ code: 'TRACKING.TRACKINGNUMBER.EMPTY', message: 'Please provide tracking number.' });
      return;
    }
    if (request.data.trackingInfo.length > MAX_TRACKING_NUMBERS_PER_REQUEST) {
      reject({
        code: 'TRACKING.TRACKINGNUMBERS.LIMITEXCEEDED',
        message: `Please limit your inquiry to ${MAX_TRACKING_NUMBERS_PER_REQUEST} tracking numbers or references.`,
      });
      return;
    }

    const now = new Date();
    const includeDetailedScans = request.data.includeDetailedScans ?? false;
    const completeTrackResults = request.data.trackingInfo.map(({ trackingNumberInfo }) =>
      buildCompleteTrackResult(trackingNumberInfo.trackingNumber, now, includeDetailedScans),
    );

    res.status(200).json({
      transactionId: randomUUID(),
      ...customerTransactionId(req),
      output: { completeTrackResults },
    });
  };
}

/** FedEx echoes the caller's `x-customer-transaction-id` header in the body. */
function customerTransactionId(req: Request): { customerTransactionId?: string } {
  const id = req.get('x-customer-transaction-id');
  return id ? { customerTransactionId: id } : {};
}

function errorBody(errors: FedexError[]): { transactionId: string; errors: FedexError[] } {
  return { transactionId: randomUUID(), errors };
}

/** FedEx's error code for an HTTP status, used for injected faults without `errorBody`. */
function errorCodeForStatus(status: number): string {
  switch (status) {
    case 401:
      return 'NOT.AUTHORIZED.ERROR';
    case 403:
      return 'FORBIDDEN.ERROR';
    case 404:
      return 'NOT.FOUND.ERROR';
    case 503:
      return 'SERVICE.UNAVAILABLE.ERROR';
    default:
      return status >= 500 ? 'INTERNAL.SERVER.ERROR' : 'BAD.REQUEST.ERROR';
  }
}
