import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';

import {
  parseBodyDeferringErrors,
  parseFormBody,
  raiseDeferredBodyError,
  toBodyParserError,
} from './body-parsing.js';
import { createFaultInjector, type FaultRegistry } from './faults.js';
import {
  AccessTokenStore,
  createBearerAuthenticator,
  createTokenHandler,
  type ClientCredentials,
} from './fhir-auth.js';
import type { FhirEngine } from './fhir-engine.js';
import type { FhirEngineResponse } from './fhir-responses.js';
import type { CallCounters } from './stats.js';

export const FHIR_CONTENT_TYPE = 'application/fhir+json';

/** Largest request body accepted, far above the largest official R4 example loaded here. */
const MAX_BODY_SIZE = '1mb';

export interface FhirStandInOptions {
  engine: FhirEngine;
  credentials: ClientCredentials;
  faults: FaultRegistry;
  counters: CallCounters;
  logger: Logger;
}

/**
 * Creates the Canvas FHIR stand-in: the client-credentials token endpoint at `/auth/token/` and
 * the FHIR REST API below it, both behind the `fhir` faults. Mount it at the FHIR base path.
 */
export function createFhirRouter(options: FhirStandInOptions): Router {
  const { engine, counters, logger } = options;
  const tokens = new AccessTokenStore();
  const router = express.Router();

  // The body is read before the faults, so that a create delayed by `latencyMs` is still stored
  // when the client stops waiting, as a slow FHIR server would store it.
  router.use(
    parseBodyDeferringErrors([
      express.json({ type: ['application/json', FHIR_CONTENT_TYPE], limit: MAX_BODY_SIZE }),
      ...parseFormBody(),
    ]),
  );
  router.use(
    createFaultInjector({
      upstream: 'fhir',
      faults: options.faults,
      counters,
      buildErrorResponse: buildFhirErrorResponse,
      truncatedResponse: {
        contentType: FHIR_CONTENT_TYPE,
        body: '{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"resource":{"resourceType":"Pat',
      },
    }),
  );
  router.use(raiseDeferredBodyError());

  // Express routers ignore a trailing slash by default, so this also serves Canvas's
  // `/auth/token/`.
  router.post(
    '/auth/token',
    (_req: Request, _res: Response, next: NextFunction) => {
      counters.increment('fhir', 'tokenRequests');
      next();
    },
    createTokenHandler(options.credentials, tokens, logger),
  );
  router.all('/auth/token', (_req, res) => {
    res.status(405).set('Allow', 'POST').json({
      error: 'invalid_request',
      error_description: 'The token endpoint accepts only POST.',
    });
  });

  router.use(createBearerAuthenticator(tokens, logger));

  router.use(async (req: Request, res: Response) => {
    const url = new URL(req.url, 'http://sandbox.invalid');
    const response = await engine.handle({
      method: req.method,
      path: url.pathname,
      query: url.searchParams,
      body: req.body,
      prefer: req.get('prefer'),
      baseUrl: `${req.protocol}://${req.get('host') ?? '127.0.0.1'}${req.baseUrl}`,
      linkBase: req.baseUrl,
    });

    // The query is left out of logs because a search may contain an email address.
    const logFields = { status: response.status, method: req.method, path: url.pathname };
    if (response.status >= 500) {
      logger.error(logFields, 'sandbox FHIR request failed');
    } else if (response.status >= 400) {
      logger.info(logFields, 'sandbox FHIR request rejected');
    }
    sendFhirResponse(res, response);
  });

  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }

    const clientError = toBodyParserError(error);
    if (clientError) {
      logger.info(
        { status: clientError.status, method: req.method },
        'sandbox FHIR request body rejected',
      );
      sendFhirResponse(res, {
        status: clientError.status,
        body: outcome('invalid', clientError.message),
        headers: {},
      });
      return;
    }

    logger.error({ err: error, method: req.method }, 'sandbox FHIR request failed');
    const body = outcome(
      'exception',
      'Internal error in the sandbox FHIR server. See the server log.',
    );
    sendFhirResponse(res, { status: 500, body, headers: {} });
  });

  return router;
}

function sendFhirResponse(res: Response, response: FhirEngineResponse): void {
  res.status(response.status).set(response.headers);
  if (response.body) {
    res.type(FHIR_CONTENT_TYPE).send(JSON.stringify(response.body));
  } else {
    res.end();
  }
}

/**
 * Builds the error that a FHIR server or its token endpoint returns, for an injected fault
 * without `errorBody`.
 */
function buildFhirErrorResponse(
  status: number,
  req: Request,
): { contentType: string; body: unknown } {
  if (req.path.replace(/\/$/, '') === '/auth/token') {
    const error = status >= 500 ? 'server_error' : 'invalid_request';
    return {
      contentType: 'application/json',
      body: { error, error_description: `Injected fault ${status}.` },
    };
  }
  return {
    contentType: FHIR_CONTENT_TYPE,
    body: outcome(issueCodeForStatus(status), `Injected fault ${status}.`),
  };
}

function issueCodeForStatus(status: number): OperationOutcomeIssue['code'] {
  switch (status) {
    case 401:
      return 'login';
    case 403:
      return 'forbidden';
    case 404:
      return 'not-found';
    case 408:
    case 504:
      return 'timeout';
    case 429:
      return 'throttled';
    case 503:
      return 'transient';
    default:
      return status >= 500 ? 'exception' : 'processing';
  }
}

function outcome(code: OperationOutcomeIssue['code'], message: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, details: { text: message } }],
  };
}
