import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { demoPatient, PatientClient, readSignInCode } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';

let portal: PortalServer;

beforeAll(async () => {
  portal = await startPortalServer();
});

afterAll(async () => {
  await portal?.stop();
});

async function signIn(client: PatientClient, email: string): Promise<void> {
  const since = new Date();
  await client.postJson('/api/patient/auth/send-code', { email });
  const code = await readSignInCode(portal.baseUrl, email, since);
  expect((await client.postJson('/api/patient/auth/verify', { email, code })).status).toBe(200);
}

describe('session rotation', () => {
  it('rotates the session at sign-in', async () => {
    const email = demoPatient(2).email;
    const client = new PatientClient(portal.baseUrl);
    await signIn(client, email);
    const first = client.cookieHeader();
    expect(first).toContain('portal_session=');

    await signIn(client, email);
    const second = client.cookieHeader();
    expect(second).toContain('portal_session=');
    expect(second).not.toBe(first);

    expect((await client.request('/api/patient/profile')).status).toBe(200);
    const replay = new PatientClient(portal.baseUrl);
    const replayed = await replay.request('/api/patient/profile', { headers: { cookie: first } });
    expect(replayed.status).toBe(401);
  });
});
