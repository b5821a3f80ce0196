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
import { parseBearerToken, secretsEqual } from './credentials.js';
import { createFaultInjector, type FaultRegistry } from './faults.js';
import { AccessTokenStore } from './fhir-auth.js';
import type { CallCounters } from './stats.js';
import { parseMeetingFields, ZOOM_SANDBOX_HOST, ZoomMeetingStore } from './zoom-meetings.js';

/** Lifetime of an access token in seconds, returned as `expires_in`, as Zoom returns it. */
export const ZOOM_TOKEN_LIFETIME_SECONDS = 3599;

/** Scopes that every token of the stand-in grants, space-separated as Zoom returns them. */
export const ZOOM_TOKEN_SCOPE = 'meeting:read:admin meeting:write:admin user:read:admin';

const MAX_BODY_SIZE = '100kb';

/** Zoom's error codes in `{ code, message }` bodies of the Meetings API. */
const ZOOM_ERROR = {
  validationFailed: 300,
  invalidAccessToken: 124,
  userNotFound: 1001,
  meetingNotFound: 3001,
} as const;

/** Zoom API error body, e.g. `{ code: 3001, message: 'Meeting does not exist: 123.' }`. */
interface ZoomApiError {
  code: number;
  message: string;
}

/** Zoom OAuth error body, e.g. `{ reason: 'Invalid client_id or client_secret', error: 'invalid_client' }`. */
interface ZoomOAuthError {
  reason: string;
  error: string;
}

export interface ZoomStandInOptions {
  /** Account id that the token endpoint accepts in `account_id`. */
  accountId: string;
  /** Client id that the token endpoint accepts in HTTP Basic authentication. */
  clientId: string;
  /** Client secret that the token endpoint accepts in HTTP Basic authentication. */
  clientSecret: string;
  faults: FaultRegistry;
  counters: CallCounters;
  logger: Logger;
  /** Clock in ms since the epoch for token expiry, `Date.now` if omitted. Tests pass their own. */
  now?: () => number;
}

/**
 * Creates the Zoom stand-in, to mount at `/sandbox/zoom`: Server-to-Server OAuth at
 * `POST /oauth/token` and the Meetings API below `/v2`, both behind the `zoom` faults. It also
 * serves `GET /meetings` and `DELETE /meetings`, which list and delete every meeting for tests,
 * outside the faults and counters. Meetings are kept in memory.
 */
export function createZoomRouter(options: ZoomStandInOptions): Router {
  const { counters, logger } = options;
  const meetings = new ZoomMeetingStore();
  const tokens = new AccessTokenStore(options.now ?? Date.now, ZOOM_TOKEN_LIFETIME_SECONDS);
  const router = express.Router();

  router.get('/meetings', (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store').json({ meetings: meetings.list() });
  });
  router.delete('/meetings', (_req: Request, res: Response) => {
    meetings.clear();
    logger.info('sandbox Zoom meetings deleted');
    res.status(204).end();
  });

  // The body is read before the faults, so that a create delayed by `latencyMs` still creates its
  // meeting after the client stops waiting, as a slow Zoom would.
  router.use(
    parseBodyDeferringErrors([express.json({ limit: MAX_BODY_SIZE }), ...parseFormBody()]),
  );
  router.use(
    createFaultInjector({
      upstream: 'zoom',
      faults: options.faults,
      counters,
      buildErrorResponse: (status, req) => ({
        contentType: 'application/json',
        body: isTokenPath(req)
          ? {
              reason: `Injected fault ${status}.`,
              error: status >= 500 ? 'server_error' : 'invalid_request',
            }
          : { code: status, message: `Injected fault ${status}.` },
      }),
      truncatedResponse: {
        contentType: 'application/json',
        body: '{"uuid":"Yk2l0Qj8SxWbqB1mHhB3cw==","id":85746065432,"host_id":"sbxHost',
      },
    }),
  );
  router.use(raiseDeferredBodyError());

  router.post(
    '/oauth/token',
    (_req: Request, _res: Response, next: NextFunction) => {
      counters.increment('zoom', 'tokenRequests');
      next();
    },
    createTokenHandler(options, tokens, logger),
  );
  router.all('/oauth/token', (_req: Request, res: Response) => {
    res
      .status(405)
      .set('Allow', 'POST')
      .json({
        reason: 'The token endpoint accepts only POST.',
        error: 'invalid_request',
      } satisfies ZoomOAuthError);
  });

  const api = express.Router();
  api.use(createBearerAuthenticator(tokens, logger));
  api.post('/users/:userId/meetings', createMeetingHandler(meetings, logger));
  api.get('/users/:userId/meetings', listMeetingsHandler(meetings, logger));
  api.get('/meetings/:meetingId', (req: Request, res: Response) => {
    const meeting = meetings.get(String(req.params.meetingId));
    if (!meeting) {
      sendMeetingNotFound(res, String(req.params.meetingId), logger);
      return;
    }
    res.status(200).json(meeting);
  });
  api.patch('/meetings/:meetingId', updateMeetingHandler(meetings, logger));
  api.delete('/meetings/:meetingId', (req: Request, res: Response) => {
    const meetingId = String(req.params.meetingId);
    if (!meetings.delete(meetingId)) {
      sendMeetingNotFound(res, meetingId, logger);
      return;
    }
    logger.info({ meetingId }, 'sandbox Zoom meeting deleted');
    res.status(204).end();
  });
  router.use('/v2', api);

  router.use((req: Request, res: Response) => {
    logger.info(
      { status: 404, method: req.method, path: req.path },
      'sandbox Zoom route not found',
    );
    res.status(404).json({
      code: 404,
      message:
        'Not found: the stand-in serves POST /oauth/token, GET and POST /v2/users/{userId}/meetings and GET, PATCH and DELETE /v2/meetings/{meetingId}.',
    } satisfies ZoomApiError);
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
        'sandbox Zoom request body rejected',
      );
      res.status(clientError.status).json(
        isTokenPath(req)
          ? ({ reason: clientError.message, error: 'invalid_request' } satisfies ZoomOAuthError)
          : ({
              code: ZOOM_ERROR.validationFailed,
              message: 'Request Body should be a valid JSON object.',
            } satisfies ZoomApiError),
      );
      return;
    }

    logger.error({ err: error, path: req.path }, 'sandbox Zoom request failed');
    res.status(500).json({
      code: 500,
      message: 'Internal error in the Zoom stand-in. See the server log.',
    } satisfies ZoomApiError);
  });

  return router;
}

/**
 * Creates the handler of Zoom's Server-to-Server OAuth token endpoint. `grant_type` and
 * `account_id` come from the query string, as Zoom documents them, or from a form body. The
 * client authenticates with HTTP Basic only.
 */
function createTokenHandler(
  credentials: { accountId: string; clientId: string; clientSecret: string },
  tokens: AccessTokenStore,
  logger: Logger,
): RequestHandler {
  return (req: Request, res: Response): void => {
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    const reject = (error: ZoomOAuthError): void => {
      logger.info({ status: 400, error: error.error }, 'sandbox Zoom token request rejected');
      res.status(400).json(error);
    };

    const form = req.body instanceof URLSearchParams ? req.body : new URLSearchParams();
    const readParameter = (name: string): string | undefined => {
      const fromQuery = req.query[name];
      return typeof fromQuery === 'string' ? fromQuery : (form.get(name) ?? undefined);
    };

    const grantType = readParameter('grant_type');
    if (grantType !== 'account_credentials') {
      reject({
        reason: `grant_type is ${grantType ? 'unsupported' : 'missing'}. Send grant_type=account_credentials.`,
        error: 'unsupported_grant_type',
      });
      return;
    }

    const client = parseBasicCredentials(req.get('authorization'));
    if (
      !client ||
      !secretsEqual(client.clientId, credentials.clientId) ||
      !secretsEqual(client.clientSecret, credentials.clientSecret)
    ) {
      reject({ reason: 'Invalid client_id or client_secret', error: 'invalid_client' });
      return;
    }

    // NOTE: Zoom's exact reason text for an unknown account was not checked against the live API.
    const accountId = readParameter('account_id') ?? '';
    if (!secretsEqual(accountId, credentials.accountId)) {
      reject({
        reason: `Invalid account_id "${accountId}". Send the account id of the Server-to-Server OAuth app.`,
        error: 'invalid_client',
      });
      return;
    }

    res.status(200).json({
      access_token: tokens.issue(),
      token_type: 'bearer',
      expires_in: ZOOM_TOKEN_LIFETIME_SECONDS,
      scope: ZOOM_TOKEN_SCOPE,
      // Zoom returns the API host that the account must use; here that is this stand-in.
      api_url: `${req.protocol}://${req.get('host') ?? '127.0.0.1'}${req.baseUrl}`,
    });
  };
}

/** Creates middleware that rejects a request without a valid bearer token with Zoom's 401. */
function createBearerAuthenticator(tokens: AccessTokenStore, logger: Logger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const token = parseBearerToken(req.get('authorization'));
    const state = token ? tokens.check(token) : 'unknown';
    if (state === 'valid') {
      next();
      return;
    }

    logger.info(
      { status: 401, reason: token ? state : 'missing' },
      'sandbox Zoom request has no valid bearer token',
    );
    const message = state === 'expired' ? 'Access token is expired.' : 'Invalid access token.';
    res.status(401).json({ code: ZOOM_ERROR.invalidAccessToken, message } satisfies ZoomApiError);
  };
}

/** Creates the handler of `POST /v2/users/{userId}/meetings`, which schedules a meeting. */
function createMeetingHandler(meetings: ZoomMeetingStore, logger: Logger): RequestHandler {
  return (req: Request, res: Response): void => {
    const userId = String(req.params.userId);
    const isHost =
      userId === 'me' ||
      userId === ZOOM_SANDBOX_HOST.id ||
      userId.toLowerCase() === ZOOM_SANDBOX_HOST.email;
    if (!isHost) {
      logger.info({ status: 404 }, 'sandbox Zoom meeting create for an unknown user');
      res.status(404).json({
        code: ZOOM_ERROR.userNotFound,
        message: `User does not exist: ${userId}.`,
      } satisfies ZoomApiError);
      return;
    }

    const parsed = parseMeetingFields(req.body, 'create');
    if (!parsed.ok) {
      sendValidationFailed(res, parsed.message, logger);
      return;
    }

    const meeting = meetings.create(parsed.fields, new Date());
    logger.info({ meetingId: meeting.id }, 'sandbox Zoom meeting created');
    res.status(201).json(meeting);
  };
}

/** `page_size` of a meeting list when the request sends none, and the largest Zoom accepts. */
const DEFAULT_LIST_PAGE_SIZE = 30;
const MAX_LIST_PAGE_SIZE = 300;

/**
 * Creates the handler of `GET /v2/users/{userId}/meetings`, which lists the host's scheduled
 * meetings in pages of `page_size`, continued with the `next_page_token` of the previous page.
 * Each entry has the fields of Zoom's list, without the host's `start_url` and the password.
 */
function listMeetingsHandler(meetings: ZoomMeetingStore, logger: Logger): RequestHandler {
  return (req: Request, res: Response): void => {
    const userId = String(req.params.userId);
    const isHost =
      userId === 'me' ||
      userId === ZOOM_SANDBOX_HOST.id ||
      userId.toLowerCase() === ZOOM_SANDBOX_HOST.email;
    if (!isHost) {
      logger.info({ status: 404 }, 'sandbox Zoom meeting list for an unknown user');
      res.status(404).json({
        code: ZOOM_ERROR.userNotFound,
        message: `User does not exist: ${userId}.`,
      } satisfies ZoomApiError);
      return;
    }

    const pageSize =
      req.query.page_size === undefined ? DEFAULT_LIST_PAGE_SIZE : Number(req.query.page_size);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_LIST_PAGE_SIZE) {
      sendValidationFailed(
        res,
        `page_size ${JSON.stringify(req.query.page_size)} is invalid. Send an integer from 1 to ${MAX_LIST_PAGE_SIZE}.`,
        logger,
      );
      return;
    }
    // The stand-in's page token is the offset of the page's first meeting, in base64url.
    const token = typeof req.query.next_page_token === 'string' ? req.query.next_page_token : '';
    const offset = token === '' ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Number.isInteger(offset) || offset < 0) {
      sendValidationFailed(
        res,
        'next_page_token is invalid. Send the token of the previous page.',
        logger,
      );
      return;
    }

    const all = meetings.list();
    const page = all.slice(offset, offset + pageSize);
    const nextOffset = offset + page.length;
    res.status(200).json({
      page_size: pageSize,
      total_records: all.length,
      next_page_token:
        nextOffset < all.length ? Buffer.from(String(nextOffset)).toString('base64url') : '',
      meetings: page.map((meeting) => ({
        uuid: meeting.uuid,
        id: meeting.id,
        host_id: meeting.host_id,
        topic: meeting.topic,
        type: meeting.type,
        start_time: meeting.start_time,
        duration: meeting.duration,
        timezone: meeting.timezone,
        ...(meeting.agenda !== undefined ? { agenda: meeting.agenda } : {}),
        created_at: meeting.created_at,
        join_url: meeting.join_url,
      })),
    });
  };
}

/** Creates the handler of `PATCH /v2/meetings/{meetingId}`, which changes a meeting in place. */
function updateMeetingHandler(meetings: ZoomMeetingStore, logger: Logger): RequestHandler {
  return (req: Request, res: Response): void => {
    const meetingId = String(req.params.meetingId);
    if (!meetings.get(meetingId)) {
      sendMeetingNotFound(res, meetingId, logger);
      return;
    }

    const parsed = parseMeetingFields(req.body, 'update');
    if (!parsed.ok) {
      sendValidationFailed(res, parsed.message, logger);
      return;
    }

    meetings.update(meetingId, parsed.fields);
    logger.info({ meetingId }, 'sandbox Zoom meeting updated');
    res.status(204).end();
  };
}

function sendMeetingNotFound(res: Response, meetingId: string, logger: Logger): void {
  logger.info({ status: 404, meetingId }, 'sandbox Zoom meeting not found');
  res.status(404).json({
    code: ZOOM_ERROR.meetingNotFound,
    message: `Meeting does not exist: ${meetingId}.`,
  } satisfies ZoomApiError);
}

function sendValidationFailed(res: Response, message: string, logger: Logger): void {
  logger.info({ status: 400 }, 'sandbox Zoom meeting request rejected');
  res.status(400).json({ code: ZOOM_ERROR.validationFailed, message } satisfies ZoomApiError);
}

/** Parses `Authorization: Basic base64(client_id:client_secret)`. */
function parseBasicCredentials(
  authorization: string | undefined,
): { clientId: string; clientSecret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (!match?.[1]) {
    return undefined;
  }

  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator < 0) {
    return undefined;
  }
  return { clientId: decoded.slice(0, separator), clientSecret: decoded.slice(separator + 1) };
}

function isTokenPath(req: Request): boolean {
  return req.path.replace(/\/$/, '') === '/oauth/token';
}
