import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEMO_PATIENTS } from '../../sandbox/demo-data';
import { PatientClient } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';

let portal: PortalServer;

beforeAll(async () => {
  portal = await startPortalServer({
    SEND_CODE_LIMIT_PER_EMAIL: '2',
    SEND_CODE_LIMIT_PER_IP: '4',
    VERIFY_CODE_LIMIT_PER_IP: '3',
  });
});

afterAll(async () => {
  await portal?.stop();
});

describe('send-code rate limits', () => {
  it('limits codes per email, then per IP', async () => {
    const client = new PatientClient(portal.baseUrl);
    const email = DEMO_PATIENTS[0]?.email ?? '';

    expect((await client.postJson('/api/patient/auth/send-code', { email })).status).toBe(202);
    expect((await client.postJson('/api/patient/auth/send-code', { email })).status).toBe(202);

    const limited = await client.postJson('/api/patient/auth/send-code', { email });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ error: { code: 'rate_limited' } });

    // Three requests from this IP so far; the fourth is allowed and the fifth is over the limit.
    expect(
      (await client.postJson('/api/patient/auth/send-code', { email: 'other@example.com' })).status,
    ).toBe(202);
    const overIpLimit = await client.postJson('/api/patient/auth/send-code', {
      email: 'third@example.com',
    });
    expect(overIpLimit.status).toBe(429);
  });

  it('shows the limit on the sign-in page', async () => {
    const client = new PatientClient(portal.baseUrl);
    const response = await client.postForm('/login', { email: 'fourth@example.com' });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await response.text()).toContain('Too many codes were requested');
  });

  it('limits code entries per IP', async () => {
    const client = new PatientClient(portal.baseUrl);
    const entry = { email: 'someone@example.com', code: '123456' };
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      expect((await client.postJson('/api/patient/auth/verify', entry)).status).toBe(401);
    }
    const limited = await client.postJson('/api/patient/auth/verify', entry);
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ error: { code: 'rate_limited' } });
  });
});
