import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import type { Dosage, MedicationRequest } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';

import {
  describeDosage,
  describeDosageInstructions,
  NO_DOSAGE_DETAILS,
  NO_DOSAGE_INSTRUCTIONS,
} from './dosage-text';

const FIXTURES_DIR = path.resolve(import.meta.dirname, '../../../shared/fixtures/fhir-r4');
const SNOMED = 'http://snomed.info/sct';
const GTS = 'http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation';
const GARBAGE = ['undefined', 'null', 'NaN', '[object', '{', 'function'];

const ORAL = { coding: [{ system: SNOMED, code: '26643006', display: 'Oral route' }] };
const ONE_TABLET: Dosage['doseAndRate'] = [{ doseQuantity: { value: 1, unit: 'tablet' } }];

function readRequest(file: string): MedicationRequest {
  return JSON.parse(readFileSync(path.join(FIXTURES_DIR, file), 'utf8')) as MedicationRequest;
}

/** Drops the free-text fields so the sentence is built from the structured ones. */
function structuredOnly(dosage: Dosage): Dosage {
  const structured = withoutText(dosage);
  delete structured.patientInstruction;
  return structured;
}

function withoutText(dosage: Dosage): Dosage {
  const copy = { ...dosage };
  delete copy.text;
  return copy;
}

function expectReadable(sentence: string, context: string): void {
  expect(sentence.trim(), context).not.toBe('');
  for (const garbage of GARBAGE) {
    expect(sentence, `${context} contains ${garbage}`).not.toContain(garbage);
  }
}

interface DosageCase {
  name: string;
  dosage: Dosage;
  expected: string;
}

/** Builds a dosage of one tablet by mouth with `repeat`, so each case varies only the timing. */
function oralTabletWith(repeat: NonNullable<Dosage['timing']>['repeat']): Dosage {
  return { doseAndRate: ONE_TABLET, route: ORAL, timing: { repeat } };
}

describe('describeDosage', () => {
  it('builds the example sentence', () => {
    const dosage: Dosage = {
      doseAndRate: [{ doseQuantity: { value: 1, unit: 'tablet' } }],
      route: { coding: [{ system: SNOMED, code: '26643006', display: 'Oral route' }] },
      timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' } },
      asNeededCodeableConcept: { text: 'pain' },
    };
    expect(describeDosage(dosage)).toBe('Take 1 tablet by mouth twice daily as needed for pain.');
  });

  const frequencyCases: DosageCase[] = [
    {
      name: 'once daily',
      dosage: oralTabletWith({ frequency: 1, period: 1, periodUnit: 'd' }),
      expected: 'Take 1 tablet by mouth once daily.',
    },
    {
      name: 'frequency defaults to once',
      dosage: oralTabletWith({ period: 1, periodUnit: 'd' }),
      expected: 'Take 1 tablet by mouth once daily.',
    },
    {
      name: '3 times daily',
      dosage: oralTabletWith({ frequency: 3, period: 1, periodUnit: 'd' }),
      expected: 'Take 1 tablet by mouth 3 times daily.',
    },
    {
      name: 'every 8 hours',
      dosage: oralTabletWith({ frequency: 1, period: 8, periodUnit: 'h' }),
      expected: 'Take 1 tablet by mouth every 8 hours.',
    },
    {
      name: 'every hour',
      dosage: oralTabletWith({ frequency: 1, period: 1, periodUnit: 'h' }),
      expected: 'Take 1 tablet by mouth every hour.',
    },
    {
      name: 'every other day',
      dosage: oralTabletWith({ frequency: 1, period: 2, periodUnit: 'd' }),
      expected: 'Take 1 tablet by mouth every other day.',
    },
    {
      name: 'once weekly',
      dosage: oralTabletWith({ frequency: 1, period: 1, periodUnit: 'wk' }),
      expected: 'Take 1 tablet by mouth once weekly.',
    },
    {
      name: 'twice monthly',
      dosage: oralTabletWith({ frequency: 2, period: 1, periodUnit: 'mo' }),
      expected: 'Take 1 tablet by mouth twice monthly.',
    },
    {
      name: 'every 3 weeks',
      dosage: oralTabletWith({ frequency: 1, period: 3, periodUnit: 'wk' }),
      expected: 'Take 1 tablet by mouth every 3 weeks.',
    },
    {
      name: 'frequency range',
      dosage: oralTabletWith({ frequency: 1, frequencyMax: 2, period: 1, periodUnit: 'd' }),
      expected: 'Take 1 tablet by mouth 1 to 2 times daily.',
    },
    {
      name: 'period range',
      dosage: oralTabletWith({ frequency: 1, period: 4, periodMax: 6, periodUnit: 'h' }),
      expected: 'Take 1 tablet by mouth every 4 to 6 hours.',
    },
    {
      name: 'several times per period',
      dosage: oralTabletWith({ frequency: 3, period: 2, periodUnit: 'd' }),
      expected: 'Take 1 tablet by mouth 3 times every 2 days.',
    },
    {
      name: 'twice every 2 weeks',
      dosage: oralTabletWith({ frequency: 2, period: 2, periodUnit: 'wk' }),
      expected: 'Take 1 tablet by mouth twice every 2 weeks.',
    },
    {
      name: 'invalid period unit shown',
      dosage: oralTabletWith({
        frequency: 1,
        period: 1,
        // A value outside the FHIR code list, as a server that skips validation could send.
        periodUnit: 'fortnight' as 'd',
      }),
      expected: 'Take 1 tablet by mouth once every 1 fortnight.',
    },
    {
      name: 'administration duration',
      dosage: {
        doseAndRate: [{ doseQuantity: { value: 500, unit: 'mg' } }],
        route: { text: 'Intravenous' },
        timing: {
          repeat: { frequency: 1, period: 6, periodUnit: 'h', duration: 30, durationUnit: 'min' },
        },
      },
      expected: 'Inject 500 mg into a vein every 6 hours over 30 minutes.',
    },
  ];

  const whenCases: DosageCase[] = [
    {
      name: 'bedtime',
      dosage: oralTabletWith({ frequency: 1, period: 1, periodUnit: 'd', when: ['HS'] }),
      expected: 'Take 1 tablet by mouth once daily at bedtime.',
    },
    {
      name: 'meals',
      dosage: oralTabletWith({ frequency: 2, period: 1, periodUnit: 'd', when: ['CM', 'CV'] }),
      expected: 'Take 1 tablet by mouth twice daily with breakfast and with dinner.',
    },
    {
      name: 'before breakfast with offset',
      dosage: oralTabletWith({ when: ['ACM'], offset: 30 }),
      expected: 'Take 1 tablet by mouth 30 minutes before breakfast.',
    },
    {
      name: 'after meals with offset',
      dosage: oralTabletWith({ when: ['PC'], offset: 60 }),
      expected: 'Take 1 tablet by mouth 60 minutes after meals.',
    },
    {
      name: 'waking, morning and night',
      dosage: oralTabletWith({ when: ['WAKE', 'MORN', 'NIGHT'] }),
      expected: 'Take 1 tablet by mouth on waking, in the morning and at night.',
    },
    {
      name: 'unknown event shown',
      dosage: oralTabletWith({ when: ['XMAS' as 'HS'] }),
      expected: 'Take 1 tablet by mouth XMAS.',
    },
    {
      name: 'prototype name as event',
      dosage: oralTabletWith({ when: ['constructor' as 'HS'] }),
      expected: 'Take 1 tablet by mouth constructor.',
    },
    {
      name: 'days of week',
      dosage: oralTabletWith({
        frequency: 1,
        period: 1,
        periodUnit: 'wk',
        dayOfWeek: ['mon', 'thu'],
      }),
      expected: 'Take 1 tablet by mouth once weekly on Monday and Thursday.',
    },
    {
      name: 'times of day',
      dosage: oralTabletWith({ timeOfDay: ['08:00:00', '20:00:00'] }),
      expected: 'Take 1 tablet by mouth at 08:00 and 20:00.',
    },
  ];

  const boundsCases: DosageCase[] = [
    {
      name: 'bounds duration',
      dosage: oralTabletWith({
        frequency: 1,
        period: 1,
        periodUnit: 'd',
        boundsDuration: { value: 10, unit: 'days', code: 'd' },
      }),
      expected: 'Take 1 tablet by mouth once daily for 10 days.',
    },
    {
      name: 'bounds duration in words',
      dosage: oralTabletWith({ boundsDuration: { value: 2, unit: 'weeks' } }),
      expected: 'Take 1 tablet by mouth for 2 weeks.',
    },
    {
      name: 'bounds range',
      dosage: oralTabletWith({
        boundsRange: { low: { value: 5, code: 'd' }, high: { value: 7, code: 'd' } },
      }),
      expected: 'Take 1 tablet by mouth for 5 to 7 days.',
    },
    {
      name: 'bounds period',
      dosage: oralTabletWith({ boundsPeriod: { start: '2015-01-16', end: '2015-01-20' } }),
      expected: 'Take 1 tablet by mouth from Jan 16, 2015 to Jan 20, 2015.',
    },
    {
      name: 'bounds period end',
      dosage: oralTabletWith({ boundsPeriod: { end: '2015-01-20T10:00:00Z' } }),
      expected: 'Take 1 tablet by mouth until Jan 20, 2015.',
    },
    {
      name: 'malformed bounds period',
      dosage: oralTabletWith({ boundsPeriod: { start: '2015-13-45' } }),
      expected: 'Take 1 tablet by mouth.',
    },
    {
      name: 'count',
      dosage: oralTabletWith({ frequency: 1, period: 4, periodUnit: 'h', count: 6 }),
      expected: 'Take 1 tablet by mouth every 4 hours for 6 doses.',
    },
    {
      name: 'single dose',
      dosage: oralTabletWith({ count: 1 }),
      expected: 'Take 1 tablet by mouth as a single dose.',
    },
  ];

  const doseCases: DosageCase[] = [
    {
      name: 'dose range',
      dosage: {
        doseAndRate: [
          { doseRange: { low: { value: 1, code: 'TAB' }, high: { value: 2, code: 'TAB' } } },
        ],
        route: ORAL,
      },
      expected: 'Take 1 to 2 tablets by mouth.',
    },
    {
      name: 'dose range high only',
      dosage: { doseAndRate: [{ doseRange: { high: { value: 10, unit: 'mL' } } }], route: ORAL },
      expected: 'Take up to 10 mL by mouth.',
    },
    {
      name: 'rate quantity',
      dosage: {
        doseAndRate: [
          { doseQuantity: { value: 400, unit: 'mg' }, rateQuantity: { value: 7.5, unit: 'ml/h' } },
        ],
        route: { coding: [{ system: SNOMED, code: '47625008' }] },
      },
      expected: 'Inject 400 mg into a vein at 7.5 mL/h.',
    },
    {
      name: 'rate ratio',
      dosage: {
        doseAndRate: [
          {
            doseQuantity: { value: 1000, unit: 'mL' },
            rateRatio: {
              numerator: { value: 50, code: 'mL' },
              denominator: { value: 1, code: 'h' },
            },
          },
        ],
        route: { coding: [{ system: SNOMED, code: '255560000', display: 'Intravenous' }] },
      },
      expected: 'Inject 1,000 mL into a vein at 50 mL per hour.',
    },
    {
      name: 'rate range in minutes',
      dosage: {
        doseAndRate: [
          {
            doseQuantity: { value: 2, unit: 'mg' },
            rateRange: { low: { value: 2, code: 'min' }, high: { value: 5, code: 'min' } },
          },
        ],
        route: { text: 'IV' },
      },
      expected: 'Inject 2 mg into a vein over 2 to 5 minutes.',
    },
    {
      name: 'ordered entry preferred',
      dosage: {
        doseAndRate: [
          { type: { coding: [{ code: 'calculated' }] }, doseQuantity: { value: 250, unit: 'mg' } },
          { type: { coding: [{ code: 'ordered' }] }, doseQuantity: { value: 5, unit: 'mL' } },
        ],
        route: ORAL,
      },
      expected: 'Take 5 mL by mouth.',
    },
    {
      name: 'type-only entry with route',
      dosage: {
        doseAndRate: [{ type: { coding: [{ code: 'ordered', display: 'Ordered' }] } }],
        route: { coding: [{ system: SNOMED, code: '6064005', display: 'Topical Route' }] },
        timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } },
      },
      expected: 'Apply topically once daily.',
    },
    {
      name: 'type-only entry alone',
      dosage: { doseAndRate: [{ type: { coding: [{ code: 'ordered' }] } }] },
      expected: NO_DOSAGE_DETAILS,
    },
  ];

  const routeCases: DosageCase[] = [
    {
      name: 'oral by text',
      dosage: { doseAndRate: ONE_TABLET, route: { text: 'Oral' } },
      expected: 'Take 1 tablet by mouth.',
    },
    {
      name: 'subcutaneous by display',
      dosage: {
        doseAndRate: [{ doseQuantity: { value: 20, code: 'U' } }],
        route: { coding: [{ display: 'Subcutaneous route' }] },
      },
      expected: 'Inject 20 units under the skin.',
    },
    {
      name: 'intramuscular',
      dosage: {
        doseAndRate: [{ doseQuantity: { value: 500, unit: 'mg' } }],
        route: { coding: [{ system: SNOMED, code: '78421000' }] },
      },
      expected: 'Inject 500 mg into a muscle.',
    },
    {
      name: 'ophthalmic',
      dosage: {
        doseAndRate: [{ doseQuantity: { value: 1, code: 'OPDROP' } }],
        route: { coding: [{ system: SNOMED, code: '54485002' }] },
      },
      expected: 'Use 1 drop in the eye.',
    },
    {
      name: 'unknown route',
      dosage: {
        doseAndRate: [{ doseQuantity: { value: 5, unit: 'mL' } }],
        route: { text: 'Gastrostomy Tube' },
      },
      expected: 'Use 5 mL via gastrostomy tube.',
    },
    {
      name: 'patch without route',
      dosage: { doseAndRate: [{ doseQuantity: { value: 1, code: 'patch' } }] },
      expected: 'Apply 1 patch.',
    },
    {
      name: 'no route',
      dosage: { doseAndRate: [{ doseQuantity: { value: 7, unit: 'mg' } }] },
      expected: 'Take 7 mg.',
    },
  ];

  const asNeededCases: DosageCase[] = [
    {
      name: 'as needed boolean',
      dosage: { doseAndRate: ONE_TABLET, route: ORAL, asNeededBoolean: true },
      expected: 'Take 1 tablet by mouth as needed.',
    },
    {
      name: 'as needed false',
      dosage: { doseAndRate: ONE_TABLET, route: ORAL, asNeededBoolean: false },
      expected: 'Take 1 tablet by mouth.',
    },
    {
      name: 'as needed display lower-cased',
      dosage: {
        doseAndRate: ONE_TABLET,
        route: ORAL,
        asNeededCodeableConcept: {
          coding: [{ system: SNOMED, code: '297217002', display: 'Rib Pain (finding)' }],
        },
      },
      expected: 'Take 1 tablet by mouth as needed for rib pain.',
    },
    {
      name: 'as needed acronym kept',
      dosage: { doseAndRate: ONE_TABLET, route: ORAL, asNeededCodeableConcept: { text: 'GERD' } },
      expected: 'Take 1 tablet by mouth as needed for GERD.',
    },
    {
      name: 'as needed code only',
      dosage: {
        doseAndRate: ONE_TABLET,
        route: ORAL,
        asNeededCodeableConcept: { coding: [{ system: SNOMED, code: '297217002' }] },
      },
      expected: 'Take 1 tablet by mouth as needed for code 297217002.',
    },
  ];

  const timingCodeCases: DosageCase[] = [
    {
      name: 'timing code BID',
      dosage: {
        doseAndRate: ONE_TABLET,
        route: ORAL,
        timing: { code: { coding: [{ system: GTS, code: 'BID' }] } },
      },
      expected: 'Take 1 tablet by mouth twice daily.',
    },
    {
      name: 'timing code QD over its display',
      dosage: {
        doseAndRate: ONE_TABLET,
        route: ORAL,
        timing: { code: { coding: [{ system: GTS, code: 'QD', display: 'QD' }] } },
      },
      expected: 'Take 1 tablet by mouth once daily.',
    },
    {
      name: 'timing code Q8H',
      dosage: {
        doseAndRate: ONE_TABLET,
        route: ORAL,
        timing: { code: { coding: [{ code: 'Q8H' }] } },
      },
      expected: 'Take 1 tablet by mouth every 8 hours.',
    },
    {
      name: 'timing code AM',
      dosage: {
        doseAndRate: ONE_TABLET,
        route: ORAL,
        timing: { code: { coding: [{ system: GTS, code: 'AM' }] } },
      },
      expected: 'Take 1 tablet by mouth every morning.',
    },
    {
      name: 'timing code text wins',
      dosage: {
        doseAndRate: ONE_TABLET,
        route: ORAL,
        timing: { code: { text: 'with each meal', coding: [{ system: GTS, code: 'TID' }] } },
      },
      expected: 'Take 1 tablet by mouth with each meal.',
    },
    {
      name: 'unknown timing code display',
      dosage: {
        doseAndRate: ONE_TABLET,
        route: ORAL,
        timing: {
          code: { coding: [{ system: 'urn:example', code: 'X7', display: 'on dialysis days' }] },
        },
      },
      expected: 'Take 1 tablet by mouth on dialysis days.',
    },
    {
      name: 'unknown timing code only',
      dosage: {
        doseAndRate: ONE_TABLET,
        route: ORAL,
        timing: { code: { coding: [{ system: GTS, code: 'Q3D' }] } },
      },
      expected: 'Take 1 tablet by mouth Q3D.',
    },
    {
      name: 'repeat wins over timing code',
      dosage: {
        doseAndRate: ONE_TABLET,
        route: ORAL,
        timing: {
          code: { coding: [{ system: GTS, code: 'BID' }] },
          repeat: { frequency: 2, period: 1, periodUnit: 'd', when: ['CM', 'CV'] },
        },
      },
      expected: 'Take 1 tablet by mouth twice daily with breakfast and with dinner.',
    },
  ];

  const maxDoseCases: DosageCase[] = [
    {
      name: 'max per period',
      dosage: {
        doseAndRate: ONE_TABLET,
        route: ORAL,
        asNeededBoolean: true,
        maxDosePerPeriod: {
          numerator: { value: 4, code: 'TAB' },
          denominator: { value: 24, code: 'h' },
        },
      },
      expected: 'Take 1 tablet by mouth as needed, no more than 4 tablets per 24 hours.',
    },
    {
      name: 'max per day',
      dosage: {
        doseAndRate: [{ doseQuantity: { value: 240, unit: 'mg' } }],
        maxDosePerPeriod: {
          numerator: { value: 720, code: 'mg' },
          denominator: { value: 1, code: 'd' },
        },
      },
      expected: 'Take 240 mg, no more than 720 mg per day.',
    },
    {
      name: 'max per dose and lifetime',
      dosage: {
        doseAndRate: [{ doseQuantity: { value: 2, unit: 'mg' } }],
        route: { text: 'Intravenous' },
        maxDosePerAdministration: { value: 4, unit: 'mg' },
        maxDosePerLifetime: { value: 400, unit: 'mg' },
      },
      expected: 'Inject 2 mg into a vein, no more than 4 mg per dose and 400 mg in total.',
    },
    {
      name: 'max only',
      dosage: { maxDosePerAdministration: { value: 4, unit: 'mg' } },
      expected: 'Take no more than 4 mg per dose.',
    },
  ];

  const freeTextCases: DosageCase[] = [
    {
      name: 'patient instruction wins',
      dosage: {
        patientInstruction: 'Take one tablet with breakfast.',
        text: '1 tab PO qAM',
        doseAndRate: ONE_TABLET,
      },
      expected: 'Take one tablet with breakfast.',
    },
    {
      name: 'text wins over sentence',
      dosage: { text: ' 1 tab PO qAM ', doseAndRate: ONE_TABLET, route: ORAL },
      expected: '1 tab PO qAM',
    },
    {
      name: 'blank instructions ignored',
      dosage: { patientInstruction: ' ', text: '', doseAndRate: ONE_TABLET, route: ORAL },
      expected: 'Take 1 tablet by mouth.',
    },
    { name: 'empty dosage', dosage: {}, expected: NO_DOSAGE_DETAILS },
    { name: 'sequence only', dosage: { sequence: 1 }, expected: NO_DOSAGE_DETAILS },
    { name: 'empty timing', dosage: { timing: { repeat: {} } }, expected: NO_DOSAGE_DETAILS },
  ];

  describe.each([
    { group: 'frequency', cases: frequencyCases },
    { group: 'when', cases: whenCases },
    { group: 'bounds', cases: boundsCases },
    { group: 'dose and rate', cases: doseCases },
    { group: 'route', cases: routeCases },
    { group: 'as needed', cases: asNeededCases },
    { group: 'timing code', cases: timingCodeCases },
    { group: 'max dose', cases: maxDoseCases },
    { group: 'free text', cases: freeTextCases },
  ])('$group', ({ cases }) => {
    it.each(cases)('$name', ({ dosage, expected }) => {
      expect(describeDosage(dosage)).toBe(expected);
    });
  });
});

describe('describeDosageInstructions', () => {
  it.each([
    { name: 'missing list', dosages: undefined },
    { name: 'empty list', dosages: [] },
  ])('placeholder for $name', ({ dosages }) => {
    expect(describeDosageInstructions(dosages)).toEqual([NO_DOSAGE_INSTRUCTIONS]);
  });

  it('orders by sequence', () => {
    const lines = describeDosageInstructions([
      { text: 'third, no sequence' },
      { sequence: 2, text: 'second' },
      { sequence: 1, text: 'first' },
      { sequence: 2, text: 'second, listed later' },
    ]);
    expect(lines).toEqual(['first', 'second', 'second, listed later', 'third, no sequence']);
  });

  it('orders fixture medrx0321', () => {
    const request = readRequest('medicationrequest0321.json');
    expect(describeDosageInstructions(request.dosageInstruction)).toEqual([
      '20 units before dinner',
      'inject 10 units subcut 10 minutes before breakfast',
      '15 units before lunch',
    ]);
  });

  it('describes empty dosages', () => {
    expect(describeDosageInstructions([{}, { text: '  ' }])).toEqual([
      NO_DOSAGE_DETAILS,
      NO_DOSAGE_DETAILS,
    ]);
  });
});

describe('dosage sentences of the FHIR R4 examples', () => {
  const requestFiles = readdirSync(FIXTURES_DIR)
    .filter((file) => /^medicationrequest.*\.json$/.test(file))
    .sort();

  it('finds all 40 MedicationRequests', () => {
    expect(requestFiles).toHaveLength(40);
  });

  it.each(requestFiles)('%s without text', (file) => {
    const dosages = readRequest(file).dosageInstruction ?? [];
    const lines = [
      ...describeDosageInstructions(dosages.map(withoutText)),
      ...describeDosageInstructions(dosages.map(structuredOnly)),
    ];
    for (const [index, line] of lines.entries()) expectReadable(line, `${file} line ${index}`);
  });

  it.each([
    {
      file: 'medicationrequest0301.json',
      expected: 'Take 1 to 2 tablets by mouth every 4 to 6 hours as needed for rib pain.',
    },
    {
      file: 'medicationrequest0315.json',
      expected:
        'Inject 0.05 to 0.1 mg/kg into a vein over 2 to 5 minutes every 15 minutes as needed.',
    },
    {
      file: 'medicationrequest0316.json',
      expected:
        'Inject 1.8 mg/kg into a vein at 1.8 mg/kg per 20 minutes every 3 weeks for 16 doses, no more than 400 mg in total.',
    },
    {
      file: 'medicationrequest0324.json',
      expected: 'Take 240 mg twice daily as needed for fever, no more than 720 mg per day.',
    },
    {
      file: 'medicationrequest0327.json',
      expected: 'Apply 1 patch 3 times weekly.',
    },
    {
      file: 'medicationrequest0334.json',
      expected: 'Take 1 dose 4 times daily on Monday.',
    },
    {
      file: 'medicationrequest0335.json',
      expected: 'Take 1 dose at 09:00.',
    },
    {
      file: 'medicationrequestexample1.json',
      expected: 'Take 1 tablet by mouth once daily.',
    },
    {
      file: 'medicationrequestexample2.json',
      expected: NO_DOSAGE_DETAILS,
    },
  ])('builds $file', ({ file, expected }) => {
    const dosage = readRequest(file).dosageInstruction?.[0];
    expect(dosage).toBeDefined();
    expect(describeDosage(structuredOnly(dosage ?? {}))).toBe(expected);
  });

  it('builds medrx0321 offset', () => {
    const dosage = readRequest('medicationrequest0321.json').dosageInstruction?.[0];
    expect(describeDosage(structuredOnly(dosage ?? {}))).toBe(
      'Take 10 units once daily 10 minutes before breakfast.',
    );
  });

  it('keeps medrx0301 patient instruction', () => {
    const dosage = readRequest('medicationrequest0301.json').dosageInstruction?.[0];
    expect(describeDosage(dosage ?? {})).toBe(
      'Take one to two tablets every four to six hours as needed for rib pain',
    );
  });
});

describe('describeDosage incomplete timing', () => {
  it.each([
    [{ frequency: 3 }, '3 times (how often was not given; ask your pharmacist)'],
    [
      { frequency: 3, period: 0, periodUnit: 'd' as const },
      '3 times (how often was not given; ask your pharmacist)',
    ],
  ])('keeps frequency %j', (repeat, expected) => {
    const sentence = describeDosage({
      doseAndRate: [{ doseQuantity: { value: 1, unit: 'tablet' } }],
      timing: { repeat },
    });
    expect(sentence).toContain(expected);
  });
});

describe('describeDosage bad doses', () => {
  it.each([0, -2])('leaves out a dose of %d', (value) => {
    const sentence = describeDosage({
      doseAndRate: [{ doseQuantity: { value, unit: 'tablet' } }],
      timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } },
    });
    expect(sentence).not.toContain(String(value));
    expect(sentence).toContain('once daily');
  });
});
