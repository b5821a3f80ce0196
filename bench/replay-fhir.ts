/**
 * A recording FHIR stand-in for throughput runs. The sandbox's FHIR engine spends more CPU on a
 * request than the portal does, and every process shares this machine's cores, so a throughput
 * run against it would mostly measure the engine. This loopback HTTP server forwards each GET
 * it has not seen to the sandbox's FHIR stand-in and stores the response in memory. Later GETs of
 * the same address get the stored response at once, over real HTTP. Every other method is
 * forwarded each time and never stored.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An instant in a query, such as the `date=ge2026-12-05T10:00:00.000Z` of a search for upcoming
 * appointments. Addresses that differ only in such instants share one stored response.
 */
const INSTANT_PATTERN = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g;
const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** Request headers passed on to the sandbox. */
const FORWARDED_HEADERS = ['accept', 'authorization', 'content-type'];

interface StoredResponse {
  status: number;
  contentType: string;
  /** The `Location` header of a create: the address of the new resource. */
  location: string | null;
  body: Buffer;
}

export interface ReplayCounts {
  /** Requests sent on to the sandbox: first GETs of an address, and every other method. */
  forwarded: number;
  /** GETs served from memory. */
  replayed: number;
}

export interface FhirReplay {
  /** The FHIR base URL to give the portal. */
  baseUrl: string;
  /**
   * Sets the sandbox FHIR base that requests are forwarded to. A loopback URL only; until it is
   * set, every request gets 503.
   */
  forwardTo(sandboxFhirBaseUrl: string): void;
  counts(): ReplayCounts;
  close(): Promise<void>;
}

/** Starts the recording stand-in on a free loopback port. */
export async function startFhirReplay(): Promise<FhirReplay> {
  const stored = new Map<string, StoredResponse>();
  const counts: ReplayCounts = { forwarded: 0, replayed: 0 };
  let target: URL | undefined;

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
      response.end(`Forwarding to the sandbox failed: ${(error as Error).message}`);
    });
  });
  // The portal keeps its upstream connections alive, like a real FHIR server's clients.
  server.keepAliveTimeout = 60_000;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!target) {
      response.writeHead(503, { 'content-type': 'text/plain' }).end('No sandbox to forward to.');
      return;
    }
    const method = request.method ?? 'GET';
    const key = method === 'GET' ? keyOf(request.url ?? '/') : undefined;
    const hit = key === undefined ? undefined : stored.get(key);
    if (hit) {
      counts.replayed += 1;
      send(response, hit);
      return;
    }

    counts.forwarded += 1;
    const forwarded = await forward(target, request);
    if (key !== undefined && forwarded.status === 200) stored.set(key, forwarded);
    send(response, forwarded);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    forwardTo(sandboxFhirBaseUrl) {
      const url = new URL(sandboxFhirBaseUrl);
      if (!LOOPBACK_HOSTNAMES.has(url.hostname)) {
        throw new Error(`The replay forwards to loopback only, not to ${url.hostname}.`);
      }
      target = url;
    },
    counts: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Returns the address with every instant in its query replaced, the key of its stored response. */
function keyOf(address: string): string {
  const url = new URL(address, 'http://replay.invalid');
  const params = [...url.searchParams].map(([name, value]) => [
    name,
    value.replaceAll(INSTANT_PATTERN, '{instant}'),
  ]);
  return `${url.pathname}?${new URLSearchParams(params).toString()}`;
}

async function forward(target: URL, request: IncomingMessage): Promise<StoredResponse> {
  const headers = new Headers();
  for (const name of FORWARDED_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') headers.set(name, value);
  }
  const method = request.method ?? 'GET';
  const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(request);
  const base = target.href.replace(/\/+$/, '');
  const response = await fetch(`${base}${request.url ?? '/'}`, { method, headers, body });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? 'application/fhir+json',
    location: response.headers.get('location'),
    body: Buffer.from(await response.arrayBuffer()),
  };
}

function send(response: ServerResponse, stored: StoredResponse): void {
  response.writeHead(stored.status, {
    'content-type': stored.contentType,
    'content-length': stored.body.byteLength,
    ...(stored.location ? { location: stored.location } : {}),
  });
  response.end(stored.body);
}

/** Reads a request body as text: FHIR JSON or a form-encoded token request. */
async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
