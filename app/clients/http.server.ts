import { getEnv } from '~/config/env.server';
import { getLogger } from '~/utils/logger.server';
import { singleton } from '~/utils/singleton.server';

import { CircuitBreaker } from './circuit-breaker.server';
import { UpstreamError, type UpstreamName } from './upstream-error.server';

// NOTE: there is no deadline across attempts, so a hanging upstream can hold a GET for three
// times UPSTREAM_TIMEOUT_MS plus backoff. A per-request budget belongs with the resilience work.
/** Retries after the first attempt, for idempotent requests only. */
const MAX_RETRIES = 2;
const BASE_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2_000;
const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

export interface UpstreamRequest extends Omit<RequestInit, 'signal'> {
  /** GET and HEAD are retried by default; pass true for another method only when it is safe to repeat. */
  idempotent?: boolean;
}

function getBreaker(upstream: UpstreamName): CircuitBreaker {
  return singleton(`circuit-breaker:${upstream}`, () => new CircuitBreaker());
}

/**
 * Sends one request to an upstream with a timeout per attempt, retries with capped exponential
 * backoff and jitter for idempotent requests (honouring Retry-After), and the upstream's circuit
 * breaker. Returns the response for any status the caller must judge (2xx and 4xx); throws
 * UpstreamError for timeouts, network failures, an open circuit, and 5xx or 429 after retries.
 */
export async function fetchUpstream(
  upstream: UpstreamName,
  url: string,
  init: UpstreamRequest = {},
): Promise<Response> {
  const { idempotent, ...requestInit } = init;
  const method = (requestInit.method ?? 'GET').toUpperCase();
  const mayRetry = idempotent ?? (method === 'GET' || method === 'HEAD');
  const breaker = getBreaker(upstream);

  for (let attempt = 0; ; attempt += 1) {
    if (!breaker.tryAcquire()) {
      throw new UpstreamError(
        upstream,
        'circuit_open',
        `${upstream} is unavailable (circuit open)`,
      );
    }

    let failure: UpstreamError;
    let retryAfterMs: number | undefined;
    try {
      const response = await fetch(url, {
        ...requestInit,
        signal: AbortSignal.timeout(getEnv().upstreamTimeoutMs),
      });
      if (!RETRYABLE_STATUSES.has(response.status)) {
        breaker.recordSuccess();
        return response;
      }
      retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      await response.body?.cancel();
      failure = new UpstreamError(
        upstream,
        'http',
        `${upstream} answered ${response.status} to ${method}`,
        response.status,
      );
    } catch (error) {
      failure = toUpstreamError(upstream, method, error);
    }

    breaker.recordFailure();
    if (!mayRetry || attempt >= MAX_RETRIES) throw failure;

    const delayMs = retryAfterMs ?? backoffWithJitter(attempt);
    getLogger().warn(
      {
        upstream,
        method,
        attempt: attempt + 1,
        delayMs,
        failure: failure.failure,
        status: failure.status,
      },
      'retrying upstream request',
    );
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}

/**
 * Runs one call of a client that does its own HTTP (such as @sendgrid/mail) under the upstream's
 * circuit breaker: rejected at once while the circuit is open, and counted as a failure when it
 * throws an UpstreamError with no status or a 5xx or 429 status.
 */
export async function withCircuitBreaker<T>(
  upstream: UpstreamName,
  call: () => Promise<T>,
): Promise<T> {
  const breaker = getBreaker(upstream);
  if (!breaker.tryAcquire()) {
    throw new UpstreamError(upstream, 'circuit_open', `${upstream} is unavailable (circuit open)`);
  }

  try {
    const result = await call();
    breaker.recordSuccess();
    return result;
  } catch (error) {
    const status = error instanceof UpstreamError ? error.status : undefined;
    if (status === undefined || RETRYABLE_STATUSES.has(status)) breaker.recordFailure();
    else breaker.recordSuccess();
    throw error;
  }
}

/** Full jitter: a random delay up to the capped exponential step. */
function backoffWithJitter(attempt: number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt);
  return Math.round(Math.random() * ceiling);
}

/** Reads Retry-After in seconds or as an HTTP date, capped at MAX_BACKOFF_MS. */
function parseRetryAfter(header: string | null): number | undefined {
  if (!header) return undefined;

  const seconds = Number(header);
  const delayMs = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  if (!Number.isFinite(delayMs) || delayMs < 0) return undefined;
  return Math.min(delayMs, MAX_BACKOFF_MS);
}

function toUpstreamError(upstream: UpstreamName, method: string, error: unknown): UpstreamError {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new UpstreamError(
      upstream,
      'timeout',
      `${upstream} timed out on ${method}`,
      undefined,
      undefined,
      {
        cause: error,
      },
    );
  }
  return new UpstreamError(
    upstream,
    'network',
    `${upstream} could not be reached on ${method}`,
    undefined,
    undefined,
    {
      cause: error,
    },
  );
}
