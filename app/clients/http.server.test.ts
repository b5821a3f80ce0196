import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { resetSingleton } from '~/utils/singleton.server';

import { fetchUpstream, withCircuitBreaker } from './http.server';
import { runWithUpstreamBudget } from './upstream-deadline.server';
import { UpstreamError } from './upstream-error.server';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let handler: Handler;
let requestCount: number;

beforeAll(async () => {
  server = createServer((request, response) => {
    requestCount += 1;
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requestCount = 0;
  resetSingleton('circuit-breaker:fhir');
  resetSingleton('circuit-breaker:sendgrid');
});

/** Never responds. The responses are destroyed after each test, so the server can close. */
const hangingResponses: ServerResponse[] = [];
const hang: Handler = (_request, response) => {
  hangingResponses.push(response);
};

afterEach(() => {
  for (const response of hangingResponses.splice(0)) response.destroy();
});

/**
 * Replaces environment variables for the tests of one describe block and parses the settings
 * again. The returned function restores them.
 */
function overrideEnv(values: Record<string, string>): () => void {
  const previous = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  Object.assign(process.env, values);
  resetSingleton('env');
  return () => {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    resetSingleton('env');
  };
}

/** Fails the first `failures` requests with `status`, then responds 200. */
function failThenSucceed(
  failures: number,
  status: number,
  headers: Record<string, string> = {},
): Handler {
  return (_request, response) => {
    if (requestCount <= failures) {
      response.writeHead(status, headers).end('{}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  };
}

describe('fetchUpstream', () => {
  it('retries a GET after 503', async () => {
    handler = failThenSucceed(2, 503);
    const response = await fetchUpstream('fhir', `${baseUrl}/Patient`);
    expect(response.status).toBe(200);
    expect(requestCount).toBe(3);
  });

  it('gives up after two retries', async () => {
    handler = failThenSucceed(10, 500);
    await expect(fetchUpstream('fhir', `${baseUrl}/Patient`)).rejects.toMatchObject({
      name: 'UpstreamError',
      failure: 'http',
      status: 500,
    });
    expect(requestCount).toBe(3);
  });

  it('never retries a POST', async () => {
    handler = failThenSucceed(1, 503);
    await expect(
      fetchUpstream('fhir', `${baseUrl}/Communication`, { method: 'POST', body: '{}' }),
    ).rejects.toThrow(UpstreamError);
    expect(requestCount).toBe(1);
  });

  it('returns a 4xx to the caller unretried', async () => {
    handler = failThenSucceed(1, 404);
    const response = await fetchUpstream('fhir', `${baseUrl}/Patient/missing`);
    expect(response.status).toBe(404);
    expect(requestCount).toBe(1);
  });

  it('waits for Retry-After', async () => {
    handler = failThenSucceed(1, 429, { 'retry-after': '1' });
    const startedAt = Date.now();
    await fetchUpstream('fhir', `${baseUrl}/Patient`);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(900);
    expect(requestCount).toBe(2);
  });

  it('opens the circuit after repeated failures', async () => {
    handler = failThenSucceed(100, 500);
    await expect(fetchUpstream('fhir', `${baseUrl}/Patient`)).rejects.toThrow(UpstreamError);
    await expect(fetchUpstream('fhir', `${baseUrl}/Patient`)).rejects.toThrow(UpstreamError);
    const callsBeforeOpen = requestCount;

    await expect(fetchUpstream('fhir', `${baseUrl}/Patient`)).rejects.toMatchObject({
      failure: 'circuit_open',
    });
    expect(requestCount).toBe(callsBeforeOpen);
  });

  it('reports a refused connection as a network failure', async () => {
    await expect(fetchUpstream('fhir', 'http://127.0.0.1:1/Patient')).rejects.toMatchObject({
      failure: 'network',
    });
  });
});

describe('withCircuitBreaker', () => {
  it('counts server errors and rejects while open', async () => {
    const failing = () => Promise.reject(new UpstreamError('sendgrid', 'http', 'failed', 503));
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await expect(withCircuitBreaker('sendgrid', failing)).rejects.toMatchObject({ status: 503 });
    }
    await expect(
      withCircuitBreaker('sendgrid', () => Promise.resolve('sent')),
    ).rejects.toMatchObject({
      failure: 'circuit_open',
    });
  });

  it('does not count client errors', async () => {
    const rejected = () =>
      Promise.reject(new UpstreamError('sendgrid', 'http', 'bad request', 400));
    for (let attempt = 0; attempt < 6; attempt += 1) {
      await expect(withCircuitBreaker('sendgrid', rejected)).rejects.toMatchObject({ status: 400 });
    }
    await expect(withCircuitBreaker('sendgrid', () => Promise.resolve('sent'))).resolves.toBe(
      'sent',
    );
  });
});

describe('upstream budget', () => {
  let restoreEnv: () => void;

  beforeAll(() => {
    restoreEnv = overrideEnv({ UPSTREAM_TIMEOUT_MS: '300', UPSTREAM_BUDGET_MS: '500' });
  });

  afterAll(() => {
    restoreEnv();
  });

  it('ends a hanging GET at the budget', async () => {
    handler = hang;
    const startedAt = Date.now();

    await expect(fetchUpstream('fhir', `${baseUrl}/Patient`)).rejects.toMatchObject({
      failure: 'timeout',
    });

    const elapsedMs = Date.now() - startedAt;
    expect(elapsedMs).toBeGreaterThanOrEqual(450);
    expect(elapsedMs).toBeLessThan(700);
    // The first attempt times out at 300 ms and the retry gets what is left of 500 ms.
    expect(requestCount).toBe(2);
  });

  it('shares one budget across the calls of a request', async () => {
    handler = hang;
    const startedAt = Date.now();

    await runWithUpstreamBudget(async () => {
      await expect(fetchUpstream('fhir', `${baseUrl}/Patient`)).rejects.toThrow(UpstreamError);
      await expect(fetchUpstream('fhir', `${baseUrl}/Practitioner`)).rejects.toMatchObject({
        failure: 'timeout',
      });
    });

    expect(Date.now() - startedAt).toBeLessThan(700);
    expect(requestCount).toBe(2);
  });

  it('skips a retry whose Retry-After ends past the budget', async () => {
    handler = failThenSucceed(1, 503, { 'retry-after': '1' });
    const startedAt = Date.now();

    await expect(fetchUpstream('fhir', `${baseUrl}/Patient`)).rejects.toMatchObject({
      status: 503,
    });

    expect(Date.now() - startedAt).toBeLessThan(300);
    expect(requestCount).toBe(1);
  });

  it('times out a call of its own client at the budget', async () => {
    const startedAt = Date.now();

    await expect(
      withCircuitBreaker('sendgrid', () => new Promise<never>(() => undefined)),
    ).rejects.toMatchObject({ failure: 'timeout' });

    const elapsedMs = Date.now() - startedAt;
    expect(elapsedMs).toBeGreaterThanOrEqual(490);
    expect(elapsedMs).toBeLessThan(700);
  });
});

describe('circuit breaker settings', () => {
  let restoreEnv: () => void;

  beforeAll(() => {
    restoreEnv = overrideEnv({ CIRCUIT_BREAKER_FAILURES: '2', CIRCUIT_BREAKER_OPEN_MS: '200' });
  });

  afterAll(() => {
    restoreEnv();
  });

  it('follows the breaker settings', async () => {
    handler = failThenSucceed(2, 500);
    await expect(fetchUpstream('fhir', `${baseUrl}/Patient`, { method: 'POST' })).rejects.toThrow(
      UpstreamError,
    );
    await expect(fetchUpstream('fhir', `${baseUrl}/Patient`, { method: 'POST' })).rejects.toThrow(
      UpstreamError,
    );
    await expect(fetchUpstream('fhir', `${baseUrl}/Patient`)).rejects.toMatchObject({
      failure: 'circuit_open',
    });
    expect(requestCount).toBe(2);

    await new Promise((resolve) => setTimeout(resolve, 250));
    const response = await fetchUpstream('fhir', `${baseUrl}/Patient`);

    expect(response.status).toBe(200);
    expect(requestCount).toBe(3);
  });
});
