import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { getPatientProfile } from '../../app/patients/profile.server';
import { startSandbox, type RunningSandbox } from '../../sandbox/test-support';
import { useSandboxFhir } from '../support/in-process-fhir';

/** Delay the sandbox adds to each Patient read while a test checks what else was sent. */
const HELD_PATIENT_READ_MS = 3_000;

let sandbox: RunningSandbox;

async function fhirRequests(): Promise<number> {
  const stats = (await (await fetch(`${sandbox.sandboxUrl}/stats`)).json()) as {
    fhir: { requests: number };
  };
  return stats.fhir.requests;
}

async function resetStats(): Promise<void> {
  await fetch(`${sandbox.sandboxUrl}/stats`, { method: 'DELETE' });
}

async function holdPatientReads(): Promise<void> {
  const response = await fetch(`${sandbox.sandboxUrl}/faults/fhir`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([{ latencyMs: HELD_PATIENT_READ_MS, resourceTypes: ['Patient'] }]),
  });
  expect(response.ok).toBe(true);
}

function profileOf(patientId: string) {
  return getPatientProfile({ patientId, sessionId: crypto.randomUUID() });
}

beforeAll(async () => {
  sandbox = await startSandbox();
  useSandboxFhir(sandbox, ['care-team-hints']);
});

afterEach(async () => {
  await fetch(`${sandbox.sandboxUrl}/faults/fhir`, { method: 'DELETE' });
});

afterAll(async () => {
  await sandbox?.close();
});

describe('practitioner from a CareTeam', () => {
  it('searches the CareTeam alongside a later Patient read', async () => {
    // Priya's Patient has no generalPractitioner: her first lookup reads the Patient, then
    // searches her CareTeam.
    const first = await profileOf('demo-priya');
    expect(first.practitioner?.id).toBeDefined();

    await holdPatientReads();
    await resetStats();
    const second = profileOf('demo-priya');

    // While the Patient read is held, the CareTeam search has already been sent.
    await expect.poll(fhirRequests, { timeout: HELD_PATIENT_READ_MS - 500 }).toBe(2);
    expect((await second).practitioner?.id).toBe(first.practitioner?.id);
  });

  it('sends no CareTeam search for a generalPractitioner', async () => {
    const first = await profileOf('demo-ava');
    expect(first.practitioner?.id).toBeDefined();

    await resetStats();
    const second = await profileOf('demo-ava');

    // The Patient read only: the Practitioner comes from the process's cache.
    expect(await fhirRequests()).toBe(1);
    expect(second.practitioner?.id).toBe(first.practitioner?.id);
  });
});
