import type { MedicationRequest, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FIXTURE_PATIENT } from '../../sandbox/demo-data';
import {
  demoPatient,
  type PatientClient,
  readPageHtml,
  signInOncePerEmail,
} from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';
import { SandboxFhir } from '../support/sandbox-fhir';

interface PrescriptionJson {
  id: string;
  medication: { text: string; unavailable: boolean; code?: { code: string } };
  dosage: string[];
  prescriber: { name: string; npi?: string; unavailable: boolean };
  status: { code: string; label: string };
  dateWritten: string | null;
  refillHistory: { id: string }[];
}

interface PrescriptionListJson {
  prescriptions: PrescriptionJson[];
  moreExist: boolean;
  statusCounts: Record<string, number>;
}

const GARBAGE = ['undefined', 'null', '[object Object]', 'NaN', '{"'];

/** Returns every string value inside a parsed JSON document. */
function stringValues(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringValues);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringValues);
  return [];
}

function expectNoGarbage(json: unknown): void {
  for (const text of stringValues(json)) {
    for (const garbage of GARBAGE) expect(text).not.toContain(garbage);
  }
}

let portal: PortalServer;
let fhir: SandboxFhir;

beforeAll(async () => {
  // Ten entries a page, as Canvas sends by default, so lists span several pages.
  portal = await startPortalServer({ FHIR_SEARCH_PAGE_SIZE: '10' });
  fhir = new SandboxFhir(portal.baseUrl);
  signIn = signInOncePerEmail(portal.baseUrl);
});

afterAll(async () => {
  await portal?.stop();
});

let signIn: (email: string) => Promise<PatientClient>;

async function listPrescriptions(client: PatientClient, query = ''): Promise<PrescriptionListJson> {
  const response = await client.request(`/api/patient/prescriptions${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as PrescriptionListJson;
}

/** Creates a patient with an email so a test can sign in as them. */
async function createPatient(id: string, email: string): Promise<void> {
  const patient: Patient & { id: string } = {
    resourceType: 'Patient',
    id,
    name: [{ given: ['Test'], family: id }],
    telecom: [{ system: 'email', value: email }],
  };
  await fhir.put(patient);
}

function medicationRequest(
  id: string,
  patientId: string,
  extra: Partial<MedicationRequest>,
): MedicationRequest & { id: string } {
  return {
    resourceType: 'MedicationRequest',
    id,
    status: 'active',
    intent: 'order',
    subject: { reference: `Patient/${patientId}` },
    medicationCodeableConcept: {
      coding: [
        {
          system: 'http://www.nlm.nih.gov/research/umls/rxnorm',
          code: '197361',
          display: 'amlodipine 5 MG Oral Tablet',
        },
      ],
    },
    ...extra,
  };
}

describe('official FHIR examples', () => {
  it('renders every example readably through the API', async () => {
    const client = await signIn(FIXTURE_PATIENT.email);
    const list = await listPrescriptions(client);
    expectNoGarbage(list);
    expect(list.prescriptions).toHaveLength(40);
    for (const prescription of list.prescriptions) {
      expect(prescription.medication.text.trim(), prescription.id).not.toBe('');
      expect(prescription.dosage.length, prescription.id).toBeGreaterThan(0);
      for (const line of prescription.dosage) expect(line.trim(), prescription.id).not.toBe('');
      expect(prescription.prescriber.name.trim(), prescription.id).not.toBe('');
    }
  });

  it('names the prescriber from the resource, not display', async () => {
    const client = await signIn(FIXTURE_PATIENT.email);
    const list = await listPrescriptions(client);
    const prescribers = new Set(
      list.prescriptions.map((prescription) => prescription.prescriber.name),
    );
    expect([...prescribers]).toEqual(['Simone Heps']);
  });

  it('resolves an external Medication reference', async () => {
    const client = await signIn(FIXTURE_PATIENT.email);
    const list = await listPrescriptions(client);
    const external = list.prescriptions.find((prescription) => prescription.id === 'medrx002');
    expect(external?.medication.text).toMatch(/Chlorthalidone/i);
  });

  it('renders every example over two pages', async () => {
    const client = await signIn(FIXTURE_PATIENT.email);
    const mains: string[] = [];
    for (const path of ['/prescriptions', '/prescriptions?page=2']) {
      const response = await client.request(path);
      expect(response.status).toBe(200);
      const html = await readPageHtml(response);
      const main = html.slice(html.indexOf('<main'), html.indexOf('</main>'));
      for (const garbage of ['undefined', '[object Object]', 'NaN'])
        expect(main).not.toContain(garbage);
      expect(main.match(/<article /g)).toHaveLength(20);
      mains.push(main);
    }
    const [first = '', second = ''] = mains;
    expect(first).toContain('Showing 1 to 20 of 40 prescriptions.');
    expect(first).toContain('href="/prescriptions?page=2" data-discover="true">Next page');
    expect(first).not.toContain('Previous page');
    expect(second).toContain('Showing 21 to 40 of 40 prescriptions.');
    expect(second).toContain('href="/prescriptions" data-discover="true">Previous page');
    expect(second).not.toContain('Next page');
    const ids = (main: string) => [...main.matchAll(/id="prescription-([^"]+)"/g)].map((m) => m[1]);
    expect(new Set([...ids(first), ...ids(second)]).size).toBe(40);
    expect(first + second).toContain('Jan 15, 2015');

    for (const path of ['/prescriptions?page=3', '/prescriptions?page=0', '/prescriptions?page=x'])
      expect((await client.request(path)).status, path).toBe(404);
    // The JSON API still returns the whole list.
    expect((await listPrescriptions(client)).prescriptions).toHaveLength(40);
  });

  it('keeps the status filter in the page links', async () => {
    const client = await signIn(FIXTURE_PATIENT.email);
    const html = await readPageHtml(await client.request('/prescriptions?status=active'));
    expect(html.match(/<article /g)).toHaveLength(18);
    expect(html).not.toContain('Next page');
    const all = await readPageHtml(await client.request('/prescriptions?page=2'));
    expect(all).toContain('href="/prescriptions?status=on-hold"');
    expect(all).not.toContain('status=on-hold&amp;page');
  });

  it('puts active prescriptions first', async () => {
    const client = await signIn(FIXTURE_PATIENT.email);
    const { prescriptions } = await listPrescriptions(client);
    const firstInactive = prescriptions.findIndex(
      (prescription) => prescription.status.code !== 'active',
    );
    expect(firstInactive).toBe(18);
    expect(
      prescriptions
        .slice(firstInactive)
        .every((prescription) => prescription.status.code !== 'active'),
    ).toBe(true);
  });

  it('filters by status with plain links', async () => {
    const client = await signIn(FIXTURE_PATIENT.email);
    const onHold = await listPrescriptions(client, '?status=on-hold');
    expect(onHold.prescriptions).toHaveLength(5);
    expect(onHold.statusCounts).toMatchObject({ active: 18, completed: 17, 'on-hold': 5 });

    const html = await readPageHtml(await client.request('/prescriptions?status=completed'));
    expect(html.match(/<article /g)).toHaveLength(17);
    expect(html).toContain('href="/prescriptions?status=on-hold"');
    expect(html).toMatch(/aria-current="page"[^>]*>Completed \(17\)|>Completed \(17\)/);

    expect((await client.request('/api/patient/prescriptions?status=bogus')).status).toBe(400);
  });
});

describe('Canvas-shaped prescriptions', () => {
  it('names a coding-only medication and groups refills', async () => {
    const patient = demoPatient(0);
    const client = await signIn(patient.email);
    const { prescriptions } = await listPrescriptions(client);

    expect(prescriptions).toHaveLength(1);
    const [levothyroxine] = prescriptions;
    expect(levothyroxine?.medication.text).toBe('Levothyroxine Sodium 0.05 MG Oral Tablet');
    expect(levothyroxine?.medication.code?.code).toBe('966222');
    expect(levothyroxine?.refillHistory.length).toBeGreaterThan(0);
    expect(levothyroxine?.prescriber.npi).toMatch(/^\d{10}$/);
  });

  it('shows the treatment on the dashboard', async () => {
    const client = await signIn(demoPatient(0).email);
    const html = await readPageHtml(await client.request('/'));
    expect(html).toContain('Levothyroxine Sodium 0.05 MG Oral Tablet');
    expect(html).toContain('Next refill:');
  });
});

describe('paging and limits', () => {
  it('follows relative next links over several pages', async () => {
    await createPatient('paging-patient', 'paging.patient@example.com');
    for (let index = 0; index < 25; index += 1) {
      await fhir.put(
        medicationRequest(`paging-rx-${index}`, 'paging-patient', {
          authoredOn: `2026-01-${String(index + 1).padStart(2, '0')}`,
        }),
      );
    }
    const client = await signIn('paging.patient@example.com');
    const list = await listPrescriptions(client);
    expect(list.prescriptions).toHaveLength(25);
    expect(new Set(list.prescriptions.map((prescription) => prescription.id)).size).toBe(25);
    expect(list.prescriptions[0]?.id).toBe('paging-rx-24');
    expect(list.moreExist).toBe(false);
  });
});

describe('bad data', () => {
  it('shows placeholders and keeps the other prescriptions', async () => {
    await createPatient('bad-data-patient', 'bad.data@example.com');
    await fhir.put(medicationRequest('bad-ok', 'bad-data-patient', {}));
    await fhir.put(
      medicationRequest('bad-missing-medication', 'bad-data-patient', {
        medicationCodeableConcept: undefined,
        medicationReference: { reference: 'Medication/does-not-exist' },
      }),
    );
    await fhir.put(
      medicationRequest('bad-missing-prescriber', 'bad-data-patient', {
        requester: { reference: 'Practitioner/does-not-exist' },
      }),
    );
    await fhir.put(
      medicationRequest('bad-status', 'bad-data-patient', {
        status: 'made-up-status' as MedicationRequest['status'],
      }),
    );

    const client = await signIn('bad.data@example.com');
    const list = await listPrescriptions(client);
    expectNoGarbage(list);
    const { prescriptions } = list;
    const byId = new Map(prescriptions.map((prescription) => [prescription.id, prescription]));

    expect(byId.get('bad-ok')?.medication.text).toBe('amlodipine 5 MG Oral Tablet');
    expect(byId.get('bad-missing-medication')?.medication).toMatchObject({ unavailable: true });
    expect(byId.get('bad-missing-medication')?.medication.text).toContain(
      'Medication name unavailable',
    );
    expect(byId.get('bad-missing-prescriber')?.prescriber).toMatchObject({
      unavailable: true,
      name: 'Prescriber unavailable',
    });
    expect(byId.get('bad-status')?.status).toEqual({ code: 'unknown', label: 'Status unknown' });

    expect((await client.request('/prescriptions')).status).toBe(200);
    expect(portal.output()).toContain('"medicationRequestId":"bad-missing-medication"');
  });

  it('keeps refill chains and loops visible', async () => {
    await createPatient('chain-patient', 'chain.patient@example.com');
    const refill = (id: string, basedOn: string, authoredOn: string) =>
      medicationRequest(id, 'chain-patient', {
        intent: 'filler-order',
        basedOn: [{ reference: `MedicationRequest/${basedOn}` }],
        authoredOn,
      });
    await fhir.put(medicationRequest('chain-order', 'chain-patient', { authoredOn: '2026-01-01' }));
    await fhir.put(refill('chain-refill-1', 'chain-order', '2026-02-01'));
    await fhir.put(refill('chain-refill-2', 'chain-refill-1', '2026-03-01'));
    await fhir.put(refill('loop-a', 'loop-b', '2026-04-01'));
    await fhir.put(refill('loop-b', 'loop-a', '2026-05-01'));

    const client = await signIn('chain.patient@example.com');
    const { prescriptions } = await listPrescriptions(client);
    const order = prescriptions.find((prescription) => prescription.id === 'chain-order');
    expect(order?.refillHistory.map((entry) => entry.id)).toEqual([
      'chain-refill-2',
      'chain-refill-1',
    ]);
    expect(prescriptions.map((prescription) => prescription.id).sort()).toEqual([
      'chain-order',
      'loop-a',
      'loop-b',
    ]);
  });

  it('shows a stopped treatment without a refill promise', async () => {
    const patient = demoPatient(2);
    const readToken = await fetch(`${portal.baseUrl}/sandbox/fhir/auth/token/`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'sandbox-portal',
        client_secret: 'sandbox-portal-secret',
      }),
    });
    const { access_token: token } = (await readToken.json()) as { access_token: string };
    const current = (await (
      await fetch(`${portal.baseUrl}/sandbox/fhir/MedicationRequest/demo-priya-rx-861007`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as MedicationRequest & { id: string };
    await fhir.put({ ...current, status: 'stopped' });

    const client = await signIn(patient.email);
    const html = await readPageHtml(await client.request('/'));
    expect(html).toContain('This prescription is stopped.');
    expect(html).not.toContain('Next refill:');
  });

  it('hides entered-in-error', async () => {
    await createPatient('error-patient', 'entered.in.error@example.com');
    await fhir.put(medicationRequest('error-rx', 'error-patient', { status: 'entered-in-error' }));
    await fhir.put(medicationRequest('fine-rx', 'error-patient', {}));
    const client = await signIn('entered.in.error@example.com');
    const { prescriptions } = await listPrescriptions(client);
    expect(prescriptions.map((prescription) => prescription.id)).toEqual(['fine-rx']);
  });
});

describe('ownership', () => {
  it('never returns another patient', async () => {
    const client = await signIn(demoPatient(1).email);
    for (const query of [
      '',
      '?patient=Patient/demo-ava',
      '?subject=Patient/pat1',
      '?patientId=demo-ava',
    ]) {
      const response = await client.request(`/api/patient/prescriptions${query}`);
      if (response.status !== 200) {
        expect(response.status, query).toBe(400);
        continue;
      }
      const { prescriptions } = (await response.json()) as PrescriptionListJson;
      for (const prescription of prescriptions)
        expect(prescription.id, query).toMatch(/^demo-marcus-/);
    }
  });

  it('answers 401 without a session', async () => {
    expect((await fetch(`${portal.baseUrl}/api/patient/prescriptions`)).status).toBe(401);
  });
});
