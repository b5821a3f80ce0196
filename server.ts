import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname } from 'node:path';
import { constants as zlibConstants } from 'node:zlib';

import { createRequestHandler } from '@react-router/express';
import compression from 'compression';
import express, { type NextFunction, type Request, type Response } from 'express';
import onHeaders from 'on-headers';
import type pg from 'pg';
import type { ServerBuild } from 'react-router';

import { EnvError, getEnv, SANDBOX_CREDENTIALS, type Env } from './app/config/env.server';
import { createPool, registerPool } from './app/db/pool.server';
import { MAX_BODY_BYTES } from './app/http/api.server';
import {
  startNotificationWorker,
  type NotificationWorker,
} from './app/notifications/worker.server';
import { AUDIT_KEY_HEADER, finishAccessRecord } from './app/security/access-audit.server';
import {
  createCspNonce,
  NON_DOCUMENT_CONTENT_SECURITY_POLICY,
} from './app/security/content-security-policy.server';
import { getLogger } from './app/utils/logger.server';
import type { EmbeddedPostgres } from './db/embedded';
import { migrate } from './db/migrate';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const HEALTH_PATHS = new Set(['/healthz', '/readyz']);
// No OPTIONS: the portal serves no cross-origin requests, and React Router would run a route's
// loader for one.
const SUPPORTED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
const SAFE_METHODS = new Set(['GET', 'HEAD']);
/**
 * Brotli at the compression package's quality 4 with a 256 KiB window instead of zlib's 4 MiB
 * default. Every response allocates its own window, which at 4 MiB cost about 1 ms of CPU per
 * response with ten in flight (Node 20, measured), against 0.2 ms. The largest page measured, a
 * conversation of about 90 KB of HTML, compressed to the same bytes with either window.
 */
const BROTLI_PARAMS = {
  [zlibConstants.BROTLI_PARAM_QUALITY]: 4,
  [zlibConstants.BROTLI_PARAM_LGWIN]: 18,
};

interface Readiness {
  migrated: boolean;
  /** Set on SIGTERM, so a load balancer stops sending requests before the server closes. */
  stopping: boolean;
  checkDatabase: () => Promise<void>;
}

/** Starts the portal: database, migrations, sandbox stand-ins (outside production), then the app. */
async function main(): Promise<void> {
  const env = loadEnvOrExit();
  const logger = getLogger();

  const app = express();
  const httpServer = createServer(app);
  const readiness: Readiness = {
    migrated: false,
    stopping: false,
    checkDatabase: () => Promise.resolve(),
  };

  app.disable('x-powered-by');
  // Rate limits key on the client IP, so it must come from the proxies we run, never from the client.
  app.set('trust proxy', env.trustProxyHops);
  app.use(countInFlight);
  app.use(assignRequestId);
  app.use(logRequest);
  app.use(rejectUnsupportedMethod);
  app.use(setBaseSecurityHeaders);
  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  app.get('/readyz', async (_request, response) => {
    if (readiness.stopping) {
      response.status(503).json({ status: 'stopping' });
      return;
    }
    const ready =
      readiness.migrated &&
      (await readiness.checkDatabase().then(
        () => true,
        () => false,
      ));
    response.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready' });
  });

  if (env.usesSandbox && !env.isProduction) {
    app.use('/sandbox', rejectForeignHost);
    await mountSandbox(app, env);
    app.post('/sandbox/jobs/run', express.json(), runNotificationJobsNow);
    app.post('/sandbox/shipments/:trackingNumber/advance', advanceDemoShipment);
    app.get('/sandbox/audit-events', listAuditEvents);
  }

  app.use(compression({ brotli: { params: BROTLI_PARAMS } }));
  app.use(rejectOversizedBody);
  app.use(rejectCrossSiteRequest);

  const { embedded, pool } = await startDatabase(env, readiness);
  if (env.fhir.mode === 'sandbox' && !env.isProduction) {
    const { seedIntegrationDatabase } = await import('./sandbox/integration-db-seed');
    await seedIntegrationDatabase(pool, new Date());
  }
  await mountReactRouter(app, httpServer, env);
  app.use(handleUnexpectedError);

  let worker: NotificationWorker | undefined;
  httpServer.listen(env.port, env.host, () => {
    // The jobs may call the sandbox on this server, so they start once it listens.
    if (env.notifications.worker === 'in-process') {
      worker = startNotificationWorker(env.notifications.jobsIntervalSeconds);
    }
    const { port } = httpServer.address() as AddressInfo;
    logger.info(
      {
        port,
        nodeEnv: env.nodeEnv,
        database: env.database.mode,
        fhir: env.fhir.mode,
        sendgrid: env.sendgrid.mode,
      },
      'portal listening',
    );
    if (!env.isProduction) {
      process.stdout.write(
        `\nPatient portal: http://localhost:${port}\nSandbox mailbox: http://localhost:${port}/sandbox/mail\n\n`,
      );
    }
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second stop signal: exiting without draining');
      process.exit(1);
    }
    stopping = true;
    void stopGracefully(signal, {
      httpServer,
      readiness,
      settings: env.shutdown,
      stopWorker: () => worker?.stop() ?? Promise.resolve(),
      pool,
      embedded,
    }).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: { message: (error as Error).message } }, 'portal stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/**
 * Stops the portal without cutting a request short. First /readyz returns 503 for
 * `settings.notReadyMs` while requests are still served, so a load balancer moves traffic away.
 * Then the server takes no new connections and waits up to `settings.drainMs` for the requests
 * in flight. Connections still open after that are closed. Last, the notification worker, the
 * pool and the embedded database stop, so PGlite writes its files out before the exit.
 */
async function stopGracefully(
  signal: string,
  parts: {
    httpServer: Server;
    readiness: Readiness;
    settings: Env['shutdown'];
    stopWorker: () => Promise<void>;
    pool: pg.Pool;
    embedded: EmbeddedPostgres | undefined;
  },
): Promise<void> {
  const logger = getLogger();
  const startedAt = Date.now();
  logger.info({ signal, inFlight: inFlightRequests }, 'portal stopping: not ready');
  parts.readiness.stopping = true;
  await sleep(parts.settings.notReadyMs);

  draining = parts.httpServer;
  const closed = new Promise<void>((resolve) => parts.httpServer.close(() => resolve()));
  parts.httpServer.closeIdleConnections();
  const drained = await Promise.race([
    closed.then(() => true),
    sleep(parts.settings.drainMs).then(() => false),
  ]);
  if (!drained) {
    logger.warn(
      { inFlight: inFlightRequests, drainMs: parts.settings.drainMs },
      'requests still running after the drain time: closing their connections',
    );
    parts.httpServer.closeAllConnections();
  }

  await parts.stopWorker();
  await closeDevServer?.();
  await parts.pool.end();
  await parts.embedded?.stop();
  logger.info({ signal, durationMs: Date.now() - startedAt, drained }, 'portal stopped');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Closes Vite's development server, when server.ts runs one. */
let closeDevServer: (() => Promise<void>) | undefined;

/** Requests being handled now, for the shutdown log. */
let inFlightRequests = 0;
/** The server once it has stopped taking connections and waits for requests in flight. */
let draining: Server | undefined;

/**
 * Counts requests in flight. While the server drains, each response closes its connection, so a
 * keep-alive connection does not hold the server open after its last request.
 */
function countInFlight(_request: Request, response: Response, next: NextFunction): void {
  inFlightRequests += 1;
  response.once('close', () => {
    inFlightRequests -= 1;
    const server = draining;
    if (server) setImmediate(() => server.closeIdleConnections());
  });
  if (draining) response.setHeader('connection', 'close');
  next();
}

function loadEnvOrExit(): Env {
  try {
    return getEnv();
  } catch (error) {
    if (error instanceof EnvError) {
      process.stderr.write(
        `The portal cannot start. ${error.message}\nSee the settings table in README.md.\n`,
      );
      process.exit(1);
    }
    throw error;
  }
}

async function startDatabase(
  env: Env,
  readiness: Readiness,
): Promise<{ embedded: EmbeddedPostgres | undefined; pool: pg.Pool }> {
  let embedded: EmbeddedPostgres | undefined;
  let url: string;
  if (env.database.mode === 'embedded') {
    const { startEmbeddedPostgres } = await import('./db/embedded');
    embedded = await startEmbeddedPostgres({
      dataDir: env.database.dataDir,
      maxConnections: env.database.poolMax,
    });
    url = embedded.url;
  } else {
    url = env.database.url;
  }

  // PGlite has one backend, and the socket server can interleave the protocol messages of
  // separate connections outside a transaction, so the embedded database gets one connection.
  const poolMax = env.database.mode === 'embedded' ? 1 : env.database.poolMax;
  const pool = registerPool(createPool(url, poolMax));
  const applied = await migrate(pool);
  getLogger().info({ applied }, 'database migrations done');

  readiness.migrated = true;
  readiness.checkDatabase = async () => {
    await pool.query('SELECT 1');
  };
  return { embedded, pool };
}

/**
 * Runs the notification jobs at once, as of `now` in the JSON body when given, so a developer or
 * a test can see time-based notifications appear without waiting (sandbox only).
 */
async function runNotificationJobsNow(request: Request, response: Response): Promise<void> {
  const requested = (request.body as { now?: unknown } | undefined)?.now;
  if (requested !== undefined && typeof requested !== 'string') {
    response.status(400).json({ error: 'Send now as an ISO 8601 instant, or leave it out.' });
    return;
  }
  const now = requested === undefined ? new Date() : new Date(requested);
  if (Number.isNaN(now.getTime())) {
    response.status(400).json({ error: 'Send now as an ISO 8601 instant, or leave it out.' });
    return;
  }
  const { runNotificationJobs } = await import('./app/notifications/jobs.server');
  const counts = await runNotificationJobs(now);
  response.status(counts.failed.length > 0 ? 500 : 200).json(counts);
}

/** Order in which the sandbox moves a demo shipment along, as the integration service would. */
const NEXT_SHIPMENT_STATUS: Record<string, string> = {
  label_created: 'packed',
  packed: 'shipped',
  shipped: 'delivered',
};

/**
 * Moves a demo shipment to its next status, as the integration service would, so that the
 * database trigger makes its notification (sandbox only).
 */
async function advanceDemoShipment(request: Request, response: Response): Promise<void> {
  const { getPool } = await import('./app/db/pool.server');
  const trackingNumber = String(request.params.trackingNumber);
  const current = await getPool().query<{ status: string }>(
    'SELECT status FROM shipments WHERE tracking_number = $1',
    [trackingNumber],
  );
  const next = NEXT_SHIPMENT_STATUS[current.rows[0]?.status ?? ''];
  if (!next) {
    response.status(404).json({ error: 'No demo shipment with this number can move on.' });
    return;
  }
  await getPool().query('UPDATE shipments SET status = $2 WHERE tracking_number = $1', [
    trackingNumber,
    next,
  ]);
  response.json({ trackingNumber, status: next });
}

/**
 * Lists audit events for one request id or one patient, oldest first, so tests and developers
 * can see what the trail recorded (sandbox only).
 */
async function listAuditEvents(request: Request, response: Response): Promise<void> {
  const { getPool } = await import('./app/db/pool.server');
  const requestId = typeof request.query.requestId === 'string' ? request.query.requestId : null;
  const patientId = typeof request.query.patientId === 'string' ? request.query.patientId : null;
  if (requestId === null && patientId === null) {
    response.status(400).json({ error: 'Send requestId or patientId.' });
    return;
  }
  const result = await getPool().query(
    `SELECT occurred_at, event_type, outcome, patient_id, session_id, request_id, action,
            resource_type, resource_id, client_ip, details
     FROM audit_events
     WHERE ($1::text IS NULL OR request_id = $1) AND ($2::text IS NULL OR patient_id = $2)
     ORDER BY id`,
    [requestId, patientId],
  );
  response.json(result.rows);
}

async function mountSandbox(app: express.Express, env: Env): Promise<void> {
  const { createSandbox } = await import('./sandbox/index');
  const { faultSettingsByUpstreamSchema } = await import('./sandbox/faults');
  const faults = env.sandboxFaults
    ? faultSettingsByUpstreamSchema.parse(JSON.parse(env.sandboxFaults))
    : undefined;

  const { router } = await createSandbox({
    fhirClientId: env.fhir.clientId,
    fhirClientSecret: env.fhir.clientSecret,
    sendgridApiKey: env.sendgrid.apiKey,
    fedexClientId: env.fedex.clientId,
    fedexClientSecret: env.fedex.clientSecret,
    // The sandbox's own credentials, never the real Zoom app's, even when Zoom itself is configured.
    zoomAccountId: SANDBOX_CREDENTIALS.zoomAccountId,
    zoomClientId: SANDBOX_CREDENTIALS.zoomClientId,
    zoomClientSecret: SANDBOX_CREDENTIALS.zoomClientSecret,
    canvasOauthClientId: SANDBOX_CREDENTIALS.canvasOauthClientId,
    canvasOauthClientSecret: SANDBOX_CREDENTIALS.canvasOauthClientSecret,
    // localhost, not 127.0.0.1, because the portal's session cookie needs a secure context.
    portalOrigin: `http://localhost:${env.port}`,
    faults,
    logger: getLogger().child({ component: 'sandbox' }),
  });
  app.use('/sandbox', router);
}

async function mountReactRouter(app: express.Express, httpServer: Server, env: Env): Promise<void> {
  const getLoadContext = (request: Request, response: Response) => ({
    clientIp: request.ip ?? 'unknown',
    requestId: String(response.locals.requestId),
    cspNonce: createCspNonce(),
  });

  // Pages and data show patient information: no browser or proxy may keep a copy. A route that
  // may be cached sets its own header, and then this one is left out.
  const noStore = (_request: Request, response: Response, next: NextFunction) => {
    onHeaders(response, () => {
      if (!response.hasHeader('cache-control')) response.setHeader('cache-control', 'no-store');
    });
    next();
  };

  if (env.isProduction) {
    app.use('/assets', express.static('build/client/assets', { immutable: true, maxAge: '1y' }));
    const publicFiles = express.static('build/client', { maxAge: '1h', index: false });
    // Only a path with an extension, such as /favicon.svg, can name a file there. Pages would
    // otherwise cost a file system lookup each, and their `.data` requests are never files.
    app.use((request: Request, response: Response, next: NextFunction) => {
      const extension = extname(request.path);
      if (extension === '' || extension === '.data') return next();
      publicFiles(request, response, next);
    });
    const build = (await import(
      new URL('./build/server/index.js', import.meta.url).href
    )) as ServerBuild;
    app.all(
      '*splat',
      noStore,
      auditPatientDataAccess,
      createRequestHandler({ build, getLoadContext }),
    );
    return;
  }

  const vite = await import('vite');
  const viteServer = await vite.createServer({
    server: { middlewareMode: true, hmr: env.nodeEnv === 'test' ? false : { server: httpServer } },
    appType: 'custom',
  });
  // Vite adds a SIGTERM listener that closes it and exits at once, which would cut the drain
  // short. The portal's own shutdown closes Vite instead, after the requests in flight.
  for (const listener of process.listeners('SIGTERM')) process.off('SIGTERM', listener);
  closeDevServer = () => viteServer.close();
  app.use(viteServer.middlewares);
  app.all(
    '*splat',
    noStore,
    auditPatientDataAccess,
    createRequestHandler({
      build: () =>
        viteServer.ssrLoadModule('virtual:react-router/server-build') as Promise<ServerBuild>,
      getLoadContext,
    }),
  );
}

/**
 * Writes the audit row of a request that read or changed patient data (or was refused), once
 * its response is over. The routes mark such requests when they check the session.
 */
function auditPatientDataAccess(request: Request, response: Response, next: NextFunction): void {
  const auditKey = randomUUID();
  request.headers[AUDIT_KEY_HEADER] = auditKey;
  response.once('close', () => {
    void finishAccessRecord({
      auditKey,
      requestId: String(response.locals.requestId),
      method: request.method,
      path: request.path,
      status: response.statusCode,
      clientIp: request.ip ?? 'unknown',
      completed: response.writableFinished,
    });
  });
  next();
}

function assignRequestId(request: Request, response: Response, next: NextFunction): void {
  const incoming = request.get('x-request-id');
  const requestId = incoming && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
  response.locals.requestId = requestId;
  // Overwrite the header so code that reads the request gets the validated id, not the client's.
  request.headers['x-request-id'] = requestId;
  response.setHeader('x-request-id', requestId);
  next();
}

/** Logs one line per request with its path only: query strings may carry personal data. */
function logRequest(request: Request, response: Response, next: NextFunction): void {
  if (HEALTH_PATHS.has(request.path)) return next();

  const startedAt = process.hrtime.bigint();
  response.on('finish', () => {
    const durationMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
    getLogger().info(
      {
        requestId: response.locals.requestId,
        method: request.method,
        path: redactPath(request.originalUrl),
        status: response.statusCode,
        durationMs: Math.round(durationMs),
      },
      'request',
    );
  });
  next();
}

/**
 * Returns the path without its query string and with long digit runs (tracking numbers) masked,
 * because either can identify a patient's shipment.
 */
function redactPath(originalUrl: string): string {
  const path = originalUrl.split('?')[0] ?? '';
  return path.replace(/\d{10,}/g, ':number');
}

/**
 * Responds to an error that escaped every route (a malformed percent-encoding, say) without a stack
 * trace: JSON for the API, plain text elsewhere. The detail goes to the log.
 */
function handleUnexpectedError(
  error: unknown,
  request: Request,
  response: Response,
  next: NextFunction,
): void {
  if (response.headersSent) return next(error);

  const status = error instanceof URIError ? 400 : 500;
  getLogger().error(
    {
      requestId: response.locals.requestId,
      path: redactPath(request.originalUrl),
      err: { name: (error as Error).name },
    },
    'request failed before routing',
  );
  const message =
    status === 400 ? 'The address is not valid.' : 'Something went wrong. Please try again.';
  if (request.path.startsWith('/api/')) {
    response
      .status(status)
      .json({ error: { code: status === 400 ? 'invalid_request' : 'internal_error', message } });
  } else {
    response.status(status).type('text/plain').send(message);
  }
}

function setBaseSecurityHeaders(request: Request, response: Response, next: NextFunction): void {
  // Pages get a policy with a nonce from entry.server.tsx; the sandbox's own pages get none.
  if (request.path.startsWith('/api/') || HEALTH_PATHS.has(request.path)) {
    response.setHeader('content-security-policy', NON_DOCUMENT_CONTENT_SECURITY_POLICY);
  }
  response.setHeader('x-content-type-options', 'nosniff');
  response.setHeader('referrer-policy', 'same-origin');
  response.setHeader('x-frame-options', 'DENY');
  response.setHeader(
    'permissions-policy',
    'camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()',
  );
  // Production always runs behind TLS; a browser then never tries plain HTTP for a year.
  if (getEnv().isProduction) {
    response.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains');
  }
  next();
}

const LOOPBACK_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Serves the sandbox (mailbox with sign-in codes, audit rows) only to requests addressed to
 * loopback, so a web page that rebinds its own host name to 127.0.0.1 cannot read it.
 */
function rejectForeignHost(request: Request, response: Response, next: NextFunction): void {
  const hostname = (request.get('host') ?? '').replace(/:\d+$/, '').toLowerCase();
  if (LOOPBACK_HOSTNAMES.has(hostname)) return next();

  response.status(403).type('text/plain').send('The sandbox answers loopback addresses only.');
}

function rejectUnsupportedMethod(request: Request, response: Response, next: NextFunction): void {
  if (SUPPORTED_METHODS.has(request.method)) return next();

  response.setHeader('allow', [...SUPPORTED_METHODS].join(', '));
  response.status(405).type('text/plain').send(`The method ${request.method} is not supported.`);
}

/**
 * Rejects a state-changing request (a form post or an API write) sent by another site: its
 * `Origin` names another origin, or the browser marks it `Sec-Fetch-Site: cross-site`. Requests
 * without either header come from non-browser clients, which carry no patient's cookie unless
 * given one. The portal's origin is PUBLIC_ORIGIN when set, else the request's scheme and Host
 * (behind a proxy, the scheme comes from X-Forwarded-Proto only with TRUST_PROXY_HOPS set).
 */
function rejectCrossSiteRequest(request: Request, response: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(request.method)) return next();

  const origin = request.get('origin')?.toLowerCase();
  const ownOrigin = (
    getEnv().publicOrigin ?? `${request.protocol}://${request.get('host') ?? ''}`
  ).toLowerCase();
  const crossOrigin = origin !== undefined && origin !== ownOrigin;
  const crossSite = request.get('sec-fetch-site') === 'cross-site';
  if (!crossOrigin && !crossSite) return next();

  const message = 'Requests from other sites are not accepted.';
  if (request.path.startsWith('/api/')) {
    response.status(403).json({ error: { code: 'cross_site_request', message } });
  } else {
    response.status(403).type('text/plain').send(message);
  }
}

function rejectOversizedBody(request: Request, response: Response, next: NextFunction): void {
  const declaredLength = Number(request.get('content-length') ?? '0');
  if (declaredLength <= MAX_BODY_BYTES) return next();

  const message = `The request body is larger than ${MAX_BODY_BYTES} bytes.`;
  if (request.path.startsWith('/api/')) {
    response.status(413).json({ error: { code: 'body_too_large', message } });
  } else {
    response.status(413).type('text/plain').send(message);
  }
}

main().catch((error: unknown) => {
  getLogger().fatal(
    { err: { message: (error as Error).message, stack: (error as Error).stack } },
    'portal failed to start',
  );
  process.exit(1);
});
