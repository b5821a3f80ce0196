import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type {
  Appointment,
  Bundle,
  CareTeam,
  Communication,
  Location,
  MedicationRequest,
  Patient,
  Resource,
  Schedule,
  Slot,
} from '@medplum/fhirtypes';
import { Temporal } from 'temporal-polyfill';
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
import { DEMO_PRACTITIONER_IDS, scheduleIdFor, TELEHEALTH_LOCATION_ID } from './demo-resources.js';
import { FhirEngine } from './fhir-engine.js';
import { seedFhirServer } from './fhir-seed.js';
import { FIXTURE_DIRECTORY } from './fixture-resources.js';
import { fetchAccessToken, startSandbox, type RunningSandbox } from './test-support.js';
import {
  DEMO_WORKING_HOURS,
  generateWorkingHourSlots,
  slotGenerationRange,
  type PractitionerWorkingHours,
} from './working-hours.js';

const RXNORM_SYSTEM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const TIME_ZONE_URL = 'http://hl7.org/fhir/StructureDefinition/timezone';
const DAY_MS = 24 * 60 * 60 * 1000;

let sandbox: RunningSandbox;
let token: string;
/** Instants just before and just after the seed ran, which bound the `now` it used. */
let seededAfter: Temporal.Instant;
let seededBefore: Temporal.Instant;

beforeAll(async () => {
  seededAfter = Temporal.Now.instant();
  sandbox = await startSandbox();
  seededBefore = Temporal.Now.instant();
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
    for (const practitionerId of DEMO_PRACTITIONER_IDS) {
      const scheduleId = scheduleIdFor(practitionerId);
      const schedule = await read<Schedule>(`Schedule/${scheduleId}`);
      expect(schedule.status).toBe(200);
      expect(schedule.resource.actor[0]?.reference).toBe(`Practitioner/${practitionerId}`);

      const slots = await searchAll<Slot>(
        `/Slot?schedule=Schedule/${scheduleId}&status=free&_count=100`,
      );
      expect(slots.length).toBeGreaterThan(0);
      for (const slot of slots) {
        expect(Date.parse(slot.start)).toBeGreaterThanOrEqual(seededAfter.epochMilliseconds);
        expect(slot.status).toBe('free');
        expect(Date.parse(slot.end) - Date.parse(slot.start)).toBe(30 * 60_000);
      }
    }
  });

  it('defines working hours for each practitioner', () => {
    expect(Object.keys(DEMO_WORKING_HOURS).sort()).toEqual([...DEMO_PRACTITIONER_IDS].sort());
  });

  it('seeds exactly the slots of the working hours', async () => {
    for (const workingHours of Object.values(DEMO_WORKING_HOURS)) {
      const slots = await searchSlots(workingHours);
      const ids = new Set(slots.map((slot) => slot.id));

      // The seed ran at an unknown instant between seededAfter and seededBefore, so every slot
      // generated from the later bound must be there, and none beyond the earlier bound's range.
      const latest = slotGenerationRange(workingHours.timeZone, seededAfter);
      const required = generateWorkingHourSlots(workingHours, seededBefore, latest.to);
      const earliest = slotGenerationRange(workingHours.timeZone, seededBefore);
      const allowed = new Set(
        generateWorkingHourSlots(workingHours, seededAfter, earliest.to).map((slot) => slot.id),
      );

      expect(required.length).toBeGreaterThan(500);
      for (const slot of required) {
        expect(ids.has(slot.id), slot.id).toBe(true);
      }
      for (const id of ids) {
        expect(allowed.has(id ?? ''), id).toBe(true);
      }
    }
  });

  it('extends the slots past the next DST transition', async () => {
    for (const workingHours of Object.values(DEMO_WORKING_HOURS)) {
      const slots = await searchSlots(workingHours);
      const transition = seededBefore
        .toZonedDateTimeISO(workingHours.timeZone)
        .getTimeZoneTransition('next');
      const lastStart = Date.parse(slots.at(-1)?.start ?? '');
      const offsets = new Set(
        slots.map(
          (slot) =>
            Temporal.Instant.from(slot.start).toZonedDateTimeISO(workingHours.timeZone).offset,
        ),
      );

      // Weekends have no weekday slots, so the last slot may be up to 3 days before the range end.
      expect(transition).not.toBeNull();
      expect(lastStart).toBeGreaterThan((transition?.epochMilliseconds ?? 0) + 4 * DAY_MS);
      expect(lastStart).toBeGreaterThan(seededBefore.epochMilliseconds + 57 * DAY_MS);
      expect(offsets.size, [...offsets].join(' ')).toBe(2);
    }
  });

  it('gives Dr. Okafor Sunday on-call slots', async () => {
    const okafor = DEMO_WORKING_HOURS['demo-dr-okafor'];
    const slots = await searchSlots(okafor);
    const sundayStarts = new Set(
      slots
        .map((slot) => Temporal.Instant.from(slot.start).toZonedDateTimeISO(okafor.timeZone))
        .filter((start) => start.dayOfWeek === 7)
        .map((start) => start.toPlainTime().toString({ smallestUnit: 'minute' })),
    );

    expect(sundayStarts.has('00:00')).toBe(true);
    expect(sundayStarts.has('03:30')).toBe(true);
    expect(sundayStarts.has('04:00')).toBe(false);
  });

  it('seeds the telehealth Location', async () => {
    const { status, resource } = await read<Location>(`Location/${TELEHEALTH_LOCATION_ID}`);

    expect(status).toBe(200);
    expect(resource.name).toBe('Telehealth');
    expect(resource.description).toBe('Video visits');
    expect(resource.mode).toBe('instance');
  });

  it('puts each upcoming visit on a free slot', async () => {
    const expectedLocalTimes: Record<string, string> = {
      'demo-ava': '10:00',
      'demo-marcus': '11:00',
      'demo-priya': '12:00',
    };
    for (const demo of DEMO_PATIENTS) {
      const { resource: appointment } = await read<Appointment>(
        `Appointment/${demo.id}-appointment-upcoming`,
      );
      const practitionerId = appointment.participant[1]?.actor?.reference?.split('/')[1] ?? '';
      const workingHours = DEMO_WORKING_HOURS[practitionerId as keyof typeof DEMO_WORKING_HOURS];
      const localStart = Temporal.Instant.from(appointment.start ?? '').toZonedDateTimeISO(
        workingHours.timeZone,
      );
      const slots = await searchSlots(workingHours);

      expect(localStart.toPlainTime().toString({ smallestUnit: 'minute' })).toBe(
        expectedLocalTimes[demo.id],
      );
      expect(localStart.dayOfWeek, demo.id).toBeLessThanOrEqual(5);
      expect(appointment.supportingInformation?.[0]?.reference).toBe(
        `Location/${TELEHEALTH_LOCATION_ID}`,
      );
      const covered = slots.filter((slot) => slot.start === appointment.start);
      expect(covered, demo.id).toHaveLength(1);
      expect(covered[0]?.end).toBe(appointment.end);
    }
  });
});

/** Returns every free slot of a practitioner, ordered by start. */
function searchSlots(workingHours: PractitionerWorkingHours): Promise<Slot[]> {
  return searchAll<Slot>(
    `/Slot?schedule=Schedule/${scheduleIdFor(workingHours.practitionerId)}&status=free&_sort=start&_count=100`,
  );
}

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
