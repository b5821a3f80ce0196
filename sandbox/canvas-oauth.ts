import { randomBytes } from 'node:crypto';

import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from 'express';
import type { Logger } from 'pino';

import {
  parseBodyDeferringErrors,
  parseFormBody,
  raiseDeferredBodyError,
  toBodyParserError,
} from './body-parsing.js';
import type { CanvasAccount } from './canvas-oauth-accounts.js';
import { AuthorizationCodeStore } from './canvas-oauth-codes.js';
import { renderInvalidRequestPage, renderSignInPage } from './canvas-oauth-pages.js';
import {
  computeS256Challenge,
  isValidCodeVerifier,
  parseAuthorizationRequest,
  type AuthorizationRequest,
} from './canvas-oauth-request.js';
import { parseBasicCredentials, secretsEqual } from './credentials.js';
import { createFaultInjector, type FaultRegistry } from './faults.js';
import type { SandboxPatient } from './demo-data.js';
import { buildMagicLink, deliverMagicLinks } from './magic-links.js';
import type { Mailbox } from './mailbox.js';
import type { CallCounters } from './stats.js';

/** Lifetime of an access token in seconds, returned as `expires_in`. */
export const CANVAS_ACCESS_TOKEN_LIFETIME_SECONDS = 3600;

/** Scope returned when the authorization request named none. */
export const CANVAS_DEFAULT_SCOPE = 'launch/patient';

/** Form fields of a token request that may appear at most once (RFC 6749 section 3.2). */
const TOKEN_PARAMETER_NAMES = [
  'grant_type',
  'code',
  'redirect_uri',
  'code_verifier',
  'client_id',
  'client_secret',
] as const;

type TokenErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unsupported_grant_type';

/** OAuth 2.0 error response body (RFC 6749 section 5.2). */
interface TokenError {
  error: TokenErrorCode;
  error_description: string;
}

export interface CanvasOAuthStandInOptions {
  /** Client id that the authorization and token endpoints accept. */
  clientId: string;
  /** Client secret that the token endpoint accepts, in the body or with HTTP Basic. */
  clientSecret: string;
  /** Canvas users that the sign-in page offers, in the order shown. */
  accounts: readonly CanvasAccount[];
  /** Patients that `POST /magic-links` sends a magic-link email to. */
  magicLinkPatients: readonly SandboxPatient[];
  mailbox: Mailbox;
  /** Origin of the portal for the magic links, e.g. `http://localhost:3000`. */
  portalOrigin: string;
  faults: FaultRegistry;
  counters: CallCounters;
  logger: Logger;
  /** Clock in ms since the epoch for code expiry, `Date.now` if omitted. Tests pass their own. */
  now?: () => number;
}

/**
 * Creates the Canvas OAuth 2.0 authorization server stand-in, to mount at
 * `/sandbox/canvas-oauth`: the authorization-code flow with PKCE (S256 only) at `GET` and
 * `POST /authorize` and `POST /token`, behind the `canvas-oauth` faults. It also serves
 * `POST /magic-links`, which puts the magic-link emails into the mailbox again, outside the
 * faults and counters. Codes are kept in memory and access tokens are not stored, because no
 * sandbox endpoint accepts them.
 */
export function createCanvasOAuthRouter(options: CanvasOAuthStandInOptions): Router {
  const { counters, logger } = options;
  const codes = new AuthorizationCodeStore(options.now ?? Date.now);
  const router = express.Router();

  router.post('/magic-links', (_req: Request, res: Response) => {
    const messages = deliverMagicLinks(
      options.mailbox,
      options.portalOrigin,
      options.magicLinkPatients,
      new Date(),
    );
    logger.info({ count: messages.length }, 'sandbox magic-link emails delivered');
    res
      .status(201)
      .set('Cache-Control', 'no-store')
      .json({
        sent: options.magicLinkPatients.map((patient) => ({
          to: patient.email,
          link: buildMagicLink(options.portalOrigin, patient.id),
        })),
      });
  });

  router.use(parseBodyDeferringErrors(parseFormBody()));
  router.use(
    createFaultInjector({
      upstream: 'canvas-oauth',
      faults: options.faults,
      counters,
      buildErrorResponse: (status) => ({
        contentType: 'application/json',
        body: {
          error: status >= 500 ? 'server_error' : 'invalid_request',
          error_description: `Injected fault ${status}.`,
        },
      }),
      truncatedResponse: {
        contentType: 'application/json',
        body: '{"access_token":"c2FuZGJveC1jYW52YXMtdG9r',
      },
    }),
  );
  router.use(raiseDeferredBodyError());

  router.get('/authorize', createSignInPageHandler(options));
  router.post('/authorize', createDecisionHandler(options, codes));
  router.all('/authorize', (_req: Request, res: Response) => {
    res.status(405).set('Allow', 'GET, POST').type('text').send('Use GET or POST.');
  });

  router.post(
    '/token',
    (_req: Request, _res: Response, next: NextFunction) => {
      counters.increment('canvas-oauth', 'tokenRequests');
      next();
    },
    createTokenHandler(options, codes),
  );
  router.all('/token', (_req: Request, res: Response) => {
    res
      .status(405)
      .set('Allow', 'POST')
      .json({
        error: 'invalid_request',
        error_description: 'The token endpoint accepts only POST.',
      } satisfies TokenError);
  });

  router.use((req: Request, res: Response) => {
    logger.info(
      { status: 404, method: req.method, path: req.path },
      'sandbox Canvas OAuth route not found',
    );
    res.status(404).json({
      error: 'not_found',
      error_description:
        'The stand-in serves GET and POST /authorize, POST /token and POST /magic-links.',
    });
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
        'sandbox Canvas OAuth request body rejected',
      );
      if (isTokenPath(req)) {
        res
          .status(clientError.status)
          .json({ error: 'invalid_request', error_description: clientError.message });
      } else {
        res
          .status(clientError.status)
          .type('html')
          .send(renderInvalidRequestPage([clientError.message]));
      }
      return;
    }

    logger.error({ err: error, path: req.path }, 'sandbox Canvas OAuth request failed');
    res.status(500).json({
      error: 'server_error',
      error_description: 'Internal error in the Canvas OAuth stand-in. See the server log.',
    });
  });

  return router;
}

/** Creates the handler of `GET /authorize`, which shows the sign-in page or the error page. */
function createSignInPageHandler(options: CanvasOAuthStandInOptions): RequestHandler {
  return (req: Request, res: Response): void => {
    res.set('Cache-Control', 'no-store');
    // The raw query keeps repeated parameters, which req.query would merge into an array.
    const params = new URL(req.originalUrl, 'http://sandbox.invalid').searchParams;
    const parsed = parseAuthorizationRequest(params, options.clientId);
    if (!parsed.ok) {
      sendInvalidRequestPage(res, parsed.problems, options.logger);
      return;
    }

    res
      .status(200)
      .type('html')
      .send(
        renderSignInPage({
          request: parsed.request,
          accounts: options.accounts,
          formAction: `${req.baseUrl}/authorize`,
        }),
      );
  };
}

/**
 * Creates the handler of `POST /authorize`, the sign-in form. It checks the parameters again,
 * because the form can be edited, and redirects with 303 to redirect_uri with a code, or with
 * `error=access_denied` when the user chose Deny.
 */
function createDecisionHandler(
  options: CanvasOAuthStandInOptions,
  codes: AuthorizationCodeStore,
): RequestHandler {
  const { logger } = options;
  return (req: Request, res: Response): void => {
    res.set('Cache-Control', 'no-store');
    const form: unknown = req.body;
    if (!(form instanceof URLSearchParams)) {
      sendInvalidRequestPage(
        res,
        ['The form body is missing or not application/x-www-form-urlencoded.'],
        logger,
      );
      return;
    }

    const parsed = parseAuthorizationRequest(form, options.clientId);
    if (!parsed.ok) {
      sendInvalidRequestPage(res, parsed.problems, logger);
      return;
    }

    const decision = form.get('decision');
    if (decision === 'deny') {
      logger.info({ clientId: parsed.request.clientId }, 'sandbox Canvas sign-in denied');
      redirectToClient(res, parsed.request, {
        error: 'access_denied',
        error_description: 'The user denied the sign-in at the Canvas sandbox.',
      });
      return;
    }
    if (decision !== 'allow') {
      sendInvalidRequestPage(res, ['decision must be "allow" or "deny".'], logger);
      return;
    }

    const patientId = form.get('patient');
    const account = options.accounts.find((candidate) => candidate.patientId === patientId);
    if (!account) {
      sendInvalidRequestPage(
        res,
        ['No Canvas user is selected, or the selected one is unknown. Go back and choose a user.'],
        logger,
      );
      return;
    }

    const code = codes.issue({
      clientId: parsed.request.clientId,
      redirectUri: parsed.request.redirectUri,
      codeChallenge: parsed.request.codeChallenge,
      patientId: account.patientId,
      scope: parsed.request.scope,
    });
    logger.info({ clientId: parsed.request.clientId }, 'sandbox Canvas authorization code issued');
    redirectToClient(res, parsed.request, { code });
  };
}

/**
 * Creates the handler of `POST /token` for `grant_type=authorization_code` (RFC 6749 section
 * 4.1.3) with PKCE (RFC 7636 section 4.6). The client authenticates with HTTP Basic or with
 * `client_id` and `client_secret` in the body, never both. Codes, verifiers and tokens are never
 * logged.
 */
function createTokenHandler(
  options: CanvasOAuthStandInOptions,
  codes: AuthorizationCodeStore,
): RequestHandler {
  const { logger } = options;
  return (req: Request, res: Response): void => {
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    const reject = (status: 400 | 401, error: TokenErrorCode, description: string): void => {
      logger.info({ status, error }, 'sandbox Canvas token request rejected');
      if (status === 401) {
        res.set('WWW-Authenticate', 'Basic realm="canvas-oauth-sandbox"');
      }
      res.status(status).json({ error, error_description: description } satisfies TokenError);
    };

    const form: unknown = req.body;
    if (!(form instanceof URLSearchParams)) {
      reject(400, 'invalid_request', 'The body must be application/x-www-form-urlencoded.');
      return;
    }
    const repeated = TOKEN_PARAMETER_NAMES.find((name) => form.getAll(name).length > 1);
    if (repeated) {
      reject(400, 'invalid_request', `${repeated} is sent more than once. Send it once.`);
      return;
    }

    const grantType = form.get('grant_type');
    if (!grantType) {
      reject(400, 'invalid_request', 'grant_type is missing. Send grant_type=authorization_code.');
      return;
    }
    if (grantType !== 'authorization_code') {
      reject(400, 'unsupported_grant_type', 'Only grant_type=authorization_code is supported.');
      return;
    }

    const client = authenticateClient(req, form, options);
    if (!client.ok) {
      reject(client.status, client.error, client.description);
      return;
    }

    const code = form.get('code');
    if (!code) {
      reject(400, 'invalid_request', 'code is missing. Send the code from the redirect.');
      return;
    }

    // Redeeming marks the code used before any other check, so a failed exchange burns it too.
    const redemption = codes.redeem(code);
    if (redemption.status !== 'valid') {
      const reasons = {
        unknown: 'The authorization code is unknown.',
        used: 'The authorization code was already used. Start the sign-in again.',
        expired: 'The authorization code expired. Start the sign-in again.',
      } as const;
      reject(400, 'invalid_grant', reasons[redemption.status]);
      return;
    }

    const { grant } = redemption;
    if (grant.clientId !== options.clientId) {
      reject(400, 'invalid_grant', 'The authorization code was issued to another client.');
      return;
    }

    const redirectUri = form.get('redirect_uri');
    if (!redirectUri) {
      reject(400, 'invalid_request', 'redirect_uri is missing. Send the one used to authorize.');
      return;
    }
    if (redirectUri !== grant.redirectUri) {
      reject(400, 'invalid_grant', 'redirect_uri differs from the one used to authorize.');
      return;
    }

    const codeVerifier = form.get('code_verifier');
    if (!codeVerifier) {
      reject(400, 'invalid_request', 'code_verifier is missing. Send the PKCE code verifier.');
      return;
    }
    if (!isValidCodeVerifier(codeVerifier)) {
      reject(
        400,
        'invalid_request',
        'code_verifier is invalid. Send 43 to 128 characters from A-Z, a-z, 0-9 and "-._~".',
      );
      return;
    }
    if (!secretsEqual(computeS256Challenge(codeVerifier), grant.codeChallenge)) {
      reject(400, 'invalid_grant', 'code_verifier does not match the code_challenge.');
      return;
    }

    logger.info({ clientId: grant.clientId }, 'sandbox Canvas access token issued');
    res.status(200).json({
      access_token: randomBytes(32).toString('base64url'),
      token_type: 'Bearer',
      expires_in: CANVAS_ACCESS_TOKEN_LIFETIME_SECONDS,
      scope: grant.scope ?? CANVAS_DEFAULT_SCOPE,
      patient: grant.patientId,
    });
  };
}

type ClientAuthentication =
  | { ok: true; clientId: string }
  | { ok: false; status: 400 | 401; error: TokenErrorCode; description: string };

/**
 * Authenticates the client of a token request with HTTP Basic or with `client_id` and
 * `client_secret` in the body (RFC 6749 section 2.3.1). Using both at once is an invalid request,
 * and using neither is an invalid client.
 */
function authenticateClient(
  req: Request,
  form: URLSearchParams,
  credentials: { clientId: string; clientSecret: string },
): ClientAuthentication {
  const authorization = req.get('authorization');
  const basic = parseBasicCredentials(authorization);
  const bodyClientId = form.get('client_id');
  const bodySecret = form.get('client_secret');

  if (authorization !== undefined && !basic) {
    return {
      ok: false,
      status: 401,
      error: 'invalid_client',
      description: 'The Authorization header is not valid HTTP Basic authentication.',
    };
  }
  if (basic && bodySecret !== null) {
    return {
      ok: false,
      status: 400,
      error: 'invalid_request',
      description: 'Send the client credentials either with HTTP Basic or in the body, not both.',
    };
  }
  if (basic && bodyClientId !== null && bodyClientId !== basic.clientId) {
    return {
      ok: false,
      status: 400,
      error: 'invalid_request',
      description: 'client_id in the body differs from the one in HTTP Basic.',
    };
  }

  const clientId = basic?.clientId ?? bodyClientId;
  const clientSecret = basic?.clientSecret ?? bodySecret;
  if (clientId === null || clientSecret === null) {
    return {
      ok: false,
      status: 401,
      error: 'invalid_client',
      description:
        'Client authentication is missing. Send client_id and client_secret in the body or with HTTP Basic.',
    };
  }
  if (
    !secretsEqual(clientId, credentials.clientId) ||
    !secretsEqual(clientSecret, credentials.clientSecret)
  ) {
    return {
      ok: false,
      status: 401,
      error: 'invalid_client',
      description: 'The client id or client secret is invalid.',
    };
  }
  return { ok: true, clientId };
}

/** Redirects with 303 to the checked redirect_uri with `parameters` and `state` added. */
function redirectToClient(
  res: Response,
  request: AuthorizationRequest,
  parameters: Record<string, string>,
): void {
  const target = new URL(request.redirectUri);
  for (const [name, value] of Object.entries(parameters)) {
    target.searchParams.set(name, value);
  }
  target.searchParams.set('state', request.state);
  res.redirect(303, target.href);
}

function sendInvalidRequestPage(res: Response, problems: readonly string[], logger: Logger): void {
  logger.info(
    { status: 400, problems: problems.length },
    'sandbox Canvas authorization request rejected',
  );
  res.status(400).type('html').send(renderInvalidRequestPage(problems));
}

function isTokenPath(req: Request): boolean {
  return req.path.replace(/\/$/, '') === '/token';
}
