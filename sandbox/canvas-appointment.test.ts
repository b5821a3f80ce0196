import type { WithId } from '@medplum/core';
import type { Appointment, Bundle, OperationOutcome, Slot } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ACCEPTED_APPOINTMENT_TYPES } from './canvas-appointment.js';
import { TELEHEALTH_LOCATION_ID } from './demo-resources.js';
import {
  fetchAccessToken,
  sendFhirRequest,
  startSandbox,
  type RunningSandbox,
} from './test-support.js';
import { scheduleIdFor } from './working-hours.js';

const SNOMED = 'http://snomed.info/sct';
const MEETING_ENDPOINT_ID = 'appointment-meeting-endpoint-0';

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

function postAppointment(body: unknown): Promise<Response> {
  return fhir('/Appointment', { method: 'POST', body: JSON.stringify(body) });
}

function putAppointment(id: string, body: unknown): Promise<Response> {
  return fhir(`/Appointment/${id}`, { method: 'PUT', body: JSON.stringify(body) });
}

/** Returns the id from the `Location` header of a 201. */
function createdId(response: Response): string {
  const location = response.headers.get('location') ?? '';
  return /\/Appointment\/([^/]+)\/_history\//.exec(location)?.[1] ?? '';
}

async function readAppointment(id: string): Promise<WithId<Appointment>> {
  const response = await fhir(`/Appointment/${id}`);
  expect(response.status).toBe(200);
  return (await response.json()) as WithId<Appointment>;
}

/** Returns the issues of a 422, after checking that each is a `processing` issue. */
async function expectRejected(response: Response): Promise<string[]> {
  expect(response.status, await response.clone().text()).toBe(422);
  const outcome = (await response.json()) as OperationOutcome;
  expect(outcome.resourceType).toBe('OperationOutcome');
  for (const issue of outcome.issue ?? []) {
    expect(issue.code).toBe('processing');
    expect(issue.severity).toBe('error');
  }
  return (outcome.issue ?? []).map((issue) => issue.details?.text ?? '');
}

async function searchIds(path: string): Promise<string[]> {
  const response = await fhir(path);
  expect(response.status, await response.clone().text()).toBe(200);
  const bundle = (await response.json()) as Bundle<WithId<Appointment>>;
  return (bundle.entry ?? []).map((entry) => entry.resource?.id ?? '');
}

/** Reads one free future Slot of Dr. Okafor from the seed. */
async function findFreeSlot(offset = 0): Promise<WithId<Slot>> {
  const response = await fhir(
    `/Slot?schedule=Schedule/${scheduleIdFor('demo-dr-okafor')}&status=free&_count=1&_offset=${offset}`,
  );
  const bundle = (await response.json()) as Bundle<WithId<Slot>>;
  const slot = bundle.entry?.[0]?.resource;
  if (!slot) throw new Error('The seed has no free slot for Dr. Okafor.');
  return slot;
}

/**
 * Builds a telehealth visit that Canvas accepts, for `patientId`, in 2031 so that searches by
 * date see only the test's appointments.
 */
function visit(
  patientId: string,
  start = '2031-05-05T14:00:00Z',
  end = '2031-05-05T14:30:00Z',
): Appointment {
  return {
    resourceType: 'Appointment',
    status: 'booked',
    appointmentType: {
      coding: [
        { system: SNOMED, code: '448337001', display: 'Telemedicine consultation with patient' },
      ],
    },
    description: 'Video visit',
    start,
    end,
    participant: [
      { actor: { reference: `Patient/${patientId}` }, status: 'accepted' },
      { actor: { reference: 'Practitioner/demo-dr-okafor' }, status: 'accepted' },
    ],
  };
}

describe('Appointment create', () => {
  it('stores a valid visit with 201 and an empty body', async () => {
    const response = await postAppointment(visit('appointment-create'));

    expect(response.status).toBe(201);
    expect(await response.text()).toBe('');
    const stored = await readAppointment(createdId(response));
    expect(stored.status).toBe('booked');
    expect(stored.start).toBe('2031-05-05T14:00:00Z');
  });

  it('accepts each configured appointment type', async () => {
    expect(ACCEPTED_APPOINTMENT_TYPES.map((type) => type.code)).toEqual(['448337001', '185389009']);
    for (const type of ACCEPTED_APPOINTMENT_TYPES) {
      const body = { ...visit('appointment-types'), appointmentType: { coding: [{ ...type }] } };

      const response = await postAppointment(body);

      expect(response.status, type.code).toBe(201);
    }
  });

  it('accepts a Location and a contained meeting Endpoint', async () => {
    const body: Appointment = {
      ...visit('appointment-endpoint'),
      contained: [
        {
          resourceType: 'Endpoint',
          id: MEETING_ENDPOINT_ID,
          status: 'active',
          connectionType: {
            system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type',
            code: 'https',
          },
          payloadType: [{ coding: [{ code: 'video-call' }] }],
          address: 'https://zoom.us/j/85746065432?pwd=example',
        },
      ],
      supportingInformation: [
        { reference: `Location/${TELEHEALTH_LOCATION_ID}` },
        { reference: `#${MEETING_ENDPOINT_ID}`, type: 'Endpoint' },
      ],
    };

    const response = await postAppointment(body);

    expect(response.status, await response.clone().text()).toBe(201);
    const stored = await readAppointment(createdId(response));
    expect(stored.contained?.[0]?.id).toBe(MEETING_ENDPOINT_ID);
    expect(stored.supportingInformation?.map((reference) => reference.reference)).toEqual([
      'Location/1',
      `#${MEETING_ENDPOINT_ID}`,
    ]);
  });

  it('books a free slot without changing it', async () => {
    const slot = await findFreeSlot();

    const response = await postAppointment({
      ...visit('appointment-slot', slot.start, slot.end),
      slot: [{ reference: `Slot/${slot.id}` }],
    });

    expect(response.status).toBe(201);
    const reread = await fhir(`/Slot/${slot.id}`);
    expect(((await reread.json()) as Slot).status).toBe('free');
  });

  it('allows a Location among the participants', async () => {
    const body = visit('appointment-location-actor');
    body.participant.push({ actor: { reference: 'Location/1' }, status: 'accepted' });

    const response = await postAppointment(body);

    expect(response.status).toBe(201);
  });
});

describe('Appointment rules', () => {
  it('rejects a missing appointment type', async () => {
    const body = { ...visit('appointment-no-type'), appointmentType: undefined };

    const [text] = await expectRejected(await postAppointment(body));

    expect(text).toContain('Appointment.appointmentType is missing');
    expect(text).toContain('448337001');
  });

  it('rejects an unknown appointment type', async () => {
    const body = {
      ...visit('appointment-bad-type'),
      appointmentType: { coding: [{ system: SNOMED, code: '11429006', display: 'Consultation' }] },
    };

    const [text] = await expectRejected(await postAppointment(body));

    expect(text).toContain('http://snomed.info/sct|11429006');
    expect(text).toContain('185389009');
  });

  it('rejects the right code in another system', async () => {
    const body = {
      ...visit('appointment-bad-system'),
      appointmentType: { coding: [{ system: 'http://example.com/codes', code: '448337001' }] },
    };

    await expectRejected(await postAppointment(body));
  });

  it('rejects a visit without a patient', async () => {
    const body = visit('appointment-no-patient');
    body.participant = body.participant.slice(1);

    const [text] = await expectRejected(await postAppointment(body));

    expect(text).toContain('exactly one actor of the form Patient/<id>, but it has 0');
  });

  it('rejects a visit with two patients', async () => {
    const body = visit('appointment-two-patients');
    body.participant.push({ actor: { reference: 'Patient/demo-marcus' }, status: 'accepted' });

    const [text] = await expectRejected(await postAppointment(body));

    expect(text).toContain('but it has 2');
  });

  it('rejects a visit without a practitioner', async () => {
    const body = visit('appointment-no-practitioner');
    body.participant = body.participant.slice(0, 1);

    const [text] = await expectRejected(await postAppointment(body));

    expect(text).toContain('at least one actor of the form Practitioner/<id>');
  });

  it('rejects a missing start or end', async () => {
    for (const element of ['start', 'end'] as const) {
      const body: Appointment = visit(`appointment-no-${element}`);
      delete body[element];

      const texts = await expectRejected(await postAppointment(body));

      expect(texts).toEqual([
        `Appointment.${element} is missing. Canvas requires start and end on every appointment.`,
      ]);
    }
  });

  it('rejects a proposed visit without times', async () => {
    const body = {
      ...visit('appointment-proposed'),
      status: 'proposed',
      start: undefined,
      end: undefined,
    };

    const texts = await expectRejected(await postAppointment(body));

    expect(texts).toHaveLength(2);
  });

  it('rejects an end that is not after the start', async () => {
    for (const end of ['2031-05-05T13:30:00Z', '2031-05-05T14:00:00Z']) {
      const body = visit('appointment-backwards', '2031-05-05T14:00:00Z', end);

      const [text] = await expectRejected(await postAppointment(body));

      expect(text).toBe(
        `Appointment.end (${end}) must be after Appointment.start (2031-05-05T14:00:00Z).`,
      );
    }
  });

  it('compares start and end across offsets', async () => {
    const body = visit('appointment-offsets', '2031-05-05T10:00:00-04:00', '2031-05-05T13:50:00Z');

    const [text] = await expectRejected(await postAppointment(body));

    expect(text).toContain('must be after');
  });

  it('rejects a start that is not an instant', async () => {
    const body = visit('appointment-date-only', '2031-05-05', '2031-05-05T14:30:00Z');

    const [text] = await expectRejected(await postAppointment(body));

    expect(text).toContain('Appointment.start "2031-05-05" is not a FHIR instant');
  });

  it('rejects a slot that does not exist', async () => {
    const body = {
      ...visit('appointment-missing-slot'),
      slot: [{ reference: 'Slot/no-such-slot' }],
    };

    const [text] = await expectRejected(await postAppointment(body));

    expect(text).toContain('Slot/no-such-slot, which does not exist, so the slot is rejected');
  });

  it('rejects a slot that is not free', async () => {
    const slot = await findFreeSlot(5);
    const busy = await fhir(`/Slot/${slot.id}`, {
      method: 'PUT',
      body: JSON.stringify({ ...slot, status: 'busy' }),
    });
    expect(busy.status).toBe(200);

    const body = {
      ...visit('appointment-busy-slot', slot.start, slot.end),
      slot: [{ reference: `Slot/${slot.id}` }],
    };
    const [text] = await expectRejected(await postAppointment(body));

    expect(text).toContain(
      `Slot/${slot.id}, whose status is busy and not free, so the slot is rejected`,
    );
  });

  it('rejects a slot reference of another type', async () => {
    const body = { ...visit('appointment-slot-type'), slot: [{ reference: 'Schedule/x' }] };

    const [text] = await expectRejected(await postAppointment(body));

    expect(text).toContain('Appointment.slot[0] must be a reference of the form Slot/<id>');
  });

  it('rejects a reference to a missing contained resource', async () => {
    const body = {
      ...visit('appointment-missing-contained'),
      supportingInformation: [{ reference: '#meeting' }],
    };

    const [text] = await expectRejected(await postAppointment(body));

    expect(text).toContain(
      'Appointment.supportingInformation[0] refers to the contained resource "#meeting"',
    );
  });

  it('rejects a Location that does not exist', async () => {
    const body = {
      ...visit('appointment-missing-location'),
      supportingInformation: [{ reference: 'Location/999' }],
    };

    const [text] = await expectRejected(await postAppointment(body));

    expect(text).toContain('Location/999, which does not exist');
  });

  it('lists every broken rule at once', async () => {
    const body = {
      ...visit('appointment-many-problems', '2031-05-05T15:00:00Z', '2031-05-05T14:00:00Z'),
      appointmentType: { text: 'Video' },
      participant: [{ actor: { reference: 'Practitioner/demo-dr-okafor' }, status: 'accepted' }],
      slot: [{ reference: 'Slot/no-such-slot' }],
    };

    const texts = await expectRejected(await postAppointment(body));

    expect(texts).toHaveLength(4);
  });

  it('stores nothing for a rejected create', async () => {
    const body = { ...visit('appointment-not-stored'), appointmentType: undefined };

    await expectRejected(await postAppointment(body));

    expect(await searchIds('/Appointment?patient=Patient/appointment-not-stored')).toEqual([]);
  });

  it('returns 400 for structural errors', async () => {
    const response = await postAppointment({
      ...visit('appointment-structure'),
      unknownElement: 1,
    });

    expect(response.status).toBe(400);
  });
});

describe('Appointment update', () => {
  it('reschedules a visit', async () => {
    const id = createdId(await postAppointment(visit('appointment-reschedule')));
    const stored = await readAppointment(id);

    const response = await putAppointment(id, {
      ...stored,
      start: '2031-05-06T15:00:00Z',
      end: '2031-05-06T15:30:00Z',
    });

    expect(response.status).toBe(200);
    const updated = await readAppointment(id);
    expect(updated.start).toBe('2031-05-06T15:00:00Z');
    expect(updated.meta?.versionId).not.toBe(stored.meta?.versionId);
  });

  it('cancels a visit with a reason', async () => {
    const id = createdId(await postAppointment(visit('appointment-cancel')));
    const stored = await readAppointment(id);

    const response = await putAppointment(id, {
      ...stored,
      status: 'cancelled',
      cancelationReason: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason',
            code: 'pat',
            display: 'Patient',
          },
        ],
        text: 'Patient cancelled in the portal',
      },
    });

    expect(response.status).toBe(200);
    const updated = await readAppointment(id);
    expect(updated.status).toBe('cancelled');
    expect(updated.cancelationReason?.text).toBe('Patient cancelled in the portal');
  });

  it('rejects an update that breaks a rule', async () => {
    const id = createdId(await postAppointment(visit('appointment-bad-update')));
    const stored = await readAppointment(id);

    const response = await putAppointment(id, { ...stored, end: stored.start });

    await expectRejected(response);
    expect((await readAppointment(id)).end).toBe(stored.end);
  });

  it('applies the rules to a create under a given id', async () => {
    const body = { ...visit('appointment-put-new'), appointmentType: undefined };

    await expectRejected(
      await putAppointment('appointment-put-new', { ...body, id: 'appointment-put-new' }),
    );
    expect((await fhir('/Appointment/appointment-put-new')).status).toBe(404);
  });
});

describe('Appointment search', () => {
  it('finds practitioner visits by date', async () => {
    const inside = createdId(
      await postAppointment(
        visit('appointment-search-a', '2032-02-02T15:00:00Z', '2032-02-02T15:30:00Z'),
      ),
    );
    createdId(
      await postAppointment(
        visit('appointment-search-b', '2032-02-03T15:00:00Z', '2032-02-03T15:30:00Z'),
      ),
    );

    const ids = await searchIds(
      '/Appointment?practitioner=Practitioner/demo-dr-okafor&date=ge2032-02-02T00:00:00Z&date=lt2032-02-03T00:00:00Z',
    );

    expect(ids).toEqual([inside]);
  });

  it('sorts patient visits by date', async () => {
    const later = createdId(
      await postAppointment(
        visit('appointment-sort', '2032-03-10T15:00:00Z', '2032-03-10T15:30:00Z'),
      ),
    );
    const earlier = createdId(
      await postAppointment(
        visit('appointment-sort', '2032-03-09T15:00:00Z', '2032-03-09T15:30:00Z'),
      ),
    );
    createdId(
      await postAppointment(
        visit('appointment-sort', '2031-01-01T15:00:00Z', '2031-01-01T15:30:00Z'),
      ),
    );

    const ids = await searchIds(
      '/Appointment?patient=Patient/appointment-sort&date=ge2032-01-01T00:00:00.000Z&_sort=date',
    );

    expect(ids).toEqual([earlier, later]);
  });

  it('filters by status', async () => {
    const booked = createdId(await postAppointment(visit('appointment-status')));
    const cancelledId = createdId(await postAppointment(visit('appointment-status')));
    const cancelled = await readAppointment(cancelledId);
    await putAppointment(cancelledId, { ...cancelled, status: 'cancelled' });

    const ids = await searchIds('/Appointment?patient=Patient/appointment-status&status=booked');

    expect(ids).toEqual([booked]);
  });

  it('finds the seeded upcoming visit of a demo patient', async () => {
    const ids = await searchIds(
      `/Appointment?patient=Patient/demo-ava&date=ge${new Date().toISOString()}&status=booked&_sort=date`,
    );

    expect(ids).toEqual(['demo-ava-appointment-upcoming']);
  });
});
