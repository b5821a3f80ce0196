import type { WithId } from '@medplum/core';
import type {
  Bundle,
  CareTeam,
  Communication,
  OperationOutcome,
  Resource,
} from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEMO_CARE_TEAM_ID } from './demo-data.js';
import { FhirEngine } from './fhir-engine.js';
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

function postCommunication(body: unknown): Promise<Response> {
  return fhir('/Communication', { method: 'POST', body: JSON.stringify(body) });
}

async function searchIds(path: string): Promise<string[]> {
  const response = await fhir(path);
  expect(response.status, await response.clone().text()).toBe(200);
  const bundle = (await response.json()) as Bundle<WithId<Resource>>;
  return (bundle.entry ?? []).map((entry) => entry.resource?.id ?? '').sort();
}

/** Reads the resource that a create's `Location` header points at. */
async function readCreated<T extends Resource>(response: Response): Promise<T> {
  const location = response.headers.get('location') ?? '';
  const id = /\/Communication\/([^/]+)\/_history\//.exec(location)?.[1] ?? '';
  const read = await fhir(`/Communication/${id}`);
  expect(read.status, location).toBe(200);
  return (await read.json()) as T;
}

/** Collects the `details.text` of every issue of a rejection. */
async function issueTexts(response: Response): Promise<string> {
  const outcome = (await response.json()) as OperationOutcome;
  expect(outcome.resourceType).toBe('OperationOutcome');
  for (const issue of outcome.issue ?? []) {
    expect(['processing', 'invariant']).toContain(issue.code);
  }
  return (outcome.issue ?? []).map((issue) => issue.details?.text ?? '').join('\n');
}

/**
 * Builds a message from `patientId` to Dr. Okafor. Each test uses its own patient id, so a search
 * by that id finds only the test's messages.
 */
function messageFromPatient(
  patientId: string,
  text = 'Could I get a refill early?',
): Communication {
  return {
    resourceType: 'Communication',
    status: 'completed',
    subject: { reference: `Patient/${patientId}` },
    sender: { reference: `Patient/${patientId}` },
    recipient: [{ reference: 'Practitioner/demo-dr-okafor' }],
    payload: [{ contentString: text }],
  };
}

describe('Communication create', () => {
  it('returns 201 with a Location for a valid message', async () => {
    const response = await postCommunication(messageFromPatient('create-valid'));

    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toMatch(
      new RegExp(`^${sandbox.sandboxUrl}/fhir/Communication/[^/]+/_history/[^/]+$`),
    );
    const created = await readCreated<Communication>(response);
    expect(created.payload?.[0]?.contentString).toBe('Could I get a refill early?');
  });

  it('accepts a reply from the practitioner', async () => {
    const response = await postCommunication({
      resourceType: 'Communication',
      status: 'completed',
      subject: { reference: 'Patient/demo-ava' },
      sender: { reference: 'Practitioner/demo-dr-okafor' },
      recipient: [{ reference: 'Patient/demo-ava' }],
      payload: [{ contentString: 'Yes, I have sent it to the pharmacy.' }],
    });

    expect(response.status).toBe(201);
  });

  it('stores status as completed', async () => {
    for (const status of ['in-progress', 'preparation', 'unknown']) {
      const response = await postCommunication({
        ...messageFromPatient('create-status'),
        status,
      });

      expect(response.status).toBe(201);
      expect((await readCreated<Communication>(response)).status, status).toBe('completed');
    }
  });

  it('accepts a message without status', async () => {
    const withoutStatus: Partial<Communication> = messageFromPatient('create-no-status');
    delete withoutStatus.status;
    const response = await postCommunication(withoutStatus);

    expect(response.status).toBe(201);
    expect((await readCreated<Communication>(response)).status).toBe('completed');
  });

  it('sets sent to the time of the create', async () => {
    const before = Date.now() - 1000;
    const response = await postCommunication(messageFromPatient('create-sent'));

    const created = await readCreated<Communication>(response);
    expect(Date.parse(created.sent ?? '')).toBeGreaterThanOrEqual(before);
    expect(Date.parse(created.sent ?? '')).toBeLessThanOrEqual(Date.now());
  });

  it('keeps a sent time from the client', async () => {
    const response = await postCommunication({
      ...messageFromPatient('create-sent-kept'),
      sent: '2026-03-01T15:30:00Z',
    });

    expect((await readCreated<Communication>(response)).sent).toBe('2026-03-01T15:30:00Z');
  });

  it('rejects two practitioners with 422', async () => {
    const response = await postCommunication({
      ...messageFromPatient('reject-two-practitioners'),
      sender: { reference: 'Practitioner/demo-dr-lindqvist' },
    });

    expect(response.status).toBe(422);
    const texts = await issueTexts(response);
    expect(texts).toContain('exactly one Patient, but there are 0');
    expect(texts).toContain('exactly one Practitioner, but there are 2');
  });

  it('rejects a message without a practitioner', async () => {
    const response = await postCommunication({
      ...messageFromPatient('reject-no-practitioner'),
      recipient: [{ reference: 'Patient/demo-marcus' }],
    });

    expect(response.status).toBe(422);
    const texts = await issueTexts(response);
    expect(texts).toContain('exactly one Practitioner, but there are 0');
    expect(texts).toContain('exactly one Patient, but there are 2');
  });

  it('rejects a Device sender', async () => {
    const response = await postCommunication({
      ...messageFromPatient('reject-device'),
      sender: { reference: 'Device/f001' },
    });

    expect(response.status).toBe(422);
    expect(await issueTexts(response)).toContain(
      'Communication.sender must be a reference of the form Patient/<id> or Practitioner/<id>, but it is "Device/f001"',
    );
  });

  it('rejects a sender by identifier only', async () => {
    const response = await postCommunication({
      ...messageFromPatient('reject-identifier'),
      sender: { identifier: { system: 'urn:example:patients', value: '42' } },
    });

    expect(response.status).toBe(422);
    expect(await issueTexts(response)).toContain('a reference by identifier only');
  });

  it('rejects a missing sender', async () => {
    const withoutSender: Partial<Communication> = messageFromPatient('reject-no-sender');
    delete withoutSender.sender;
    const response = await postCommunication({
      ...withoutSender,
      recipient: [
        { reference: 'Patient/reject-no-sender' },
        { reference: 'Practitioner/demo-dr-okafor' },
      ],
    });

    expect(response.status).toBe(422);
    const texts = await issueTexts(response);
    expect(texts).toContain('Communication.sender is missing');
    expect(texts).toContain('Communication.recipient must contain exactly one reference');
  });

  it('rejects a missing recipient', async () => {
    const withoutRecipient: Partial<Communication> = messageFromPatient('reject-no-recipient');
    delete withoutRecipient.recipient;
    const response = await postCommunication(withoutRecipient);

    expect(response.status).toBe(422);
    expect(await issueTexts(response)).toContain(
      'Communication.recipient must contain exactly one reference, but it contains 0',
    );
  });

  it.each([
    ['no payload', undefined],
    ['an attachment only', [{ contentAttachment: { contentType: 'application/pdf' } }]],
  ])('rejects a message with %s', async (_case, payload) => {
    const response = await postCommunication({
      ...messageFromPatient('reject-payload'),
      payload,
    });

    expect(response.status).toBe(422);
    expect(await issueTexts(response)).toContain(
      'Communication.payload must contain an entry with a non-empty contentString',
    );
  });

  it('rejects blank text as invalid FHIR', async () => {
    const response = await postCommunication({
      ...messageFromPatient('reject-blank'),
      payload: [{ contentString: '   ' }],
    });

    // A FHIR string must contain non-whitespace, so validation rejects it before Canvas's rules.
    expect(response.status).toBe(400);
  });

  it('stores nothing when it rejects', async () => {
    await postCommunication({
      ...messageFromPatient('reject-stores-nothing'),
      sender: { reference: 'Device/f001' },
    });

    expect(await searchIds('/Communication?subject=Patient/reject-stores-nothing')).toEqual([]);
  });

  it('checks the FHIR structure before Canvas rules', async () => {
    const response = await postCommunication({ resourceType: 'Communication', colour: 'blue' });

    expect(response.status).toBe(400);
  });
});

describe('Communication update', () => {
  it('rejects PUT of a seeded message with 405', async () => {
    const read = await fhir('/Communication/demo-ava-message-001');
    const existing = (await read.json()) as Communication;

    const response = await fhir('/Communication/demo-ava-message-001', {
      method: 'PUT',
      body: JSON.stringify({ ...existing, payload: [{ contentString: 'Changed text' }] }),
    });

    expect(response.status).toBe(405);
    const outcome = (await response.json()) as OperationOutcome;
    expect(outcome.issue?.[0]?.details?.text).toContain('does not allow updating a Communication');
    const after = (await (
      await fhir('/Communication/demo-ava-message-001')
    ).json()) as Communication;
    expect(after.payload).toEqual(existing.payload);
  });

  it('rejects PUT under a new id with 405', async () => {
    const response = await fhir('/Communication/put-new-id', {
      method: 'PUT',
      body: JSON.stringify({ ...messageFromPatient('put-new-id'), id: 'put-new-id' }),
    });

    expect(response.status).toBe(405);
    expect((await fhir('/Communication/put-new-id')).status).toBe(404);
  });

  it('still lets the seed upsert a Communication', async () => {
    const engine = new FhirEngine();
    const message: WithId<Communication> = {
      ...messageFromPatient('seeded'),
      id: 'seeded-message',
      sender: { reference: 'Device/f001' },
    };

    await engine.upsert(message);
    await engine.upsert({ ...message, payload: [{ contentString: 'Second version' }] });

    const response = await engine.handle({
      method: 'GET',
      path: '/Communication/seeded-message',
      query: new URLSearchParams(),
      body: undefined,
      baseUrl: 'http://127.0.0.1/sandbox/fhir',
      linkBase: '/sandbox/fhir',
    });
    expect(response.status).toBe(200);
    const stored = response.body as Communication;
    expect(stored.payload?.[0]?.contentString).toBe('Second version');
  });
});

describe('Communication search', () => {
  it('filters by _lastUpdated', async () => {
    const patientId = 'last-updated';
    await postCommunication(messageFromPatient(patientId, 'First'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const since = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await postCommunication(messageFromPatient(patientId, 'Second'));
    const secondId = (await readCreated<Communication>(second)).id ?? '';

    const query = `sender=Patient/${patientId}&_lastUpdated=gt${encodeURIComponent(since)}`;
    expect(await searchIds(`/Communication?${query}`)).toEqual([secondId]);
    expect(await searchIds(`/Communication?sender=Patient/${patientId}`)).toHaveLength(2);
  });

  it('accepts _lastUpdated with a recipient', async () => {
    const ids = await searchIds(
      '/Communication?recipient=Patient/demo-ava&_lastUpdated=gt2026-01-01T00:00:00Z',
    );
    const future = await searchIds(
      '/Communication?recipient=Patient/demo-ava&_lastUpdated=gt2999-01-01T00:00:00Z',
    );

    expect(ids).toEqual(expect.arrayContaining(['demo-ava-message-001', 'demo-ava-message-005']));
    expect(future).toEqual([]);
  });

  it('filters by patient', async () => {
    expect(await searchIds('/Communication?patient=Patient/demo-marcus')).toEqual([
      'demo-marcus-message-001',
      'demo-marcus-message-002',
      'demo-marcus-message-003',
    ]);
  });

  it('filters by subject', async () => {
    expect(await searchIds('/Communication?subject=Patient/demo-marcus')).toEqual([
      'demo-marcus-message-001',
      'demo-marcus-message-002',
      'demo-marcus-message-003',
    ]);
  });

  it('filters by sender', async () => {
    expect(await searchIds('/Communication?sender=Patient/demo-marcus')).toEqual([
      'demo-marcus-message-002',
    ]);
  });

  it('filters by recipient', async () => {
    expect(await searchIds('/Communication?recipient=Patient/demo-marcus')).toEqual([
      'demo-marcus-message-001',
      'demo-marcus-message-003',
    ]);
  });

  it('filters by identifier', async () => {
    expect(await searchIds('/Communication?identifier=urn:oid:1.3.4.5.6.7|2345678901')).toEqual([
      'example',
    ]);
    expect(
      await searchIds(
        `/Communication?identifier=${encodeURIComponent('http://www.providerco.com/communication|12345')}`,
      ),
    ).toEqual(['fm-attachment', 'fm-solicited']);
  });
});

describe('CareTeam search', () => {
  it('filters by subject and status', async () => {
    expect(await searchIds('/CareTeam?subject=Patient/demo-priya&status=active')).toEqual([
      DEMO_CARE_TEAM_ID,
    ]);
    expect(await searchIds('/CareTeam?subject=Patient/demo-priya&status=inactive')).toEqual([]);
  });

  it('filters by patient', async () => {
    const response = await fhir('/CareTeam?patient=Patient/demo-priya');
    const bundle = (await response.json()) as Bundle<CareTeam>;

    expect(bundle.entry?.map((entry) => entry.resource?.id)).toEqual([DEMO_CARE_TEAM_ID]);
    expect(bundle.entry?.[0]?.resource?.participant?.[0]?.member?.reference).toBe(
      'Practitioner/demo-dr-okafor',
    );
  });

  it('finds no CareTeam for a patient without one', async () => {
    expect(await searchIds('/CareTeam?patient=Patient/demo-ava')).toEqual([]);
  });
});
