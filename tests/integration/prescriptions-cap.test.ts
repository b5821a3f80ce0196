import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FIXTURE_PATIENT } from '../../sandbox/demo-data';
import { PatientClient, readPageHtml, readSignInCode } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';

let portal: PortalServer;

beforeAll(async () => {
  portal = await startPortalServer({ FHIR_SEARCH_PAGE_SIZE: '10', PRESCRIPTION_LIST_MAX: '25' });
});

afterAll(async () => {
  await portal?.stop();
});

describe('prescription list cap', () => {
  it('stops at the cap and says more exist', async () => {
    const client = new PatientClient(portal.baseUrl);
    const since = new Date();
    await client.postJson('/api/patient/auth/send-code', { email: FIXTURE_PATIENT.email });
    const code = await readSignInCode(portal.baseUrl, FIXTURE_PATIENT.email, since);
    await client.postJson('/api/patient/auth/verify', { email: FIXTURE_PATIENT.email, code });

    const list = (await (await client.request('/api/patient/prescriptions')).json()) as {
      prescriptions: unknown[];
      moreExist: boolean;
    };
    expect(list.prescriptions).toHaveLength(25);
    expect(list.moreExist).toBe(true);

    const html = await readPageHtml(await client.request('/prescriptions'));
    expect(html).toContain('Only your newest 25 prescription records are shown.');
  });
});
