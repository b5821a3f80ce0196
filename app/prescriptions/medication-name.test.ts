import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import type {
  CodeableConcept,
  Medication,
  MedicationRequest,
  Quantity,
  Ratio,
} from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';

import {
  formatQuantity,
  formatRatio,
  MEDICATION_NAME_UNAVAILABLE,
  type MedicationName,
  nameFromCodeableConcept,
  nameFromDisplay,
  nameFromMedication,
  RXNORM_SYSTEM,
} from './medication-name';

const FIXTURES_DIR = path.resolve(import.meta.dirname, '../../../shared/fixtures/fhir-r4');
const SNOMED = 'http://snomed.info/sct';
const NDC = 'http://hl7.org/fhir/sid/ndc';
const UCUM = 'http://unitsofmeasure.org';

function readFixture<T>(file: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURES_DIR, file), 'utf8')) as T;
}

function containedMedication(requestFile: string): Medication {
  const request = readFixture<MedicationRequest>(requestFile);
  const id = request.medicationReference?.reference?.slice(1);
  const medication = request.contained?.find((resource) => resource.id === id);
  if (medication?.resourceType !== 'Medication') {
    throw new Error(`${requestFile} has no contained Medication #${id}`);
  }
  return medication;
}

/** Names the medication of a MedicationRequest the way the prescription list resolves it. */
function nameOfRequest(request: MedicationRequest): MedicationName {
  if (request.medicationCodeableConcept) {
    return nameFromCodeableConcept(request.medicationCodeableConcept);
  }
  const reference = request.medicationReference?.reference ?? '';
  if (reference.startsWith('#')) {
    const medication = request.contained?.find((resource) => `#${resource.id}` === reference);
    return nameFromMedication(medication?.resourceType === 'Medication' ? medication : undefined);
  }
  // The only external reference in the fixtures is Medication/med0316.
  expect(reference).toBe('Medication/med0316');
  return nameFromMedication(readFixture<Medication>('medicationexample0316.json'));
}

describe('nameFromCodeableConcept', () => {
  const cases: { name: string; concept: CodeableConcept | undefined; expected: MedicationName }[] =
    [
      {
        name: 'RxNorm display without text',
        concept: {
          coding: [
            {
              system: RXNORM_SYSTEM,
              code: '313782',
              display: 'Acetaminophen 325 MG Oral Tablet',
            },
          ],
        },
        expected: {
          text: 'Acetaminophen 325 MG Oral Tablet',
          code: {
            system: RXNORM_SYSTEM,
            code: '313782',
            display: 'Acetaminophen 325 MG Oral Tablet',
          },
          unavailable: false,
        },
      },
      {
        name: 'text wins over displays',
        concept: {
          text: 'Tylenol 325 mg tablet',
          coding: [{ system: RXNORM_SYSTEM, code: '313782', display: 'Acetaminophen 325 MG' }],
        },
        expected: {
          text: 'Tylenol 325 mg tablet',
          code: { system: RXNORM_SYSTEM, code: '313782', display: 'Acetaminophen 325 MG' },
          unavailable: false,
        },
      },
      {
        name: 'RxNorm display wins over earlier display',
        concept: {
          coding: [
            { system: NDC, code: '50580-506-02', display: 'Tylenol PM' },
            { system: RXNORM_SYSTEM, code: '1092189', display: 'Acetaminophen / Diphenhydramine' },
          ],
        },
        expected: {
          text: 'Acetaminophen / Diphenhydramine',
          code: {
            system: RXNORM_SYSTEM,
            code: '1092189',
            display: 'Acetaminophen / Diphenhydramine',
          },
          unavailable: false,
        },
      },
      {
        name: 'first display when RxNorm has none',
        concept: {
          coding: [
            { system: RXNORM_SYSTEM, code: '1092189' },
            { system: NDC, code: '50580-506-02', display: 'Tylenol PM' },
          ],
        },
        expected: {
          text: 'Tylenol PM',
          code: { system: RXNORM_SYSTEM, code: '1092189' },
          unavailable: false,
        },
      },
      {
        name: 'RxNorm code-only placeholder',
        concept: { coding: [{ system: RXNORM_SYSTEM, code: '12345' }] },
        expected: {
          text: 'Medication name unavailable (RxNorm code 12345)',
          code: { system: RXNORM_SYSTEM, code: '12345' },
          unavailable: true,
        },
      },
      {
        name: 'SNOMED code-only placeholder',
        concept: { coding: [{ system: SNOMED, code: '430127000' }] },
        expected: {
          text: 'Medication name unavailable (SNOMED CT code 430127000)',
          code: { system: SNOMED, code: '430127000' },
          unavailable: true,
        },
      },
      {
        name: 'unknown system code-only placeholder',
        concept: { coding: [{ system: 'urn:oid:2.16.840.1.113883.6.69', code: 'X1' }] },
        expected: {
          text: 'Medication name unavailable (code X1)',
          code: { system: 'urn:oid:2.16.840.1.113883.6.69', code: 'X1' },
          unavailable: true,
        },
      },
      {
        name: 'blank strings count as missing',
        concept: {
          text: '   ',
          coding: [{ system: RXNORM_SYSTEM, code: ' 12345 ', display: ' ' }],
        },
        expected: {
          text: 'Medication name unavailable (RxNorm code 12345)',
          code: { system: RXNORM_SYSTEM, code: '12345' },
          unavailable: true,
        },
      },
      {
        name: 'whitespace trimmed',
        concept: { text: '  Lisinopril 10 mg tablet \n' },
        expected: { text: 'Lisinopril 10 mg tablet', unavailable: false },
      },
      {
        name: 'SNOMED semantic tag dropped',
        concept: {
          coding: [{ system: SNOMED, code: '430127000', display: 'Oral Form Oxycodone (product)' }],
        },
        expected: {
          text: 'Oral Form Oxycodone',
          code: { system: SNOMED, code: '430127000', display: 'Oral Form Oxycodone (product)' },
          unavailable: false,
        },
      },
      {
        name: 'empty concept',
        concept: {},
        expected: { text: MEDICATION_NAME_UNAVAILABLE, unavailable: true },
      },
      {
        name: 'missing concept',
        concept: undefined,
        expected: { text: MEDICATION_NAME_UNAVAILABLE, unavailable: true },
      },
    ];

  it.each(cases)('$name', ({ concept, expected }) => {
    expect(nameFromCodeableConcept(concept)).toEqual(expected);
  });
});

describe('nameFromDisplay', () => {
  it.each([
    {
      display: ' Dopamine 400mg in 500mL D5W ',
      expected: { text: 'Dopamine 400mg in 500mL D5W', unavailable: false },
    },
    { display: '  ', expected: { text: MEDICATION_NAME_UNAVAILABLE, unavailable: true } },
    { display: undefined, expected: { text: MEDICATION_NAME_UNAVAILABLE, unavailable: true } },
  ])('display $display', ({ display, expected }) => {
    expect(nameFromDisplay(display)).toEqual(expected);
  });
});

describe('nameFromMedication', () => {
  it.each([
    {
      file: 'medicationexample0317.json',
      expected:
        'Potassium Chloride 2 mEq/mL / Sodium Chloride 0.9% injectable solution 0.9 g/100 mL — injection solution',
    },
    {
      file: 'medicationexample0318.json',
      expected:
        'Clinimix 4.25/10 sulfite-free (4.25% Amino Acid in 10% Dextrose) Injection, 1000ml' +
        ' / TPN Electrolytes SODIUM CHLORIDE, CALCIUM CHLORIDE, POTASSIUM CHLORIDE, MAGNESIUM CHLORIDE,' +
        ' and SODIUM ACETATE ANHYDROUS | INJECTION, SOLUTION, CONCENTRATE | 321 mg/20mL, 331 mg/20mL,' +
        ' 1491 mg/20mL, 508 mg/20mL, 2420 mg/20mL / Intralipid 20% IV Fat Emulsion — injection emulsion',
    },
    {
      file: 'medicationexample0319.json',
      expected: 'Salicyclic Acid 5% / Hydrocortisone 1% / White Petrolatum 94% — ointment',
    },
  ])('ingredients and form of $file', ({ file, expected }) => {
    const name = nameFromMedication(readFixture<Medication>(file));
    expect(name.text).toBe(expected);
    expect(name.unavailable).toBe(false);
    expect(name.code).toBeUndefined();
  });

  it.each([
    {
      requestFile: 'medicationrequest0322.json',
      expected:
        'Potassium Chloride 2 mEq/mL / Sodium Chloride 0.9% injectable solution 0.9 g/100 mL — injection solution',
    },
    {
      requestFile: 'medicationrequest0329.json',
      // The fixture gives the second ingredient the display "Salicyclic Acid" under the
      // hydrocortisone code, and the name shows the data as it is.
      expected: 'Salicyclic Acid 5% / Salicyclic Acid 1% / White Petrolatum 94% — ointment',
    },
    {
      requestFile: 'medicationrequest0336.json',
      expected:
        'Dopamine 400 mg/500 mL / Dextrose 5% injection USP 5 g/100 mL — injection solution',
    },
    {
      requestFile: 'medicationrequest0337.json',
      expected:
        'Dopamine 400 mg/500 mL / Dextrose 5% injection USP 5 g/100 mL — injection solution',
    },
    {
      requestFile: 'medicationrequest0338.json',
      expected:
        'Dopamine 400 mg/500 mL / Dextrose 5% injection USP 5 g/100 mL — injection solution',
    },
  ])('contained Medication of $requestFile', ({ requestFile, expected }) => {
    const name = nameFromMedication(containedMedication(requestFile));
    expect(name.text).toBe(expected);
    expect(name.unavailable).toBe(false);
  });

  it('code wins over ingredients', () => {
    const name = nameFromMedication(readFixture<Medication>('medicationexample0316.json'));
    expect(name).toEqual({
      text: 'Chlorthalidone 50mg tablet',
      code: {
        system: SNOMED,
        code: '317935006',
        display: 'Chlorthalidone 50mg tablet (product)',
      },
      unavailable: false,
    });
  });

  it('code-only Medication named from ingredients', () => {
    const name = nameFromMedication({
      resourceType: 'Medication',
      code: { coding: [{ system: RXNORM_SYSTEM, code: '12345' }] },
      ingredient: [{ itemCodeableConcept: { text: 'Amoxicillin' } }],
    });
    expect(name).toEqual({
      text: 'Amoxicillin',
      code: { system: RXNORM_SYSTEM, code: '12345' },
      unavailable: false,
    });
  });

  it('ingredient reference display', () => {
    const name = nameFromMedication({
      resourceType: 'Medication',
      form: { text: 'Oral Tablet' },
      ingredient: [
        {
          itemReference: { reference: 'Substance/1', display: 'Amoxicillin' },
          strength: {
            numerator: { value: 500, unit: 'mg' },
            denominator: { value: 1, code: 'TAB' },
          },
        },
      ],
    });
    expect(name.text).toBe('Amoxicillin 500 mg per tablet — oral tablet');
  });

  it('ingredient from contained Substance', () => {
    const name = nameFromMedication({
      resourceType: 'Medication',
      contained: [
        { resourceType: 'Substance', id: 'sub1', code: { text: 'Chlorthalidone (substance)' } },
      ],
      ingredient: [{ itemReference: { reference: '#sub1' } }],
    });
    expect(name.text).toBe('Chlorthalidone');
  });

  it('code-only ingredient listed by code', () => {
    const name = nameFromMedication({
      resourceType: 'Medication',
      ingredient: [
        { itemCodeableConcept: { text: 'Dopamine' } },
        { itemCodeableConcept: { coding: [{ system: NDC, code: '0264751010' }] } },
      ],
    });
    expect(name.text).toBe('Dopamine / NDC code 0264751010');
    expect(name.unavailable).toBe(false);
  });

  it.each<{ name: string; medication: Medication | undefined; expected: MedicationName }>([
    {
      name: 'only code-only ingredients',
      medication: {
        resourceType: 'Medication',
        ingredient: [{ itemCodeableConcept: { coding: [{ system: NDC, code: '0264751010' }] } }],
      },
      expected: { text: MEDICATION_NAME_UNAVAILABLE, unavailable: true },
    },
    {
      name: 'form only',
      medication: { resourceType: 'Medication', form: { text: 'Ointment' } },
      expected: { text: MEDICATION_NAME_UNAVAILABLE, unavailable: true },
    },
    {
      name: 'code-only without ingredients',
      medication: {
        resourceType: 'Medication',
        code: { coding: [{ system: RXNORM_SYSTEM, code: '12345' }] },
      },
      expected: {
        text: 'Medication name unavailable (RxNorm code 12345)',
        code: { system: RXNORM_SYSTEM, code: '12345' },
        unavailable: true,
      },
    },
    {
      name: 'missing Medication',
      medication: undefined,
      expected: { text: MEDICATION_NAME_UNAVAILABLE, unavailable: true },
    },
  ])('placeholder for $name', ({ medication, expected }) => {
    expect(nameFromMedication(medication)).toEqual(expected);
  });
});

describe('formatRatio', () => {
  const cases: { name: string; ratio: Ratio | undefined; expected: string | undefined }[] = [
    {
      name: 'denominator of 1 dropped',
      ratio: { numerator: { value: 5, unit: 'mg' }, denominator: { value: 1, unit: 'mL' } },
      expected: '5 mg/mL',
    },
    {
      name: 'UCUM units from code',
      ratio: {
        numerator: { value: 100, system: UCUM, code: 'U' },
        denominator: { value: 1, system: UCUM, code: 'mL' },
      },
      expected: '100 units/mL',
    },
    {
      name: 'denominator other than 1',
      ratio: { numerator: { value: 0.9, code: 'g' }, denominator: { value: 100, code: 'mL' } },
      expected: '0.9 g/100 mL',
    },
    {
      name: 'same unit over 100 as percent',
      ratio: { numerator: { value: 5, code: 'g' }, denominator: { value: 100, code: 'g' } },
      expected: '5%',
    },
    {
      name: 'float noise hidden',
      ratio: { numerator: { value: 0.1 + 0.2, unit: 'mg' }, denominator: { value: 1, unit: 'mL' } },
      expected: '0.3 mg/mL',
    },
    {
      name: 'UCUM meq spelled mEq',
      ratio: { numerator: { value: 2, code: 'meq' }, denominator: { value: 1, code: 'mL' } },
      expected: '2 mEq/mL',
    },
    {
      name: 'count denominator',
      ratio: { numerator: { value: 50, code: 'mg' }, denominator: { value: 1, code: 'TAB' } },
      expected: '50 mg per tablet',
    },
    {
      name: 'time denominator',
      ratio: { numerator: { value: 100, code: 'mL' }, denominator: { value: 1, code: 'h' } },
      expected: '100 mL per hour',
    },
    {
      name: 'time denominator other than 1',
      ratio: { numerator: { value: 1.8, code: 'mg/kg' }, denominator: { value: 20, code: 'min' } },
      expected: '1.8 mg/kg per 20 minutes',
    },
    {
      name: 'missing denominator',
      ratio: { numerator: { value: 5, unit: 'mg' } },
      expected: '5 mg',
    },
    {
      name: 'numerator without value',
      ratio: { numerator: { unit: 'mg' }, denominator: { value: 1, unit: 'mL' } },
      expected: undefined,
    },
    { name: 'missing ratio', ratio: undefined, expected: undefined },
  ];

  it.each(cases)('$name', ({ ratio, expected }) => {
    expect(formatRatio(ratio)).toBe(expected);
  });
});

describe('formatQuantity', () => {
  const cases: { name: string; quantity: Quantity | undefined; expected: string | undefined }[] = [
    { name: 'one tablet', quantity: { value: 1, unit: 'TAB' }, expected: '1 tablet' },
    { name: 'plural tablets', quantity: { value: 2, code: 'TAB' }, expected: '2 tablets' },
    { name: 'half tablet singular', quantity: { value: 0.5, code: 'TAB' }, expected: '0.5 tablet' },
    { name: 'decimal mL', quantity: { value: 2.5, unit: 'mL' }, expected: '2.5 mL' },
    { name: 'thousands separator', quantity: { value: 1000, unit: 'mg' }, expected: '1,000 mg' },
    { name: 'UCUM annotation', quantity: { value: 2, code: '{puff}' }, expected: '2 puffs' },
    { name: 'ug as mcg', quantity: { value: 4, unit: 'ug/kg/min' }, expected: '4 mcg/kg/min' },
    {
      name: 'comparator',
      quantity: { value: 4, unit: 'mg', comparator: '<=' },
      expected: 'up to 4 mg',
    },
    { name: 'no unit', quantity: { value: 2 }, expected: '2' },
    {
      name: 'prototype name as unit',
      quantity: { value: 1, unit: 'constructor' },
      expected: '1 constructor',
    },
    { name: 'NaN value', quantity: { value: Number.NaN, unit: 'mg' }, expected: undefined },
    { name: 'no value', quantity: { unit: 'mg' }, expected: undefined },
    { name: 'missing quantity', quantity: undefined, expected: undefined },
  ];

  it.each(cases)('$name', ({ quantity, expected }) => {
    expect(formatQuantity(quantity)).toBe(expected);
  });
});

describe('medication names of the FHIR R4 examples', () => {
  const requestFiles = readdirSync(FIXTURES_DIR)
    .filter((file) => /^medicationrequest.*\.json$/.test(file))
    .sort();

  it('finds all 40 MedicationRequests', () => {
    expect(requestFiles).toHaveLength(40);
  });

  // Every example names its medication somewhere, so none should fall back to the placeholder.
  it.each(requestFiles)('%s', (file) => {
    const name = nameOfRequest(readFixture<MedicationRequest>(file));
    expect(name.text.trim()).not.toBe('');
    expect(name.unavailable).toBe(false);
    expect(name.text).not.toContain(MEDICATION_NAME_UNAVAILABLE);
    for (const garbage of ['undefined', 'null', 'NaN', '[object', '{']) {
      expect(name.text, `contains ${garbage}`).not.toContain(garbage);
    }
  });
});
