import type { WithId } from '@medplum/core';
import type {
  Bundle,
  CareTeam,
  Communication,
  OperationOutcome,
  Patient,
  Practitioner,
  Resource,
} from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEMO_PATIENTS } from './demo-data.js';
import {
  fetchAccessToken,
  sendFhirRequest,
  startSandbox,
  type RunningSandbox,
} from './test-support.js';

let sandbox: RunningSandbox;
let token: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  token = await fetchAccessToken(sandbox.sandboxUrl);
});

afterAll(async () => {
  await sandbox.close();
});

function fhir(path: string, init: RequestInit = {}): Promise<Response> {
  return sendFhirRequest(sandbox, token, path, init);
}

async function searchBundle<T extends Resource = Resource>(
  path: string,
): Promise<Bundle<WithId<T>>> {
  const response = await fhir(path);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Bundle<WithId<T>>;
}

/** Builds a message from a patient to Dr. Okafor that follows Canvas's Communication rules. */
function communicationFor(patientId: string, index: number): Communication {
  return {
    resourceType: 'Communication',
    status: 'completed',
    subject: { reference: `Patient/${patientId}` },
    sender: { reference: `Patient/${patientId}` },
    recipient: [{ reference: 'Practitioner/demo-dr-okafor' }],
    sent: new Date(Date.UTC(2024, 0, 1, 0, index)).toISOString(),
    payload: [{ contentString: `Test message ${index}` }],
  };
}

/**
 * Returns the patient's practitioner reference from `Patient.generalPractitioner` or, when that is
 * missing, from the first member of an active CareTeam.
 */
async function findPractitionerReference(patientId: string): Promise<string | undefined> {
  const patient = (await (await fhir(`/Patient/${patientId}`)).json()) as Patient;
  const general = patient.generalPractitioner?.[0]?.reference;
  if (general) {
    return general;
  }

  const careTeams = await searchBundle<CareTeam>(
    `/CareTeam?subject=Patient/${patientId}&status=active`,
  );
  return careTeams.entry?.[0]?.resource?.participant?.[0]?.member?.reference;
}

describe('FHIR search', () => {
  it('finds each demo patient by email', async () => {
    for (const demo of DEMO_PATIENTS) {
      const bundle = await searchBundle<Patient>(
        `/Patient?email=${encodeURIComponent(demo.email)}`,
      );

      expect(bundle.total).toBe(1);
      const patient = bundle.entry?.[0]?.resource;
      expect(patient?.id).toBe(demo.id);
      expect(patient?.name?.[0]?.given?.[0]).toBe(demo.givenName);
    }
  });

  it('links each demo patient to a practitioner with an NPI', async () => {
    for (const demo of DEMO_PATIENTS) {
      const reference = await findPractitionerReference(demo.id);
      expect(reference, demo.id).toMatch(/^Practitioner\//);

      const practitioner = (await (await fhir(`/${reference}`)).json()) as Practitioner;
      const npi = practitioner.identifier?.find(
        (identifier) => identifier.system === 'http://hl7.org/fhir/sid/us-npi',
      );
      expect(npi?.value).toMatch(/^\d{10}$/);
    }
  });

  it('returns an empty bundle for an unknown email', async () => {
    const bundle = await searchBundle<Patient>('/Patient?email=nobody%40example.com');

    expect(bundle.total).toBe(0);
    expect(bundle.entry).toBeUndefined();
  });

  it('follows next links through every page exactly once', async () => {
    const patientId = 'paging-test';
    await fhir(`/Patient/${patientId}`, {
      method: 'PUT',
      body: JSON.stringify({ resourceType: 'Patient', id: patientId }),
    });
    for (let index = 0; index < 25; index++) {
      const response = await fhir('/Communication', {
        method: 'POST',
        body: JSON.stringify(communicationFor(patientId, index)),
      });
      expect(response.status).toBe(201);
    }

    const seen: string[] = [];
    const pageSizes: number[] = [];
    let next: string | undefined = `/Communication?patient=Patient%2F${patientId}`;
    while (next) {
      expect(next.startsWith('/sandbox/fhir/') || next.startsWith('/Communication')).toBe(true);
      const bundle: Bundle<WithId<Communication>> = await searchBundle<Communication>(next);
      expect(bundle.total).toBe(25);
      const ids = (bundle.entry ?? []).map((entry) => entry.resource?.id ?? '');
      pageSizes.push(ids.length);
      seen.push(...ids);
      next = bundle.link?.find((link) => link.relation === 'next')?.url;
    }

    expect(pageSizes).toEqual([10, 10, 5]);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
  });

  it('builds relative paging links with URL-encoded parameters', async () => {
    const bundle = await searchBundle<Communication>(
      '/Communication?patient=Patient/demo-ava&_count=1',
    );

    const self = bundle.link?.find((link) => link.relation === 'self')?.url;
    const next = bundle.link?.find((link) => link.relation === 'next')?.url;
    expect(self).toBe('/sandbox/fhir/Communication?patient=Patient%2Fdemo-ava&_count=1&_offset=0');
    expect(next).toBe('/sandbox/fhir/Communication?patient=Patient%2Fdemo-ava&_count=1&_offset=1');
  });

  it('links previous but not next on last page', async () => {
    const bundle = await searchBundle<Communication>(
      '/Communication?patient=Patient/demo-marcus&_count=2&_offset=2',
    );

    const relations = bundle.link?.map((link) => link.relation);
    expect(relations).toEqual(['self', 'previous']);
    expect(bundle.link?.[1]?.url).toBe(
      '/sandbox/fhir/Communication?patient=Patient%2Fdemo-marcus&_count=2&_offset=0',
    );
  });

  it('defaults _count to 10', async () => {
    const bundle = await searchBundle('/MedicationRequest?subject=Patient/pat1');

    expect(bundle.total).toBe(40);
    expect(bundle.entry).toHaveLength(10);
  });

  it('clamps _count to 100', async () => {
    const bundle = await searchBundle(
      '/Slot?schedule=Schedule/Location.1-Staff.demo-dr-okafor&_count=500',
    );

    const self = bundle.link?.find((link) => link.relation === 'self')?.url ?? '';
    expect(new URL(self, sandbox.origin).searchParams.get('_count')).toBe('100');
    expect(bundle.total).toBeGreaterThan(100);
    expect(bundle.entry?.length).toBe(100);
  });

  it('returns only the total for _summary=count', async () => {
    const bundle = await searchBundle('/MedicationRequest?subject=Patient/pat1&_summary=count');

    expect(bundle.total).toBe(40);
    expect(bundle.entry).toBeUndefined();
  });

  it('sorts by _sort', async () => {
    const bundle = await searchBundle<Communication>(
      '/Communication?patient=Patient/demo-ava&_sort=-sent',
    );

    const sent = (bundle.entry ?? []).map((entry) => entry.resource?.sent ?? '');
    expect(sent.length).toBeGreaterThan(1);
    expect(sent).toEqual([...sent].sort().reverse());
  });

  it('searches with POST _search and a form body', async () => {
    const response = await fhir('/Patient/_search', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: 'marcus.chen@example.com' }).toString(),
    });

    expect(response.status).toBe(200);
    const bundle = (await response.json()) as Bundle<Patient>;
    expect(bundle.entry?.map((entry) => entry.resource?.id)).toEqual(['demo-marcus']);
  });

  it('includes referenced resources for _include', async () => {
    const bundle = await searchBundle(
      '/MedicationRequest?_id=medrx002&_include=MedicationRequest:medication',
    );

    const entries = (bundle.entry ?? []).map((entry) => [
      `${entry.resource?.resourceType}/${entry.resource?.id}`,
      entry.search?.mode,
    ]);
    expect(entries).toEqual([
      ['MedicationRequest/medrx002', 'match'],
      ['Medication/med0316', 'include'],
    ]);
    expect(bundle.total).toBe(1);
  });

  it('sets an absolute fullUrl on each entry', async () => {
    const bundle = await searchBundle('/Patient?_id=demo-ava');

    expect(bundle.entry?.[0]?.fullUrl).toBe(`${sandbox.sandboxUrl}/fhir/Patient/demo-ava`);
  });

  it('rejects an unknown search parameter', async () => {
    const response = await fhir('/Patient?emial=ava.reyes%40example.com');

    expect(response.status).toBe(400);
    const outcome = (await response.json()) as OperationOutcome;
    expect(outcome.issue?.[0]?.details?.text).toContain('emial');
  });

  it('rejects _sort by an unknown field', async () => {
    const response = await fhir('/Communication?_sort=-sentt');

    expect(response.status).toBe(400);
  });

  it('rejects an invalid _count', async () => {
    const response = await fhir('/Patient?_count=ten');

    expect(response.status).toBe(400);
  });

  it('rejects an unknown resource type', async () => {
    const response = await fhir('/Patientt');

    expect(response.status).toBe(404);
    expect(((await response.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
  });
});

describe('FHIR create', () => {
  it('returns 201 with an empty body and a versioned Location', async () => {
    const response = await fhir('/Communication', {
      method: 'POST',
      body: JSON.stringify(communicationFor('demo-ava', 1)),
    });

    expect(response.status).toBe(201);
    expect(await response.text()).toBe('');
    const location = response.headers.get('location') ?? '';
    const match = new RegExp(
      `^${sandbox.sandboxUrl}/fhir/Communication/([^/]+)/_history/([^/]+)$`,
    ).exec(location);
    expect(match, location).not.toBeNull();

    const read = await fhir(`/Communication/${match?.[1] ?? ''}`);
    expect(read.status).toBe(200);
    const created = (await read.json()) as Communication;
    expect(created.meta?.versionId).toBe(match?.[2]);
    expect(read.headers.get('etag')).toBe(`W/"${match?.[2] ?? ''}"`);
  });

  it('returns the resource for Prefer: return=representation', async () => {
    const response = await fhir('/Communication', {
      method: 'POST',
      headers: { Prefer: 'return=representation' },
      body: JSON.stringify(communicationFor('demo-ava', 2)),
    });

    expect(response.status).toBe(201);
    const created = (await response.json()) as Communication;
    expect(created.id).toBeTruthy();
    expect(created.payload?.[0]?.contentString).toBe('Test message 2');
  });

  it('assigns a new id even when the client sends one', async () => {
    const response = await fhir('/Communication', {
      method: 'POST',
      headers: { Prefer: 'return=representation' },
      body: JSON.stringify({ ...communicationFor('demo-ava', 3), id: 'client-chosen' }),
    });

    const created = (await response.json()) as Communication;
    expect(created.id).not.toBe('client-chosen');
  });

  it('rejects an invalid resource with an OperationOutcome', async () => {
    const response = await fhir('/Communication', {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Communication', status: 'completed', colour: 'blue' }),
    });

    expect(response.status).toBe(400);
    const outcome = (await response.json()) as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue?.[0]?.details?.text).toContain('colour');
  });

  it('rejects a body of another resource type', async () => {
    const response = await fhir('/Communication', {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Patient' }),
    });

    expect(response.status).toBe(400);
  });

  it('rejects malformed JSON with an OperationOutcome', async () => {
    const response = await fhir('/Communication', {
      method: 'POST',
      body: '{"resourceType": "Communication",',
    });

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect(((await response.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
  });

  it('accepts application/json as well as application/fhir+json', async () => {
    const response = await fhir('/Communication', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(communicationFor('demo-ava', 4)),
    });

    expect(response.status).toBe(201);
  });
});

describe('FHIR read and update', () => {
  it('returns 404 with an OperationOutcome for a missing resource', async () => {
    const response = await fhir('/Patient/does-not-exist');

    expect(response.status).toBe(404);
    expect(((await response.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
  });

  it('creates a resource under the client id with PUT', async () => {
    const response = await fhir('/Patient/put-created', {
      method: 'PUT',
      body: JSON.stringify({ resourceType: 'Patient', id: 'put-created', birthDate: '2000-01-01' }),
    });

    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toMatch(
      /\/fhir\/Patient\/put-created\/_history\/[^/]+$/,
    );
    expect(((await response.json()) as Patient).birthDate).toBe('2000-01-01');
  });

  it('updates an existing resource with PUT', async () => {
    const body = { resourceType: 'Patient', id: 'put-updated', birthDate: '2000-01-01' };
    await fhir('/Patient/put-updated', { method: 'PUT', body: JSON.stringify(body) });

    const response = await fhir('/Patient/put-updated', {
      method: 'PUT',
      body: JSON.stringify({ ...body, birthDate: '2001-02-03' }),
    });

    expect(response.status).toBe(200);
    const read = (await (await fhir('/Patient/put-updated')).json()) as Patient;
    expect(read.birthDate).toBe('2001-02-03');
  });

  it('reads an earlier version by its version id', async () => {
    const body = { resourceType: 'Patient', id: 'versioned', birthDate: '2000-01-01' };
    const first = await fhir('/Patient/versioned', { method: 'PUT', body: JSON.stringify(body) });
    const firstVersion = ((await first.json()) as Patient).meta?.versionId ?? '';
    await fhir('/Patient/versioned', {
      method: 'PUT',
      body: JSON.stringify({ ...body, birthDate: '1999-09-09' }),
    });

    const response = await fhir(`/Patient/versioned/_history/${firstVersion}`);

    expect(response.status).toBe(200);
    expect(((await response.json()) as Patient).birthDate).toBe('2000-01-01');
  });

  it('rejects a PUT whose body id differs from the URL', async () => {
    const response = await fhir('/Patient/one-id', {
      method: 'PUT',
      body: JSON.stringify({ resourceType: 'Patient', id: 'another-id' }),
    });

    expect(response.status).toBe(400);
  });

  it('rejects DELETE with 405', async () => {
    const response = await fhir('/Patient/demo-ava', { method: 'DELETE' });

    expect(response.status).toBe(405);
    expect(((await response.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
  });
});
