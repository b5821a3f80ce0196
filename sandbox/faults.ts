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

/** A FHIR resource type name, such as `Patient` or `MedicationRequest`. */
const RESOURCE_TYPE_PATTERN = /^[A-Z][A-Za-z]+$/;

/** Maximum number of fault settings in one stand-in's list. */
export const MAX_FAULT_RULES = 20;

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
  /**
   * FHIR resource types whose requests get the faults above, read from the first segment of the
   * path below the FHIR base, as in `Patient/{id}` or `Patient?name=`. Only the `fhir` stand-in
   * has resource types, and its token endpoint has none. All requests if omitted.
   */
  resourceTypes: z.array(z.string().regex(RESOURCE_TYPE_PATTERN)).min(1).optional(),
});

export type FaultSettings = z.infer<typeof faultSettingsSchema>;

/**
 * The faults of one stand-in: one settings object, or a list of them for requests that need
 * different faults. A request gets the first settings in the list whose `methods` and
 * `resourceTypes` match it, and no fault when none matches.
 */
export const faultRulesSchema = z.union([
  faultSettingsSchema,
  z.array(faultSettingsSchema).min(1).max(MAX_FAULT_RULES),
]);

export type FaultRules = z.infer<typeof faultRulesSchema>;

/** Faults keyed by stand-in name, the shape of SANDBOX_FAULTS and of `GET /sandbox/faults`. */
export const faultSettingsByUpstreamSchema = z
  .partialRecord(upstreamNameSchema, faultRulesSchema)
  .superRefine((byUpstream, context) => {
    for (const [upstream, rules] of Object.entries(byUpstream)) {
      const problem = findUnsupportedFilter(upstream as UpstreamName, rules);
      if (problem) context.addIssue({ code: 'custom', path: [upstream], message: problem });
    }
  });

export type FaultSettingsByUpstream = z.infer<typeof faultSettingsByUpstreamSchema>;

/**
 * Returns why `rules` cannot apply to `upstream`, or undefined when they can. Only the FHIR
 * stand-in has resource types, so `resourceTypes` on another one would never match a request.
 */
export function findUnsupportedFilter(
  upstream: UpstreamName,
  rules: FaultRules,
): string | undefined {
  const list = Array.isArray(rules) ? rules : [rules];
  if (upstream !== 'fhir' && list.some((settings) => settings.resourceTypes)) {
    return `resourceTypes applies to the fhir stand-in only, not to ${upstream}.`;
  }
  return undefined;
}

export const DEFAULT_ERROR_STATUS = 500;

/** Current fault settings of every stand-in, changed at run time through /sandbox/faults. */
export class FaultRegistry {
  private readonly settings = new Map<UpstreamName, FaultRules>();

  constructor(initial: FaultSettingsByUpstream = {}) {
    for (const name of UPSTREAM_NAMES) {
      const settings = initial[name];
      if (settings) {
        this.set(name, settings);
      }
    }
  }

  /** Returns the faults of `upstream` as they were set: one settings object or a list. */
  get(upstream: UpstreamName): FaultRules {
    return this.settings.get(upstream) ?? {};
  }

  set(upstream: UpstreamName, settings: FaultRules): void {
    this.settings.set(upstream, structuredClone(settings));
  }

  /**
   * Returns the settings of `upstream` that apply to a request: the first whose `methods` and
   * `resourceTypes` include the request's, or an empty object when none does.
   */
  match(upstream: UpstreamName, method: string, resourceType: string | undefined): FaultSettings {
    const rules = this.get(upstream);
    const list = Array.isArray(rules) ? rules : [rules];
    const matching = list.find(
      (settings) =>
        (!settings.methods || settings.methods.some((listed) => listed === method)) &&
        (!settings.resourceTypes ||
          (resourceType !== undefined && settings.resourceTypes.includes(resourceType))),
    );
    return matching ?? {};
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
 * A request that no settings match (by `methods` and `resourceTypes`), or with no fault that
 * fires, passes on to the stand-in. A delayed request is still handled after the delay, even if
 * the client gave up.
 */
export function createFaultInjector(options: FaultInjectorOptions): RequestHandler {
  const { upstream, faults, counters } = options;

  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    counters.increment(upstream, 'requests');
    const resourceType = upstream === 'fhir' ? fhirResourceTypeOf(req.path) : undefined;
    const settings = faults.match(upstream, req.method, resourceType);

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

/**
 * Returns the resource type of a FHIR request from its path below the FHIR base (`/Patient/x`,
 * `/Patient/_search`), or undefined for the token endpoint, `/metadata` and a batch at `/`.
 */
export function fhirResourceTypeOf(path: string): string | undefined {
  const first = path.split('/').find((segment) => segment !== '');
  return first !== undefined && RESOURCE_TYPE_PATTERN.test(first) ? first : undefined;
}
