import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';

import {
  firstNameOf,
  formatAddress,
  formatHumanName,
  pickHumanName,
  pickTelecom,
} from './fhir-format';

const FIXTURES_DIR = path.resolve(import.meta.dirname, '../../../shared/fixtures/fhir-r4');

function readPatientFixture(file: string): Patient {
  return JSON.parse(readFileSync(path.join(FIXTURES_DIR, file), 'utf8')) as Patient;
}

describe('FHIR name helpers', () => {
  it('picks the official name of the FHIR example patient', () => {
    const patient = readPatientFixture('patient-example.json');
    const name = pickHumanName(patient.name);
    expect(name?.use).toBe('official');
    expect(formatHumanName(name)).toBe('Peter James Chalmers');
    expect(firstNameOf(name)).toBe('Peter');
  });

  it('skips a name whose period has ended', () => {
    const name = pickHumanName(
      [
        { use: 'official', given: ['Old'], period: { end: '2000-01-01' } },
        { use: 'usual', given: ['Current'] },
      ],
      new Date('2026-01-01'),
    );
    expect(firstNameOf(name)).toBe('Current');
  });

  it('falls back to text when there are no parts', () => {
    expect(formatHumanName({ text: 'Ana María López' })).toBe('Ana María López');
    expect(firstNameOf({ text: 'Ana María López' })).toBe('Ana');
    expect(formatHumanName(undefined)).toBeUndefined();
  });
});

describe('FHIR contact helpers', () => {
  it('reads the phone and address of the FHIR example patient', () => {
    const patient = readPatientFixture('patient-example.json');
    expect(pickTelecom(patient.telecom, 'phone')).toBe('(03) 5555 6473');
    expect(formatAddress(patient.address?.[0])).toEqual([
      '534 Erewhon St',
      'PleasantVille, Vic 3999',
    ]);
  });

  it('prefers the lowest rank and skips old contact points', () => {
    expect(
      pickTelecom(
        [
          { system: 'email', value: 'old@example.com', use: 'old', rank: 1 },
          { system: 'email', value: 'second@example.com', rank: 2 },
          { system: 'email', value: 'first@example.com', rank: 1 },
        ],
        'email',
      ),
    ).toBe('first@example.com');
  });
});
