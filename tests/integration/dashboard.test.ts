import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEMO_PATIENTS } from '../../sandbox/demo-data';
import {
  demoPatient,
  type PatientClient,
  readPageHtml,
  signInByEmail,
} from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';
import { countUpstreamRequests } from '../support/sandbox-control';

let portal: PortalServer;

beforeAll(async () => {
  portal = await startPortalServer({ NOTIFICATION_WORKER: 'off' });
});

afterAll(async () => {
  await portal?.stop();
});

function signIn(index: number): Promise<PatientClient> {
  return signInByEmail(portal.baseUrl, demoPatient(index).email);
}

async function setFhirFault(settings: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${portal.baseUrl}/sandbox/faults/fhir`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(settings),
  });
  expect(response.ok).toBe(true);
}

describe('dashboard', () => {
  it('shows each patient their own profile', async () => {
    for (const [index, patient] of DEMO_PATIENTS.entries()) {
      const client = await signIn(index);
      const profile = (await (await client.request('/api/patient/profile')).json()) as {
        id: string;
        name: { first: string; full: string };
        birthDate: string;
        practitioner: { name: string; npi: string };
        address: string[];
      };
      expect(profile.id).toBe(patient.id);
      expect(profile.name.first).toBe(patient.givenName);
      expect(profile.birthDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(profile.practitioner.name).toMatch(/\w+ \w+/);
      expect(profile.practitioner.npi).toMatch(/^\d{10}$/);
      expect(profile.address.length).toBeGreaterThan(0);
    }
  });

  it('shows the demo treatment, shipment and notifications', async () => {
    const client = await signIn(1);
    const html = await readPageHtml(await client.request('/'));
    expect(html).toContain('Refills every 30 days.');
    expect(html).toContain('On its way since');
    expect(html).toContain('700000000022');
    expect(html).toContain('You have 1 unread notification.');
  });

  it('shows empty states', async () => {
    const client = await signIn(2);
    const html = await readPageHtml(await client.request('/'));
    expect(html).toContain('You have no shipments yet.');
    // Priya's one notification is the approved prescription the demo data inserts.
    expect(html).toContain('You have 1 unread notification.');
  });

  it('reads each FHIR source once on a repeat view', async () => {
    const client = await signIn(0);
    await readPageHtml(await client.request('/'));

    const before = await countUpstreamRequests(portal.baseUrl, 'fhir');
    const html = await readPageHtml(await client.request('/'));
    const requests = (await countUpstreamRequests(portal.baseUrl, 'fhir')) - before;

    expect(html).toContain('Your practitioner is Nia Okafor.');
    expect(html).toContain('Levothyroxine Sodium 0.05 MG Oral Tablet');
    // Patient, the one subscribed MedicationRequest, the next Appointment and the received
    // Communications. The practitioner comes from the first view's read, and the treatment panel
    // reads no prescriber.
    expect(requests).toBe(4);
  });

  it('degrades only the FHIR panels when FHIR fails', async () => {
    const client = await signIn(0);
    await setFhirFault({ errorRate: 1, errorStatus: 500 });
    try {
      const page = await client.request('/');
      expect(page.status).toBe(200);
      const html = await readPageHtml(page);
      expect(html).toContain('<h1>Hello</h1>');
      expect(html).toContain('Your details could not be loaded right now.');
      expect(html).toContain('Visits could not be loaded right now.');
      expect(html).toContain('You have 1 unread notification.');
      expect(html).toContain('Delivered on');
      expect(html).toContain('Next refill:');

      const prescriptions = await client.request('/prescriptions');
      expect(prescriptions.status).toBe(503);
      expect(await prescriptions.text()).toContain('Your prescriptions are unavailable right now.');

      const profile = await client.request('/api/patient/profile');
      expect(profile.status).toBe(503);
      expect(await profile.json()).toMatchObject({ error: { code: 'unavailable' } });
    } finally {
      await fetch(`${portal.baseUrl}/sandbox/faults`, { method: 'DELETE' });
    }
  });
});
