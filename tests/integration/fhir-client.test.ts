import type { Communication } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createResource, readResource, searchResources } from '../../app/clients/fhir.server';
import { UpstreamError } from '../../app/clients/upstream-error.server';
import { resetSingleton } from '../../app/utils/singleton.server';
import { startSandbox, type RunningSandbox } from '../../sandbox/test-support';
import { useSandboxFhir } from '../support/in-process-fhir';

let sandbox: RunningSandbox;

async function fhirStats(): Promise<{ requests: number; tokenRequests: number }> {
  const stats = (await (await fetch(`${sandbox.sandboxUrl}/stats`)).json()) as {
    fhir: { requests: number; tokenRequests: number };
  };
  return stats.fhir;
}

beforeAll(async () => {
  sandbox = await startSandbox();
  useSandboxFhir(sandbox);
});

afterAll(async () => {
  await sandbox?.close();
});

describe('FHIR client against the sandbox', () => {
  it('follows relative next links through every page', async () => {
    const requests = await searchResources('MedicationRequest', {
      subject: 'Patient/pat1',
      _count: '7',
    });
    const ids = requests.map((request) => request.id);
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
    expect(ids).toContain('medrx002');
  });

  it('stops reading pages at maxResults', async () => {
    await fetch(`${sandbox.sandboxUrl}/stats`, { method: 'DELETE' });
    const requests = await searchResources(
      'MedicationRequest',
      { subject: 'Patient/pat1', _count: '5' },
      { maxResults: 5 },
    );
    expect(requests).toHaveLength(5);
    expect((await fhirStats()).requests).toBe(1);
  });

  it('takes a created id from Location', async () => {
    const message: Communication = {
      resourceType: 'Communication',
      status: 'completed',
      subject: { reference: 'Patient/demo-ava' },
      sender: { reference: 'Patient/demo-ava' },
      recipient: [{ reference: 'Practitioner/demo-dr-okafor' }],
      payload: [{ contentString: 'Test message from the client test.' }],
    };
    const created = await createResource(message);
    expect(created.id).toMatch(/\S+/);

    const read = await readResource('Communication', created.id);
    expect(read?.payload?.[0]?.contentString).toBe('Test message from the client test.');
  });

  it('returns undefined for an unknown id', async () => {
    expect(await readResource('Patient', 'no-such-patient')).toBeUndefined();
  });

  it('throws an OperationOutcome for a bad search', async () => {
    const failure = await searchResources('Patient', { 'no-such-parameter': 'x' }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(UpstreamError);
    expect((failure as UpstreamError).status).toBe(400);
    expect((failure as UpstreamError).outcome?.resourceType).toBe('OperationOutcome');
  });

  it('reuses one cached token', async () => {
    resetSingleton('fhir-token-cache');
    await fetch(`${sandbox.sandboxUrl}/stats`, { method: 'DELETE' });

    await searchResources('Patient', { _id: 'demo-priya' });
    await searchResources('Patient', { _id: 'demo-ava' });
    await readResource('Patient', 'demo-marcus');
    expect((await fhirStats()).tokenRequests).toBe(1);
  });
});
