import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type {
  Appointment,
  Bundle,
  CareTeam,
  Communication,
  MedicationRequest,
  Patient,
  Resource,
  Schedule,
  Slot,
} from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  DEMO_CARE_TEAM_ID,
  DEMO_LONG_CONVERSATION,
  DEMO_PATIENTS,
  FIXTURE_MESSAGING_PATIENT,
  FIXTURE_PATIENT,
  SIMPLE_HTML_MESSAGE,
  UNSAFE_HTML_MESSAGE,
} from './demo-data.js';
import { DEMO_PRACTITIONER_IDS, scheduleIdFor } from './demo-resources.js';
import { FhirEngine } from './fhir-engine.js';
import { seedFhirServer } from './fhir-seed.js';
import { FIXTURE_DIRECTORY } from './fixture-resources.js';
import { fetchAccessToken, startSandbox, type RunningSandbox } from './test-support.js';

const RXNORM_SYSTEM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const TIME_ZONE_URL = 'http://hl7.org/fhir/StructureDefinition/timezone';
const DAY_MS = 24 * 60 * 60 * 1000;

let sandbox: RunningSandbox;
let token: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  token = await fetchAccessToken(sandbox.sandboxUrl);
});

afterAll(async () => {
  await sandbox.close();
});

/** Runs a search below the FHIR base and returns the resources of every page. */
async function searchAll<T extends Resource>(path: string): Promise<T[]> {
  const resources: T[] = [];
  let url: string | undefined = `${sandbox.sandboxUrl}/fhir${path}`;
  while (url) {
    const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    const bundle = (await response.json()) as Bundle<T>;
    resources.push(
      ...(bundle.entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : [])),
    );
    const next = bundle.link?.find((link) => link.relation === 'next')?.url;
    url = next ? `${sandbox.origin}${next}` : undefined;
  }
  return resources;
}

async function read<T extends Resource>(
  reference: string,
): Promise<{ status: number; resource: T }> {
  const response = await fetch(`${sandbox.sandboxUrl}/fhir/${reference}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  return { status: response.status, resource: (await response.json()) as T };
}

describe('official FHIR R4 examples', () => {
  it('makes all 40 MedicationRequests searchable by subject=Patient/pat1', async () => {
    const requests = await searchAll<MedicationRequest>(
      '/MedicationRequest?subject=Patient/pat1&_count=100',
    );

    expect(requests).toHaveLength(40);
    expect(new Set(requests.map((request) => request.id)).size).toBe(40);
  });

  it('keeps every MedicationRequest identical to its file', async () => {
    const requests = await searchAll<MedicationRequest>(
      '/MedicationRequest?subject=Patient/pat1&_count=100',
    );
    const medrx002 = requests.find((request) => request.id === 'medrx002');
    const original = JSON.parse(
      await readFile(path.join(FIXTURE_DIRECTORY, 'medicationrequestexample2.json'), 'utf8'),
    ) as MedicationRequest;

    const { meta, ...stored } = medrx002 ?? ({} as MedicationRequest);
    expect(meta?.versionId).toBeTruthy();
    expect(stored).toEqual(original);
  });

  it('gives Patient/pat1 an email so it can be found by email', async () => {
    const patients = await searchAll<Patient>(
      `/Patient?email=${encodeURIComponent(FIXTURE_PATIENT.email)}`,
    );

    expect(patients.map((patient) => patient.id)).toEqual([FIXTURE_PATIENT.id]);
    expect(patients[0]?.name?.[0]?.given?.[0]).toBe(FIXTURE_PATIENT.givenName);
  });

  it('loads the referenced Medication and Practitioner examples', async () => {
    expect((await read('Medication/med0316')).status).toBe(200);
    expect((await read('Practitioner/f007')).status).toBe(200);
    expect((await read('Practitioner/example')).status).toBe(200);
  });

  it('gives Patient/example an email so it can be found by email', async () => {
    const patients = await searchAll<Patient>(
      `/Patient?email=${encodeURIComponent(FIXTURE_MESSAGING_PATIENT.email)}`,
    );

    expect(patients.map((patient) => patient.id)).toEqual([FIXTURE_MESSAGING_PATIENT.id]);
    expect(patients[0]?.name?.[0]?.given?.[0]).toBe(FIXTURE_MESSAGING_PATIENT.givenName);
  });

  it('shows Patient/example the three official Communications', async () => {
    const messages = await searchAll<Communication>(
      `/Communication?subject=Patient/${FIXTURE_MESSAGING_PATIENT.id}`,
    );

    expect(messages.map((message) => message.id).sort()).toEqual([
      'example',
      'fm-attachment',
      'fm-solicited',
    ]);
  });

  it('changes only the subject of the official Communications', async () => {
    const { resource } = await read<Communication>('Communication/fm-attachment');
    const original = JSON.parse(
      await readFile(
        path.join(FIXTURE_DIRECTORY, 'communication-example-fm-attachment.json'),
        'utf8',
      ),
    ) as Communication;

    const { meta, ...stored } = resource;
    expect(meta?.versionId).toBeTruthy();
    expect(stored).toEqual({ ...original, subject: { reference: 'Patient/example' } });
  });

  it('loads the example CareTeam of Patient/example', async () => {
    const careTeams = await searchAll<CareTeam>('/CareTeam?subject=Patient/example');

    expect(careTeams.map((careTeam) => careTeam.id)).toEqual(['example']);
  });
});

describe('demo data', () => {
  it('shapes MedicationRequests like Canvas', async () => {
    for (const demo of DEMO_PATIENTS) {
      const requests = await searchAll<MedicationRequest>(
        `/MedicationRequest?subject=Patient/${demo.id}`,
      );
      expect(requests.length).toBeGreaterThan(0);

      for (const request of requests) {
        const concept = request.medicationCodeableConcept;
        expect(concept?.text).toBeUndefined();
        expect(concept?.coding?.[0]?.system).toBe(RXNORM_SYSTEM);
        expect(concept?.coding?.[0]?.code).toMatch(/^\d+$/);
        expect(concept?.coding?.[0]?.display).toBeTruthy();
        expect(request.dosageInstruction?.[0]?.text).toBeTruthy();
        expect(request.requester?.reference).toMatch(/^Practitioner\//);
        expect(request.authoredOn).toBeTruthy();
        expect(request.dispenseRequest?.quantity?.value).toBeGreaterThan(0);
      }
    }
  });

  it('links each refill to an original order of the same patient', async () => {
    for (const demo of DEMO_PATIENTS) {
      const requests = await searchAll<MedicationRequest>(
        `/MedicationRequest?subject=Patient/${demo.id}`,
      );
      const originals = new Set(
        requests
          .filter((request) => request.intent === 'order')
          .map((request) => `MedicationRequest/${request.id}`),
      );
      const refills = requests.filter((request) => request.intent === 'filler-order');

      expect(originals.size).toBeGreaterThan(0);
      expect(refills.length).toBeGreaterThan(0);
      for (const refill of refills) {
        expect(originals.has(refill.basedOn?.[0]?.reference ?? '')).toBe(true);
      }
    }
  });

  it('records a time zone on each patient', async () => {
    for (const demo of DEMO_PATIENTS) {
      const { resource } = await read<Patient>(`Patient/${demo.id}`);
      const timeZone = resource.extension?.find((extension) => extension.url === TIME_ZONE_URL);

      expect(timeZone?.valueCode, demo.id).toBe(demo.timeZone);
    }
  });

  it('links Priya to her practitioner through a CareTeam only', async () => {
    const { resource: patient } = await read<Patient>(
      `Patient/${DEMO_LONG_CONVERSATION.patientId}`,
    );
    const careTeams = await searchAll<CareTeam>(
      `/CareTeam?subject=Patient/${DEMO_LONG_CONVERSATION.patientId}&status=active`,
    );

    expect(patient.generalPractitioner).toBeUndefined();
    expect(careTeams.map((careTeam) => careTeam.id)).toEqual([DEMO_CARE_TEAM_ID]);
    const member = careTeams[0]?.participant?.[0];
    expect(member?.member?.reference).toBe(`Practitioner/${DEMO_LONG_CONVERSATION.practitionerId}`);
    expect(member?.role?.[0]?.text).toBe('Prescribing clinician');
  });

  it('has 130 messages between Priya and Dr. Okafor', async () => {
    const messages = await searchAll<Communication>(
      `/Communication?subject=Patient/${DEMO_LONG_CONVERSATION.patientId}&_count=100`,
    );
    const patient = `Patient/${DEMO_LONG_CONVERSATION.patientId}`;
    const practitioner = `Practitioner/${DEMO_LONG_CONVERSATION.practitionerId}`;

    expect(messages).toHaveLength(DEMO_LONG_CONVERSATION.messageCount);
    for (const message of messages) {
      const participants = new Set([message.sender?.reference, message.recipient?.[0]?.reference]);
      expect(participants).toEqual(new Set([patient, practitioner]));
      expect(message.status).toBe('completed');
      expect(message.id).toMatch(/^demo-priya-message-\d{3}$/);
    }
  });

  it("spreads Priya's thread over a year", async () => {
    const messages = await searchAll<Communication>(
      `/Communication?subject=Patient/${DEMO_LONG_CONVERSATION.patientId}&_sort=-sent&_count=100`,
    );
    const sent = messages.map((message) => Date.parse(message.sent ?? ''));
    const newest = messages[0];

    expect(newest?.id).toBe('demo-priya-message-130');
    expect(newest?.sender?.reference).toBe(`Practitioner/${DEMO_LONG_CONVERSATION.practitionerId}`);
    expect(Math.max(...sent)).toBeLessThan(Date.now());
    expect(Math.max(...sent) - Math.min(...sent)).toBeGreaterThan(330 * DAY_MS);
  });

  it("pages Priya's thread at _count=100", async () => {
    const response = await fetch(
      `${sandbox.sandboxUrl}/fhir/Communication?subject=Patient/${DEMO_LONG_CONVERSATION.patientId}&_count=100`,
      { headers: { Authorization: `Bearer ${token}` } },
    );
    const bundle = (await response.json()) as Bundle<Communication>;

    expect(bundle.total).toBe(130);
    expect(bundle.entry).toHaveLength(100);
    expect(bundle.link?.find((link) => link.relation === 'next')?.url).toMatch(/_offset=100/);
  });

  it("keeps the HTML of Ava's messages", async () => {
    for (const target of [SIMPLE_HTML_MESSAGE, UNSAFE_HTML_MESSAGE]) {
      const { status, resource } = await read<Communication>(`Communication/${target.id}`);

      expect(status).toBe(200);
      expect(resource.subject?.reference).toBe(`Patient/${target.patientId}`);
      expect(resource.sender?.reference).toMatch(/^Practitioner\//);
      expect(resource.payload?.[0]?.contentString).toContain(target.safeText);
    }

    const { resource } = await read<Communication>(`Communication/${UNSAFE_HTML_MESSAGE.id}`);
    const html = resource.payload?.[0]?.contentString ?? '';
    expect(html).toContain('<script>');
    expect(html).toContain('onerror=');
    expect(html).toContain('href="javascript:');
  });

  it('has messages in both directions for each patient', async () => {
    for (const demo of DEMO_PATIENTS) {
      const messages = await searchAll<Communication>(`/Communication?subject=Patient/${demo.id}`);
      const senders = new Set(messages.map((message) => message.sender?.reference?.split('/')[0]));

      expect(senders).toEqual(new Set(['Patient', 'Practitioner']));
      for (const message of messages) {
        expect(message.payload?.[0]?.contentString).toBeTruthy();
        expect(message.sent).toBeTruthy();
        expect(message.recipient?.length).toBe(1);
      }
    }
  });

  it('has one upcoming and one past appointment for each patient', async () => {
    const now = Date.now();
    for (const demo of DEMO_PATIENTS) {
      const appointments = await searchAll<Appointment>(`/Appointment?patient=Patient/${demo.id}`);
      const upcoming = appointments.filter(
        (appointment) => Date.parse(appointment.start ?? '') > now,
      );
      const past = appointments.filter((appointment) => Date.parse(appointment.start ?? '') < now);

      expect(upcoming.map((appointment) => appointment.status)).toEqual(['booked']);
      expect(past.map((appointment) => appointment.status)).toEqual(['fulfilled']);
      for (const appointment of appointments) {
        const actors = appointment.participant.map(
          (participant) => participant.actor?.reference?.split('/')[0],
        );
        expect(actors).toEqual(['Patient', 'Practitioner']);
      }
    }
  });

  it('has a schedule with free future slots for each practitioner', async () => {
    const now = Date.now();
    for (const practitionerId of DEMO_PRACTITIONER_IDS) {
      const scheduleId = scheduleIdFor(practitionerId);
      const schedule = await read<Schedule>(`Schedule/${scheduleId}`);
      expect(schedule.status).toBe(200);
      expect(schedule.resource.actor[0]?.reference).toBe(`Practitioner/${practitionerId}`);

      const slots = await searchAll<Slot>(`/Slot?schedule=Schedule/${scheduleId}&status=free`);
      expect(slots.length).toBeGreaterThan(0);
      for (const slot of slots) {
        expect(Date.parse(slot.start)).toBeGreaterThan(now);
      }
    }
  });
});

describe('seedFhirServer', () => {
  it('stops with an error naming a rejected fixture', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'sandbox-fixtures-'));
    try {
      for (const patientFile of ['patient-example-a.json', 'patient-example.json']) {
        await cp(path.join(FIXTURE_DIRECTORY, patientFile), path.join(directory, patientFile));
      }
      const invalid = {
        resourceType: 'MedicationRequest',
        id: 'broken',
        status: 'active',
        unknownField: true,
      };
      await writeFile(path.join(directory, 'broken.json'), JSON.stringify(invalid));

      await expect(seedFhirServer(new FhirEngine(), new Date(), directory)).rejects.toThrow(
        /MedicationRequest\/broken/,
      );
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
