import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A short upstream timeout keeps the settle time after a lost response short.
process.env.UPSTREAM_TIMEOUT_MS = '100';

import {
  startMigratedDatabase,
  type MigratedDatabase,
} from '../../tests/support/migrated-database';
import { UpstreamError } from '~/clients/upstream-error.server';
import { registerPool } from '~/db/pool.server';

import {
  hashRequest,
  IdempotencyKeyReusedError,
  runIdempotent,
  type IdempotentAttempt,
} from './idempotency.server';

let database: MigratedDatabase;

beforeAll(async () => {
  database = await startMigratedDatabase();
  registerPool(database.pool);
});

afterAll(async () => {
  await database?.stop();
});

let keyCounter = 0;
function newKey(): string {
  keyCounter += 1;
  return `test-key-${String(keyCounter).padStart(6, '0')}`;
}

describe('runIdempotent', () => {
  it('runs the work once for concurrent requests with the same key', async () => {
    const key = newKey();
    let calls = 0;
    const perform = async () => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 200));
      return { id: `created-${calls}` };
    };
    const run = () =>
      runIdempotent({ patientId: 'p1', operation: 'send', key, request: { text: 'hi' }, perform });

    const results = await Promise.all([run(), run(), run()]);

    expect(calls).toBe(1);
    expect(results.map((outcome) => outcome.result)).toEqual([
      { id: 'created-1' },
      { id: 'created-1' },
      { id: 'created-1' },
    ]);
    expect(results.filter((outcome) => outcome.replayed)).toHaveLength(2);
  });

  it('refuses a key reused for a different request and does no work', async () => {
    const key = newKey();
    await runIdempotent({
      patientId: 'p1',
      operation: 'send',
      key,
      request: { text: 'first' },
      perform: () => Promise.resolve('first'),
    });

    let called = false;
    await expect(
      runIdempotent({
        patientId: 'p1',
        operation: 'send',
        key,
        request: { text: 'second' },
        perform: () => {
          called = true;
          return Promise.resolve('second');
        },
      }),
    ).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    expect(called).toBe(false);
  });

  it('scopes keys to the patient', async () => {
    const key = newKey();
    const results = [];
    for (const patientId of ['p1', 'p2']) {
      results.push(
        await runIdempotent({
          patientId,
          operation: 'send',
          key,
          request: { text: 'same' },
          perform: () => Promise.resolve(`for ${patientId}`),
        }),
      );
    }
    expect(results.map((outcome) => [outcome.result, outcome.replayed])).toEqual([
      ['for p1', false],
      ['for p2', false],
    ]);
  });

  it('lets a retry redo the work after a refusal, knowing nothing was written', async () => {
    const key = newKey();
    const attempts: IdempotentAttempt[] = [];
    const request = { text: 'retry me' };
    await expect(
      runIdempotent({
        patientId: 'p1',
        operation: 'send',
        key,
        request,
        perform: (attempt) => {
          attempts.push(attempt);
          return Promise.reject(new UpstreamError('fhir', 'http', 'refused', 422));
        },
      }),
    ).rejects.toBeInstanceOf(UpstreamError);

    const retry = await runIdempotent({
      patientId: 'p1',
      operation: 'send',
      key,
      request,
      perform: (attempt) => {
        attempts.push(attempt);
        return Promise.resolve('sent');
      },
    });

    expect(retry).toEqual({ result: 'sent', replayed: false });
    expect(attempts.map((attempt) => attempt.earlierOutcomeUnknown)).toEqual([false, false]);
  });

  it('tells a retry when an earlier attempt timed out and may have written', async () => {
    const key = newKey();
    const attempts: IdempotentAttempt[] = [];
    const request = { text: 'slow' };
    for (const failure of [
      new UpstreamError('fhir', 'timeout', 'timed out'),
      new UpstreamError('fhir', 'circuit_open', 'open'),
    ]) {
      await expect(
        runIdempotent({
          patientId: 'p1',
          operation: 'send',
          key,
          request,
          perform: (attempt) => {
            attempts.push(attempt);
            return Promise.reject(failure);
          },
        }),
      ).rejects.toBe(failure);
    }
    await runIdempotent({
      patientId: 'p1',
      operation: 'send',
      key,
      request,
      perform: (attempt) => {
        attempts.push(attempt);
        return Promise.resolve('sent');
      },
    });

    // The circuit-breaker refusal in between does not clear what the timeout left unknown.
    expect(attempts.map((attempt) => attempt.earlierOutcomeUnknown)).toEqual([false, true, true]);
    expect(new Set(attempts.map((attempt) => attempt.firstClaimedAt.getTime())).size).toBe(1);
  });

  it('waits for a lost write to settle before retrying', async () => {
    const key = newKey();
    const request = { text: 'in flight' };
    const failedAt = Date.now();
    await expect(
      runIdempotent({
        patientId: 'p1',
        operation: 'send',
        key,
        request,
        perform: () => Promise.reject(new UpstreamError('fhir', 'timeout', 'timed out')),
      }),
    ).rejects.toBeInstanceOf(UpstreamError);

    let retriedAt = 0;
    await runIdempotent({
      patientId: 'p1',
      operation: 'send',
      key,
      request,
      perform: () => {
        retriedAt = Date.now();
        return Promise.resolve('sent');
      },
    });

    // Two upstream timeouts of 100 ms each.
    expect(retriedAt - failedAt).toBeGreaterThanOrEqual(200);
  });

  it('runs the work every time without a key', async () => {
    let calls = 0;
    for (let index = 0; index < 2; index++) {
      await runIdempotent({
        patientId: 'p1',
        operation: 'send',
        key: undefined,
        request: { text: 'x' },
        perform: () => Promise.resolve((calls += 1)),
      });
    }
    expect(calls).toBe(2);
  });
});

describe('hashRequest', () => {
  it('ignores key order and undefined fields, and sees every value', () => {
    expect(hashRequest({ a: 1, b: [1, { c: 'x' }] })).toBe(
      hashRequest({ b: [1, { c: 'x' }], a: 1, d: undefined }),
    );
    expect(hashRequest({ a: 1 })).not.toBe(hashRequest({ a: 2 }));
    expect(hashRequest({ a: '1' })).not.toBe(hashRequest({ a: 1 }));
  });
});
