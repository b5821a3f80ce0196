import type { MedicationRequest } from '@medplum/fhirtypes';
import { describe, expect, it, vi } from 'vitest';

import { describeMedication, describeMedicationRequest } from './prescriptions.server';
import { ReferenceCache } from './reference-cache.server';

function request(extra: Partial<MedicationRequest>): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id: 'rx-1',
    status: 'active',
    intent: 'order',
    subject: { reference: 'Patient/p1' },
    medicationCodeableConcept: { text: 'Amoxicillin 500 mg capsule' },
    requester: { display: 'Dr. Rivera' },
    dosageInstruction: [{ text: 'Take 1 capsule three times daily.' }],
    authoredOn: '2026-03-01',
    ...extra,
  };
}

/** None of these requests reference a resource on a server, so the cache is never read. */
const describeAlone = (medicationRequest: MedicationRequest) =>
  describeMedicationRequest(medicationRequest, new ReferenceCache());

describe('describeMedicationRequest bad data', () => {
  it('names a request with no medication', async () => {
    const prescription = await describeAlone(request({ medicationCodeableConcept: undefined }));
    expect(prescription.medication.unavailable).toBe(true);
    expect(prescription.medication.text).toBe('Medication name unavailable');
  });

  it('drops a malformed authoredOn', async () => {
    for (const authoredOn of [
      '2015-13-45',
      'yesterday',
      '2015-02-30T25:00',
      '2023-02-29',
      '2015-04-31',
    ]) {
      const prescription = await describeAlone(request({ authoredOn }));
      expect(prescription.dateWritten, authoredOn).toBeNull();
    }
  });

  it('keeps valid FHIR dates as sent', async () => {
    for (const authoredOn of ['2015', '2015-01', '2015-01-15', '2015-01-15T10:30:00+01:00']) {
      const prescription = await describeAlone(request({ authoredOn }));
      expect(prescription.dateWritten, authoredOn).toBe(authoredOn);
    }
  });

  it('labels an unknown status', async () => {
    const prescription = await describeAlone(
      request({ status: 'paused' as MedicationRequest['status'] }),
    );
    expect(prescription.status).toEqual({ code: 'unknown', label: 'Status unknown' });
  });

  it('falls back to the requester display', async () => {
    const prescription = await describeAlone(request({}));
    expect(prescription.prescriber).toEqual({
      name: 'Dr. Rivera',
      npi: undefined,
      unavailable: false,
    });
  });

  it('marks a missing requester', async () => {
    const prescription = await describeAlone(request({ requester: undefined }));
    expect(prescription.prescriber).toMatchObject({
      name: 'Prescriber unavailable',
      unavailable: true,
    });
  });

  it('reads a contained Medication', async () => {
    const prescription = await describeAlone(
      request({
        medicationCodeableConcept: undefined,
        medicationReference: { reference: '#med1' },
        contained: [
          { resourceType: 'Medication', id: 'med1', code: { text: 'Warfarin 5 mg tablet' } },
        ],
      }),
    );
    expect(prescription.medication.text).toBe('Warfarin 5 mg tablet');
  });

  it('uses the reference display alone', async () => {
    const prescription = await describeAlone(
      request({
        medicationCodeableConcept: undefined,
        medicationReference: { display: 'Metformin 500 mg' },
      }),
    );
    expect(prescription.medication.text).toBe('Metformin 500 mg');
  });

  it('summarises refills from dispenseRequest', async () => {
    const prescription = await describeAlone(
      request({
        dispenseRequest: {
          numberOfRepeatsAllowed: 3,
          quantity: { value: 30, unit: 'TAB' },
          expectedSupplyDuration: { value: 30, unit: 'days', code: 'd' },
        },
      }),
    );
    expect(prescription.refills).toEqual({ allowed: 3, quantity: '30 TAB', supplyDays: 30 });
  });
});

describe('describeMedication', () => {
  it('reads no prescriber', async () => {
    const cache = new ReferenceCache();
    const read = vi.spyOn(cache, 'read');

    const described = await describeMedication(
      request({ requester: { reference: 'Practitioner/dr-rivera' } }),
      cache,
    );

    expect(read).not.toHaveBeenCalled();
    expect(described).toEqual({
      medication: expect.objectContaining({ text: 'Amoxicillin 500 mg capsule' }) as unknown,
      dosage: ['Take 1 capsule three times daily.'],
      status: { code: 'active', label: 'Active' },
    });
  });
});
