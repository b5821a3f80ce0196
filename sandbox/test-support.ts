import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';

import express from 'express';
import { pino } from 'pino';

import { createSandbox, type SandboxOptions } from './index.js';

/** Credentials that test sandboxes accept. */
export const TEST_CREDENTIALS = {
  fhirClientId: 'test-client',
  fhirClientSecret: 'test-secret',
  sendgridApiKey: 'SG.test-api-key',
  fedexClientId: 'test-fedex-client',
  fedexClientSecret: 'test-fedex-secret',
  zoomAccountId: 'test-zoom-account',
  zoomClientId: 'test-zoom-client',
  zoomClientSecret: 'test-zoom-secret',
  canvasOauthClientId: 'test-canvas-sso-client',
  canvasOauthClientSecret: 'test-canvas-sso-secret',
} as const;

/** Portal origin of the magic links in test sandboxes, which serve no portal. */
export const TEST_PORTAL_ORIGIN = 'http://localhost:3000';

export interface RunningSandbox {
  /** URL of the mounted sandbox router, e.g. `http://127.0.0.1:43210/sandbox`. */
  sandboxUrl: string;
  /** Origin of the server, for resolving the relative paging links. */
  origin: string;
  close: () => Promise<void>;
}

/**
 * Starts an Express app with a fresh sandbox mounted at `/sandbox`, as server.ts mounts it, on an
 * ephemeral loopback port. Warnings and errors are logged, so an unexpected error shows in the
 * output.
 */
export async function startSandbox(options: Partial<SandboxOptions> = {}): Promise<RunningSandbox> {
  const { router } = await createSandbox({
    ...TEST_CREDENTIALS,
    portalOrigin: TEST_PORTAL_ORIGIN,
    logger: pino({ level: 'warn' }),
    ...options,
  });
  const app = express();
  app.use('/sandbox', router);

  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return { sandboxUrl: `${origin}/sandbox`, origin, close: () => closeServer(server) };
}

/** Requests a FHIR access token with the test credentials and returns it. */
export async function fetchAccessToken(sandboxUrl: string): Promise<string> {
  const response = await fetch(`${sandboxUrl}/fhir/auth/token/`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: TEST_CREDENTIALS.fhirClientId,
      client_secret: TEST_CREDENTIALS.fhirClientSecret,
    }),
  });
  if (response.status !== 200) {
    throw new Error(
      `Token request failed with status ${response.status}: ${await response.text()}`,
    );
  }

  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}

/**
 * Sends a FHIR request with a bearer token. `path` is below the FHIR base (`/Patient/demo-ava`) or
 * root-relative like a paging link (`/sandbox/fhir/...`). A request with a body gets
 * `Content-Type: application/fhir+json` unless `init` sets another.
 */
export function sendFhirRequest(
  sandbox: RunningSandbox,
  token: string,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  const url = path.startsWith('/sandbox/')
    ? `${sandbox.origin}${path}`
    : `${sandbox.sandboxUrl}/fhir${path}`;
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Bearer ${token}`);
  if (init.body && !headers.has('Content-Type')) {
    headers.set('Content-Type', 'application/fhir+json');
  }
  return fetch(url, { ...init, headers });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.closeAllConnections();
    server.close((error) => (error ? reject(error) : resolve()));
  });
}
