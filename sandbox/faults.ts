import { setTimeout as sleep } from 'node:timers/promises';

import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';

import type { CallCounters } from './stats.js';

/**
 * Names of the stand-ins that accept faults. Add a name here when a stand-in is built. Unknown
 * names are rejected, so that a typo in SANDBOX_FAULTS fails at start instead of injecting nothing.
 */
export const UPSTREAM_NAMES = ['fhir', 'sendgrid', 'fedex', 'zoom', 'canvas-oauth'] as const;

export const upstreamNameSchema = z.enum(UPSTREAM_NAMES);

export type UpstreamName = z.infer<typeof upstreamNameSchema>;

/** Maximum injected latency in ms, so that a mistyped value cannot hang a test run. */
export const MAX_LATENCY_MS = 120_000;

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

/**
 * Fault settings for one stand-in. Every field is optional, and an empty object injects nothing.
 */
export const faultSettingsSchema = z.strictObject({
  /** Delay in ms before the stand-in handles each request. */
  latencyMs: z.number().int().min(0).max(MAX_LATENCY_MS).optional(),
  /** Probability from 0 to 1 that a request fails with `errorStatus`. */
  errorRate: z.number().min(0).max(1).optional(),
  /** HTTP status of an injected error, 500 if omitted. */
  errorStatus: z.number().int().min(400).max(599).optional(),
  /** JSON body of an injected error. If omitted, the stand-in sends its own error shape. */
  errorBody: z.json().optional(),
  /** Retry-After header of an injected error, in seconds. None if omitted. */
  retryAfterSeconds: z.number().int().min(0).max(3600).optional(),
  /** If true, every request that is not failed gets a 200 with a truncated JSON body. */
  malformedJson: z.boolean().optional(),
  /**
   * If true, the stand-in closes the connection of every request without a response, as a
   * crashed or unreachable upstream would. Takes precedence over `errorRate` and `malformedJson`.
   */
  dropConnection: z.boolean().optional(),
  /** HTTP methods, in upper case, whose requests get the faults above. All methods if omitted. */
  methods: z.array(z.enum(HTTP_METHODS)).min(1).optional(),
});

export type FaultSettings = z.infer<typeof faultSettingsSchema>;

/** Faults keyed by stand-in name, the shape of SANDBOX_FAULTS and of `GET /sandbox/faults`. */
export const faultSettingsByUpstreamSchema = z.partialRecord(
  upstreamNameSchema,
  faultSettingsSchema,
);

export type FaultSettingsByUpstream = z.infer<typeof faultSettingsByUpstreamSchema>;

export const DEFAULT_ERROR_STATUS = 500;

/** Current fault settings of every stand-in, changed at run time through /sandbox/faults. */
export class FaultRegistry {
  private readonly settings = new Map<UpstreamName, FaultSettings>();

  constructor(initial: FaultSettingsByUpstream = {}) {
    for (const name of UPSTREAM_NAMES) {
      const settings = initial[name];
      if (settings) {
        this.set(name, settings);
      }
    }
  }

  get(upstream: UpstreamName): FaultSettings {
    return this.settings.get(upstream) ?? {};
  }

  set(upstream: UpstreamName, settings: FaultSettings): void {
    this.settings.set(upstream, structuredClone(settings));
  }

  delete(upstream: UpstreamName): void {
    this.settings.delete(upstream);
  }

  clear(): void {
    this.settings.clear();
  }

  toJSON(): FaultSettingsByUpstream {
    return Object.fromEntries(this.settings);
  }
}

/** A JSON response body with its content type. */
export interface JsonResponse {
  contentType: string;
  body: string;
}

export interface FaultInjectorOptions {
  upstream: UpstreamName;
  faults: FaultRegistry;
  counters: CallCounters;
  /** Builds the stand-in's own error response, whose body is used unless `errorBody` is set. */
  buildErrorResponse: (status: number, req: Request) => { contentType: string; body: unknown };
  /** The start of a plausible response, cut off mid-value, sent when `malformedJson` is set. */
  truncatedResponse: JsonResponse;
}

/**
 * Creates middleware that counts each request to a stand-in and then applies its faults:
 * the latency first, then a dropped connection, then an error with probability `errorRate`,
 * then a malformed body.
 * A request whose method is not in `methods`, or with no fault that fires, passes on to the
 * stand-in. A delayed request is still handled after the delay, even if the client gave up.
 */
export function createFaultInjector(options: FaultInjectorOptions): RequestHandler {
  const { upstream, faults, counters } = options;

  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    counters.increment(upstream, 'requests');
    const settings = faults.get(upstream);
    if (settings.methods && !settings.methods.some((method) => method === req.method)) {
      next();
      return;
    }

    if (settings.latencyMs) {
      await sleep(settings.latencyMs);
    }

    if (settings.dropConnection) {
      // Closes the TCP connection with a reset, so the client gets a network error and no status.
      req.socket.resetAndDestroy();
      return;
    }

    const errorRate = settings.errorRate ?? 0;
    if (errorRate > 0 && Math.random() < errorRate) {
      const status = settings.errorStatus ?? DEFAULT_ERROR_STATUS;
      const ownError = options.buildErrorResponse(status, req);
      const body = settings.errorBody ?? ownError.body;
      if (settings.retryAfterSeconds !== undefined) {
        res.set('Retry-After', String(settings.retryAfterSeconds));
      }
      res.status(status).type(ownError.contentType).send(JSON.stringify(body));
      return;
    }

    if (settings.malformedJson) {
      const { contentType, body } = options.truncatedResponse;
      res.status(200).type(contentType).send(body);
      return;
    }

    next();
  };
}
