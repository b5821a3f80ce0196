import { z } from 'zod';

import { isKnownTimeZone } from '~/patients/time-zone';
import {
  CARTO_TILE_URL,
  findTileUrlProblem,
  SANDBOX_TILE_URL,
  tileImageSource,
} from '~/shipments/map-tiles';
import { singleton } from '~/utils/singleton.server';

/** Credentials the sandbox stand-ins accept; they guard nothing real and are never used in production. */
export const SANDBOX_CREDENTIALS = {
  fhirClientId: 'sandbox-portal',
  fhirClientSecret: 'sandbox-portal-secret',
  sendgridApiKey: 'SG.sandbox-key',
  fedexClientId: 'sandbox-fedex-client',
  fedexClientSecret: 'sandbox-fedex-secret',
  zoomAccountId: 'sandbox-zoom-account',
  zoomClientId: 'sandbox-zoom-client',
  zoomClientSecret: 'sandbox-zoom-secret',
  canvasOauthClientId: 'sandbox-portal-sso',
  canvasOauthClientSecret: 'sandbox-portal-sso-secret',
  sessionSecret: 'sandbox-session-secret-do-not-use-in-production',
} as const;

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const optionalUrl = optionalText.pipe(z.url().optional());

const rawEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),

  SESSION_SECRET: optionalText.pipe(z.string().min(32).optional()),
  SESSION_COOKIE_SECURE: z.enum(['true', 'false']).optional(),

  DATABASE_URL: optionalUrl,
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  EMBEDDED_DATABASE_DIR: z.string().default('.data/pglite'),

  CANVAS_FHIR_BASE_URL: optionalUrl,
  CANVAS_TOKEN_URL: optionalUrl,
  CANVAS_CLIENT_ID: optionalText,
  CANVAS_CLIENT_SECRET: optionalText,

  SENDGRID_API_KEY: optionalText,
  SENDGRID_BASE_URL: optionalUrl,
  MAIL_FROM: optionalText.pipe(z.email().optional()),

  FEDEX_API_BASE_URL: optionalUrl,
  FEDEX_CLIENT_ID: optionalText,
  FEDEX_CLIENT_SECRET: optionalText,

  CANVAS_OAUTH_AUTHORIZE_URL: optionalUrl,
  CANVAS_OAUTH_TOKEN_URL: optionalUrl,
  CANVAS_OAUTH_CLIENT_ID: optionalText,
  CANVAS_OAUTH_CLIENT_SECRET: optionalText,
  /** Public origin of the portal, e.g. https://portal.example.com, for OAuth redirect URIs. */
  PUBLIC_ORIGIN: optionalUrl,

  ZOOM_ACCOUNT_ID: optionalText,
  ZOOM_CLIENT_ID: optionalText,
  ZOOM_CLIENT_SECRET: optionalText,
  ZOOM_API_BASE_URL: optionalUrl,
  ZOOM_OAUTH_URL: optionalUrl,
  ZOOM_USER_ID: z.string().trim().min(1).default('me'),

  CLINIC_TIME_ZONE: z
    .string()
    .default('America/New_York')
    .refine(isKnownTimeZone, 'Use an IANA time zone such as America/New_York.'),
  VISIT_LENGTH_MINUTES: z.coerce.number().int().min(5).max(240).default(30),
  BOOKING_MIN_NOTICE_MINUTES: z.coerce.number().int().min(0).max(10_080).default(120),
  BOOKING_HORIZON_DAYS: z.coerce.number().int().min(1).max(730).default(120),
  APPOINTMENT_CHANGE_CUTOFF_HOURS: z.coerce.number().int().min(0).max(168).default(24),

  NOTIFICATION_WORKER: z.enum(['in-process', 'off']).default('in-process'),
  NOTIFICATION_JOBS_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),

  SIGN_IN_CODE_LIFETIME_SECONDS: z.coerce.number().int().min(1).max(3600).default(600),
  SEND_CODE_LIMIT_PER_EMAIL: z.coerce.number().int().min(1).default(5),
  SEND_CODE_LIMIT_PER_IP: z.coerce.number().int().min(1).default(30),
  VERIFY_CODE_LIMIT_PER_IP: z.coerce.number().int().min(1).default(60),
  WRITE_LIMIT_PER_WINDOW: optionalText.pipe(
    z.coerce.number<string>().int().min(1).max(10_000).optional(),
  ),

  FHIR_SEARCH_PAGE_SIZE: z.coerce.number().int().min(1).max(100).default(100),
  PRESCRIPTION_LIST_MAX: z.coerce.number().int().min(1).max(5000).default(500),
  TRACKING_CACHE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(1800),
  MAP_TILE_URL: optionalText.superRefine((value, context) => {
    const problem = value === undefined ? undefined : findTileUrlProblem(value);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  }),

  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  UPSTREAM_BUDGET_MS: z.coerce.number().int().min(100).max(120_000).default(8_000),
  CIRCUIT_BREAKER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  CIRCUIT_BREAKER_OPEN_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  SHUTDOWN_NOT_READY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  SANDBOX_FAULTS: optionalText,
});

type RawEnv = z.infer<typeof rawEnvSchema>;

/** Settings of one upstream: either the real service or the sandbox stand-in on this server. */
type UpstreamMode = 'real' | 'sandbox';

export interface Env {
  nodeEnv: RawEnv['NODE_ENV'];
  isProduction: boolean;
  host: string;
  port: number;
  /** Reverse proxies in front of the portal whose X-Forwarded-For is trusted for the client IP. */
  trustProxyHops: number;
  logLevel: NonNullable<RawEnv['LOG_LEVEL']>;
  session: { secret: string; cookieSecure: boolean };
  signIn: {
    codeLifetimeSeconds: number;
    /** Codes a single email may request per 15-minute window. */
    sendLimitPerEmail: number;
    /** Codes a single client IP may request per 15-minute window. */
    sendLimitPerIp: number;
    /** Codes a single client IP may enter per 15-minute window. */
    verifyLimitPerIp: number;
  };
  /**
   * Request count that replaces the count of every per-session write limit, so tests can reach
   * the limits quickly. Undefined in production, which rejects the setting.
   */
  writeLimitPerWindow: number | undefined;
  database:
    | { mode: 'external'; url: string; poolMax: number }
    | { mode: 'embedded'; dataDir: string; poolMax: number };
  fhir: {
    mode: UpstreamMode;
    baseUrl: string;
    tokenUrl: string;
    clientId: string;
    clientSecret: string;
    /** `_count` of each search page; Canvas accepts at most 100. */
    searchPageSize: number;
  };
  /** Most MedicationRequests read for one prescription list. */
  prescriptionListMax: number;
  /** How long a successful FedEx tracking result is served from `tracking_cache`. */
  trackingCacheSeconds: number;
  /**
   * The tracking map's tiles: a Leaflet URL template, and the Content-Security-Policy source
   * its images need (undefined when they come from the portal's own origin).
   */
  mapTiles: { urlTemplate: string; imageSource: string | undefined };
  /** `baseUrl` undefined means the client's default, SendGrid's own API host. */
  sendgrid: { mode: UpstreamMode; apiKey: string; baseUrl: string | undefined; from: string };
  /** `baseUrl` is the API host, e.g. `https://apis.fedex.com`, which serves `/oauth/token`. */
  fedex: { mode: UpstreamMode; baseUrl: string; clientId: string; clientSecret: string };
  /**
   * Zoom Server-to-Server OAuth app: `apiBaseUrl` e.g. `https://api.zoom.us/v2`, `oauthUrl` e.g.
   * `https://zoom.us/oauth/token`, and the user whose meetings the portal creates.
   */
  zoom: {
    mode: UpstreamMode;
    apiBaseUrl: string;
    oauthUrl: string;
    accountId: string;
    clientId: string;
    clientSecret: string;
    userId: string;
  };
  /** Canvas OAuth 2.0 authorization-code app for single sign-on from the EHR's magic link. */
  canvasOauth: {
    mode: UpstreamMode;
    authorizeUrl: string;
    tokenUrl: string;
    clientId: string;
    clientSecret: string;
  };
  /** Public origin for OAuth redirect URIs; undefined means the origin of each request. */
  publicOrigin: string | undefined;
  notifications: {
    /** `in-process`: the web server also runs the notification jobs; `off`: `npm run worker` does. */
    worker: 'in-process' | 'off';
    jobsIntervalSeconds: number;
  };
  scheduling: {
    /** IANA zone for showing times to a patient whose Patient resource names none. */
    clinicTimeZone: string;
    visitLengthMinutes: number;
    /** Earliest start of a bookable slot, in minutes from now. */
    minNoticeMinutes: number;
    /** Latest start of a bookable slot, in days from now. */
    horizonDays: number;
    /** No reschedule or cancel from this many hours before the start. */
    changeCutoffHours: number;
  };
  upstreamTimeoutMs: number;
  /**
   * Maximum time one portal request spends on upstream calls, retries and backoff included,
   * counted from the start of the request (see docs/resilience.md).
   */
  upstreamBudgetMs: number;
  circuitBreaker: {
    /** Failures in a row that open an upstream's circuit. */
    failureThreshold: number;
    /** How long an open circuit rejects calls before one trial call may go through. */
    openMs: number;
  };
  databaseTimeouts: {
    /** Maximum wait of a query for a pooled connection, including opening a new one. */
    connectMs: number;
    /** Maximum wait for the result of one query before the client drops the connection. */
    queryMs: number;
  };
  shutdown: {
    /** After SIGTERM, how long /readyz returns 503 while requests are still served. */
    notReadyMs: number;
    /** Then how long in-flight requests may take before their connections are closed. */
    drainMs: number;
  };
  sandboxFaults: string | undefined;
  /** True when at least one upstream is served by the sandbox, so server.ts mounts `/sandbox`. */
  usesSandbox: boolean;
}

/** Names of the settings each upstream needs; all or none of a group must be set. */
const UPSTREAM_SETTINGS = {
  fhir: ['CANVAS_FHIR_BASE_URL', 'CANVAS_TOKEN_URL', 'CANVAS_CLIENT_ID', 'CANVAS_CLIENT_SECRET'],
  sendgrid: ['SENDGRID_API_KEY', 'MAIL_FROM'],
  fedex: ['FEDEX_API_BASE_URL', 'FEDEX_CLIENT_ID', 'FEDEX_CLIENT_SECRET'],
  zoom: ['ZOOM_ACCOUNT_ID', 'ZOOM_CLIENT_ID', 'ZOOM_CLIENT_SECRET'],
  canvasOauth: [
    'CANVAS_OAUTH_AUTHORIZE_URL',
    'CANVAS_OAUTH_TOKEN_URL',
    'CANVAS_OAUTH_CLIENT_ID',
    'CANVAS_OAUTH_CLIENT_SECRET',
  ],
} as const satisfies Record<string, readonly (keyof RawEnv)[]>;

export class EnvError extends Error {
  override name = 'EnvError';
}

/**
 * Parses environment variables into the portal's settings.
 *
 * Outside production an upstream with none of its settings falls back to its sandbox stand-in
 * and the database falls back to embedded PostgreSQL. In production every setting is required,
 * and the error lists all missing ones at once.
 */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const parsed = rawEnvSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.')}: ${issue.message}`,
    );
    throw new EnvError(`Invalid settings:\n  ${problems.join('\n  ')}`);
  }
  const raw = parsed.data;
  const isProduction = raw.NODE_ENV === 'production';

  const missing = findMissingSettings(raw, isProduction);
  if (missing.length > 0) {
    throw new EnvError(
      `Missing settings${isProduction ? ' (required with NODE_ENV=production)' : ''}: ${missing.join(', ')}`,
    );
  }
  if (isProduction && raw.WRITE_LIMIT_PER_WINDOW !== undefined) {
    throw new EnvError(
      'WRITE_LIMIT_PER_WINDOW is for tests and is not accepted with NODE_ENV=production. Remove it to use the built-in write limits.',
    );
  }

  const sandboxOrigin = `http://127.0.0.1:${raw.PORT}/sandbox`;
  const fhirMode: UpstreamMode = raw.CANVAS_FHIR_BASE_URL ? 'real' : 'sandbox';
  const sendgridMode: UpstreamMode = raw.SENDGRID_API_KEY ? 'real' : 'sandbox';
  const fedexMode: UpstreamMode = raw.FEDEX_API_BASE_URL ? 'real' : 'sandbox';
  const zoomMode: UpstreamMode = raw.ZOOM_ACCOUNT_ID ? 'real' : 'sandbox';
  const canvasOauthMode: UpstreamMode = raw.CANVAS_OAUTH_CLIENT_ID ? 'real' : 'sandbox';
  const usesSandbox =
    fhirMode === 'sandbox' ||
    sendgridMode === 'sandbox' ||
    fedexMode === 'sandbox' ||
    zoomMode === 'sandbox' ||
    canvasOauthMode === 'sandbox';
  // The sandbox draws its own tiles, so a development server needs no network for the map.
  const mapTileUrl =
    raw.MAP_TILE_URL ?? (usesSandbox && !isProduction ? SANDBOX_TILE_URL : CARTO_TILE_URL);

  return {
    nodeEnv: raw.NODE_ENV,
    isProduction,
    host: raw.HOST,
    port: raw.PORT,
    trustProxyHops: raw.TRUST_PROXY_HOPS,
    logLevel: raw.LOG_LEVEL ?? (raw.NODE_ENV === 'test' ? 'silent' : 'info'),
    session: {
      secret: raw.SESSION_SECRET ?? SANDBOX_CREDENTIALS.sessionSecret,
      cookieSecure: raw.SESSION_COOKIE_SECURE ? raw.SESSION_COOKIE_SECURE === 'true' : true,
    },
    signIn: {
      codeLifetimeSeconds: raw.SIGN_IN_CODE_LIFETIME_SECONDS,
      sendLimitPerEmail: raw.SEND_CODE_LIMIT_PER_EMAIL,
      sendLimitPerIp: raw.SEND_CODE_LIMIT_PER_IP,
      verifyLimitPerIp: raw.VERIFY_CODE_LIMIT_PER_IP,
    },
    writeLimitPerWindow: raw.WRITE_LIMIT_PER_WINDOW,
    database: raw.DATABASE_URL
      ? { mode: 'external', url: raw.DATABASE_URL, poolMax: raw.DATABASE_POOL_MAX }
      : { mode: 'embedded', dataDir: raw.EMBEDDED_DATABASE_DIR, poolMax: raw.DATABASE_POOL_MAX },
    fhir:
      fhirMode === 'real'
        ? {
            mode: 'real',
            baseUrl: required(raw.CANVAS_FHIR_BASE_URL),
            tokenUrl: required(raw.CANVAS_TOKEN_URL),
            clientId: required(raw.CANVAS_CLIENT_ID),
            clientSecret: required(raw.CANVAS_CLIENT_SECRET),
            searchPageSize: raw.FHIR_SEARCH_PAGE_SIZE,
          }
        : {
            mode: 'sandbox',
            baseUrl: `${sandboxOrigin}/fhir`,
            tokenUrl: `${sandboxOrigin}/fhir/auth/token/`,
            clientId: SANDBOX_CREDENTIALS.fhirClientId,
            clientSecret: SANDBOX_CREDENTIALS.fhirClientSecret,
            searchPageSize: raw.FHIR_SEARCH_PAGE_SIZE,
          },
    sendgrid:
      sendgridMode === 'real'
        ? {
            mode: 'real',
            apiKey: required(raw.SENDGRID_API_KEY),
            baseUrl: raw.SENDGRID_BASE_URL,
            from: required(raw.MAIL_FROM),
          }
        : {
            mode: 'sandbox',
            apiKey: SANDBOX_CREDENTIALS.sendgridApiKey,
            baseUrl: `${sandboxOrigin}/sendgrid`,
            from: 'portal@sandbox.example.com',
          },
    fedex:
      fedexMode === 'real'
        ? {
            mode: 'real',
            baseUrl: required(raw.FEDEX_API_BASE_URL),
            clientId: required(raw.FEDEX_CLIENT_ID),
            clientSecret: required(raw.FEDEX_CLIENT_SECRET),
          }
        : {
            mode: 'sandbox',
            baseUrl: `${sandboxOrigin}/fedex`,
            clientId: SANDBOX_CREDENTIALS.fedexClientId,
            clientSecret: SANDBOX_CREDENTIALS.fedexClientSecret,
          },
    zoom:
      zoomMode === 'real'
        ? {
            mode: 'real',
            apiBaseUrl: raw.ZOOM_API_BASE_URL ?? 'https://api.zoom.us/v2',
            oauthUrl: raw.ZOOM_OAUTH_URL ?? 'https://zoom.us/oauth/token',
            accountId: required(raw.ZOOM_ACCOUNT_ID),
            clientId: required(raw.ZOOM_CLIENT_ID),
            clientSecret: required(raw.ZOOM_CLIENT_SECRET),
            userId: raw.ZOOM_USER_ID,
          }
        : {
            mode: 'sandbox',
            apiBaseUrl: `${sandboxOrigin}/zoom/v2`,
            oauthUrl: `${sandboxOrigin}/zoom/oauth/token`,
            accountId: SANDBOX_CREDENTIALS.zoomAccountId,
            clientId: SANDBOX_CREDENTIALS.zoomClientId,
            clientSecret: SANDBOX_CREDENTIALS.zoomClientSecret,
            userId: raw.ZOOM_USER_ID,
          },
    canvasOauth:
      canvasOauthMode === 'real'
        ? {
            mode: 'real',
            authorizeUrl: required(raw.CANVAS_OAUTH_AUTHORIZE_URL),
            tokenUrl: required(raw.CANVAS_OAUTH_TOKEN_URL),
            clientId: required(raw.CANVAS_OAUTH_CLIENT_ID),
            clientSecret: required(raw.CANVAS_OAUTH_CLIENT_SECRET),
          }
        : {
            mode: 'sandbox',
            authorizeUrl: `${sandboxOrigin}/canvas-oauth/authorize`,
            tokenUrl: `${sandboxOrigin}/canvas-oauth/token`,
            clientId: SANDBOX_CREDENTIALS.canvasOauthClientId,
            clientSecret: SANDBOX_CREDENTIALS.canvasOauthClientSecret,
          },
    publicOrigin: raw.PUBLIC_ORIGIN?.replace(/\/+$/, ''),
    notifications: {
      worker: raw.NOTIFICATION_WORKER,
      jobsIntervalSeconds: raw.NOTIFICATION_JOBS_INTERVAL_SECONDS,
    },
    scheduling: {
      clinicTimeZone: raw.CLINIC_TIME_ZONE,
      visitLengthMinutes: raw.VISIT_LENGTH_MINUTES,
      minNoticeMinutes: raw.BOOKING_MIN_NOTICE_MINUTES,
      horizonDays: raw.BOOKING_HORIZON_DAYS,
      changeCutoffHours: raw.APPOINTMENT_CHANGE_CUTOFF_HOURS,
    },
    prescriptionListMax: raw.PRESCRIPTION_LIST_MAX,
    trackingCacheSeconds: raw.TRACKING_CACHE_SECONDS,
    mapTiles: { urlTemplate: mapTileUrl, imageSource: tileImageSource(mapTileUrl) },
    upstreamTimeoutMs: raw.UPSTREAM_TIMEOUT_MS,
    upstreamBudgetMs: raw.UPSTREAM_BUDGET_MS,
    circuitBreaker: {
      failureThreshold: raw.CIRCUIT_BREAKER_FAILURES,
      openMs: raw.CIRCUIT_BREAKER_OPEN_MS,
    },
    databaseTimeouts: {
      connectMs: raw.DATABASE_CONNECT_TIMEOUT_MS,
      queryMs: raw.DATABASE_QUERY_TIMEOUT_MS,
    },
    shutdown: { notReadyMs: raw.SHUTDOWN_NOT_READY_MS, drainMs: raw.SHUTDOWN_DRAIN_MS },
    sandboxFaults: raw.SANDBOX_FAULTS,
    usesSandbox,
  };
}

function findMissingSettings(raw: RawEnv, isProduction: boolean): string[] {
  const missing: string[] = [];

  if (isProduction) {
    if (!raw.DATABASE_URL) missing.push('DATABASE_URL');
    if (!raw.SESSION_SECRET) missing.push('SESSION_SECRET');
  }

  for (const names of Object.values(UPSTREAM_SETTINGS)) {
    const absent = names.filter((name) => raw[name] === undefined);
    const partlySet = absent.length > 0 && absent.length < names.length;
    if (isProduction || partlySet) missing.push(...absent);
  }
  return missing;
}

function required(value: string | undefined): string {
  if (value === undefined) throw new EnvError('A required setting is missing.');
  return value;
}

/** Returns the settings of this process, parsed from `process.env` on first use. */
export function getEnv(): Env {
  return singleton('env', () => parseEnv(process.env));
}
