import { createHash } from 'node:crypto';

import { runWithUpstreamBudget } from '~/clients/upstream-deadline.server';
import { UpstreamError } from '~/clients/upstream-error.server';
import { getEnv } from '~/config/env.server';
import { getPool } from '~/db/pool.server';

import { BadRequestError } from './api.server';

/**
 * How long a write whose response was lost may still be running at the upstream, as a multiple
 * of the upstream timeout. A retry waits this long after such a failure before it looks for the
 * write, so that it finds a write that was still in flight.
 */
// NOTE: the bound is a guess at how long a request outlives its client, not a guarantee. An
// upstream that takes longer to finish a write can still cause a duplicate.
const SETTLE_TIMEOUTS = 2;

/**
 * Waits as long as a write whose response was lost may still be running at the upstream, so that
 * a check afterwards finds the write if it happened.
 */
export function waitForLostWriteToSettle(): Promise<void> {
  const settleMs = SETTLE_TIMEOUTS * getEnv().upstreamTimeoutMs;
  return new Promise((resolve) => setTimeout(resolve, settleMs));
}

/** How long a retry waits beyond the settle time for an earlier request with the same key. */
const WAIT_MARGIN_MS = 5_000;
const WAIT_POLL_INTERVAL_MS = 100;

/**
 * After this long a pending claim is taken to belong to a process that died mid-request; a
 * retry may take it over. Longer than any request can run with three upstream attempts.
 */
const STALE_PENDING_SECONDS = 5 * 60;

/** Letters, digits and `-_.:`, as UUIDs and most client libraries produce. */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;

/** Context the work of a claimed key receives about earlier attempts with the same key. */
export interface IdempotentAttempt {
  /**
   * True when an earlier attempt may have reached the upstream and got no response, so the write
   * may exist: the work must look for it before writing again.
   */
  earlierOutcomeUnknown: boolean;
  /** When the key was first claimed; the upstream write, if any, happened after this. */
  firstClaimedAt: Date;
}

export interface IdempotentResult<T> {
  result: T;
  /** True when `result` is the stored response to an earlier request with the same key. */
  replayed: boolean;
}

/** The key was used before for a different request. */
export class IdempotencyKeyReusedError extends Error {
  override name = 'IdempotencyKeyReusedError';
}

/** Another request with the same key is still running. */
export class IdempotencyKeyInProgressError extends Error {
  override name = 'IdempotencyKeyInProgressError';
}

export interface IdempotentOperation<T> {
  patientId: string;
  /** Names the kind of write, e.g. `send-message`; keys are scoped to it and to the patient. */
  operation: string;
  /** Undefined runs the work without any protection against retries. */
  key: string | undefined;
  /** The request as the client sent it, after validation; its hash must match on every retry. */
  request: unknown;
  /** The write. Its result must survive JSON serialization, because a retry receives it from Postgres. */
  perform: (attempt: IdempotentAttempt) => Promise<T>;
}

/**
 * Runs a write at most once per idempotency key. Two portal processes share the state in
 * Postgres. A failed write releases its key, so a retry does the work again, and the next attempt
 * learns whether the failed one may have reached the upstream.
 */
export async function runIdempotent<T>(
  operation: IdempotentOperation<T>,
): Promise<IdempotentResult<T>> {
  const { patientId, key } = operation;
  if (key === undefined) {
    const result = await operation.perform({
      earlierOutcomeUnknown: false,
      firstClaimedAt: new Date(),
    });
    return { result, replayed: false };
  }

  const requestHash = hashRequest(operation.request);
  const claim = await claimKey(patientId, operation.operation, key, requestHash);
  if (claim.kind === 'completed') return { result: claim.response as T, replayed: true };

  let result: T;
  try {
    // A claim that waited for an earlier attempt to settle may have used up the request's
    // upstream budget, so the work gets a budget of its own.
    result = claim.waited
      ? await runWithUpstreamBudget(() => operation.perform(claim.attempt))
      : await operation.perform(claim.attempt);
  } catch (error) {
    await releaseKey(
      patientId,
      operation.operation,
      key,
      mayHaveReachedUpstream(error),
      mayStillBeRunning(error),
    );
    throw error;
  }
  await completeKey(patientId, operation.operation, key, result);
  return { result, replayed: false };
}

type Claim =
  | { kind: 'claimed'; attempt: IdempotentAttempt; waited: boolean }
  | { kind: 'completed'; response: unknown };

interface KeyRow {
  request_hash: string;
  state: 'pending' | 'completed' | 'failed';
  outcome_unknown: boolean;
  response: unknown;
  created_at: Date;
  stale: boolean;
  may_still_run: boolean;
  /** Milliseconds since the row last changed, by the database clock. */
  failed_ms_ago: number;
}

async function claimKey(
  patientId: string,
  operation: string,
  key: string,
  requestHash: string,
): Promise<Claim> {
  const pool = getPool();
  // Keys are kept for a week, which outlasts any retry; older ones of this patient go now.
  await pool.query(
    `DELETE FROM idempotency_keys
     WHERE patient_id = $1 AND created_at < now() - interval '7 days' AND state <> 'pending'`,
    [patientId],
  );
  const inserted = await pool.query<{ created_at: Date }>(
    `INSERT INTO idempotency_keys (patient_id, operation, idempotency_key, request_hash, state)
     VALUES ($1, $2, $3, $4, 'pending')
     ON CONFLICT DO NOTHING RETURNING created_at`,
    [patientId, operation, key, requestHash],
  );
  const created = inserted.rows[0];
  if (created) {
    return {
      kind: 'claimed',
      attempt: { earlierOutcomeUnknown: false, firstClaimedAt: created.created_at },
      waited: false,
    };
  }

  const settleMs = SETTLE_TIMEOUTS * getEnv().upstreamTimeoutMs;
  const deadline = Date.now() + settleMs + WAIT_MARGIN_MS;
  let waited = false;
  for (;;) {
    const row = await readKey(patientId, operation, key);
    if (!row) throw new Error(`Idempotency key row vanished for ${operation}`);
    if (row.request_hash !== requestHash) {
      throw new IdempotencyKeyReusedError(
        `Idempotency key was used before for a different ${operation} request`,
      );
    }
    if (row.state === 'completed') return { kind: 'completed', response: row.response };

    const settling = row.state === 'failed' && row.may_still_run && row.failed_ms_ago < settleMs;
    const takeOver = (row.state === 'failed' && !settling) || row.stale;
    if (takeOver) {
      const claimed = await retakeKey(patientId, operation, key, row.state);
      if (claimed) {
        return {
          kind: 'claimed',
          attempt: {
            // A stale pending claim may have written before its process died.
            earlierOutcomeUnknown: row.outcome_unknown || row.state === 'pending',
            firstClaimedAt: row.created_at,
          },
          waited,
        };
      }
      continue;
    }

    if (Date.now() >= deadline) {
      throw new IdempotencyKeyInProgressError(`An earlier ${operation} request is still running`);
    }
    waited = true;
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_INTERVAL_MS));
  }
}

async function readKey(
  patientId: string,
  operation: string,
  key: string,
): Promise<KeyRow | undefined> {
  const result = await getPool().query<KeyRow>(
    `SELECT request_hash, state, outcome_unknown, may_still_run, response, created_at,
            updated_at < now() - make_interval(secs => $4) AS stale,
            (extract(epoch FROM now() - updated_at) * 1000)::float8 AS failed_ms_ago
     FROM idempotency_keys WHERE patient_id = $1 AND operation = $2 AND idempotency_key = $3`,
    [patientId, operation, key, STALE_PENDING_SECONDS],
  );
  return result.rows[0];
}

/** Claims a failed or stale key again; false when another request claimed it first. */
async function retakeKey(
  patientId: string,
  operation: string,
  key: string,
  expectedState: KeyRow['state'],
): Promise<boolean> {
  const result = await getPool().query(
    `UPDATE idempotency_keys SET state = 'pending', updated_at = now()
     WHERE patient_id = $1 AND operation = $2 AND idempotency_key = $3 AND state = $4
       AND (state = 'failed' OR updated_at < now() - make_interval(secs => $5))`,
    [patientId, operation, key, expectedState, STALE_PENDING_SECONDS],
  );
  return result.rowCount === 1;
}

async function completeKey(
  patientId: string,
  operation: string,
  key: string,
  response: unknown,
): Promise<void> {
  await getPool().query(
    `UPDATE idempotency_keys SET state = 'completed', response = $4::jsonb, updated_at = now()
     WHERE patient_id = $1 AND operation = $2 AND idempotency_key = $3`,
    [patientId, operation, key, JSON.stringify(response)],
  );
}

async function releaseKey(
  patientId: string,
  operation: string,
  key: string,
  outcomeUnknown: boolean,
  stillRunning: boolean,
): Promise<void> {
  await getPool().query(
    `UPDATE idempotency_keys
     SET state = 'failed', outcome_unknown = outcome_unknown OR $4, may_still_run = $5,
         updated_at = now()
     WHERE patient_id = $1 AND operation = $2 AND idempotency_key = $3`,
    [patientId, operation, key, outcomeUnknown, stillRunning],
  );
}

/**
 * Returns true unless the failure proves the upstream made no change: it rejected the request
 * with a 4xx response, or the circuit breaker stopped the request before it was sent. A timeout, a
 * dropped connection or a 5xx may follow a completed write.
 */
export function mayHaveReachedUpstream(error: unknown): boolean {
  if (!(error instanceof UpstreamError)) return false;
  if (error.failure === 'circuit_open') return false;
  const rejected = error.failure === 'http' && error.status !== undefined && error.status < 500;
  return !rejected;
}

/**
 * Returns true when the failed request may still be running at the upstream: it timed out or
 * lost its connection. After any response, even a 5xx, the upstream has finished with it.
 */
export function mayStillBeRunning(error: unknown): boolean {
  return (
    error instanceof UpstreamError && (error.failure === 'timeout' || error.failure === 'network')
  );
}

/** SHA-256 of the request's JSON with object keys sorted, so key order never matters. */
export function hashRequest(request: unknown): string {
  return createHash('sha256').update(stableJson(request)).digest('hex');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => compareCodeUnits(a, b));
    return `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${stableJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Orders strings by UTF-16 code units, the same on every machine and locale. */
function compareCodeUnits(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Reads an optional idempotency key, from the Idempotency-Key header or the page's form. */
export function parseIdempotencyKey(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (!IDEMPOTENCY_KEY_PATTERN.test(value)) {
    throw new BadRequestError(
      400,
      'invalid_idempotency_key',
      'Use an Idempotency-Key of 8 to 128 letters, digits or the characters - _ . : (a UUID works).',
    );
  }
  return value;
}
