import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { demoPatient, PatientClient, signInByEmail } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';
import { setSandboxFault } from '../support/sandbox-control';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const NOT_READY_MS = 1_000;
const DRAIN_MS = 6_000;
const SLOW_FHIR_MS = 800;

let dataDir: string;
let database: TestDatabase;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'portal-shutdown-'));
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/**
 * Starts a portal on a database that outlives it: the embedded one in `dataDir`, or one
 * database on TEST_DATABASE_URL's server.
 */
function startPortal(): Promise<PortalServer> {
  return startPortalServer({
    ...(database.url
      ? { DATABASE_URL: database.url }
      : { EMBEDDED_DATABASE_DIR: path.join(dataDir, 'pglite') }),
    SHUTDOWN_NOT_READY_MS: String(NOT_READY_MS),
    SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
  });
}

describe('SIGTERM', () => {
  it('stops taking traffic, drains, and closes the database', async () => {
    const portal = await startPortal();
    const client = await signInByEmail(portal.baseUrl, demoPatient(0).email);
    await setSandboxFault(portal.baseUrl, 'fhir', { latencyMs: SLOW_FHIR_MS, methods: ['GET'] });

    const startedAt = Date.now();
    // The profile reads Patient, CareTeam and Practitioner one after another: over 2 s in all.
    const slowRequest = client.request('/api/patient/profile');
    await new Promise((resolve) => setTimeout(resolve, 200));
    portal.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Still serving, but no longer ready.
    const readiness = await fetch(`${portal.baseUrl}/readyz`);
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toEqual({ status: 'stopping' });
    expect((await fetch(`${portal.baseUrl}/healthz`)).status).toBe(200);

    // The request that was running when the signal came finishes normally.
    const slow = await slowRequest;
    expect(slow.status).toBe(200);
    expect(await slow.json()).toMatchObject({ id: demoPatient(0).id });

    expect(await portal.exited).toBe(0);
    // Well inside the not-ready time plus the drain time, which would mean a connection hung.
    expect(Date.now() - startedAt).toBeLessThan(NOT_READY_MS + DRAIN_MS);
    expect(portal.output()).toContain('portal stopped');
    expect(portal.output()).toContain('"drained":true');

    // The session written before the stop is still there after a restart: the database closed
    // cleanly. The port changed, but the cookie is not bound to it.
    const restarted = await startPortal();
    try {
      const resumed = await new PatientClient(restarted.baseUrl).request('/api/patient/profile', {
        headers: { cookie: client.cookieHeader() },
      });
      expect(resumed.status).toBe(200);
    } finally {
      await restarted.stop();
    }
  }, 120_000);

  it('closes connections a request holds past the drain time', async () => {
    const portal = await startPortalServer({ SHUTDOWN_DRAIN_MS: '500' });
    const client = await signInByEmail(portal.baseUrl, demoPatient(1).email);
    await setSandboxFault(portal.baseUrl, 'fhir', { latencyMs: 4_000, methods: ['GET'] });

    const startedAt = Date.now();
    const stuck = client.request('/api/patient/prescriptions').then(
      (response) => response.status,
      () => 'connection closed',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    portal.kill('SIGTERM');

    expect(await stuck).toBe('connection closed');
    expect(await portal.exited).toBe(0);
    // The 4-second request is cut at the 500 ms drain time, with room for a busy machine.
    expect(Date.now() - startedAt).toBeLessThan(3_500);
    expect(portal.output()).toContain('requests still running after the drain time');
    await portal.stop();
  }, 120_000);
});
