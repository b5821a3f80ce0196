import { describe, expect, it } from 'vitest';

import { DEMO_PATIENTS } from '../../sandbox/demo-data';

import { scanLogs, seededSensitiveValues, sensitiveValuesOf } from './log-scan';
import type { SensitiveValue } from './portal-logs';

const AVA: SensitiveValue[] = [
  { label: 'given name of Patient/demo-ava', kind: 'word', value: 'Ava' },
  { label: 'email of Patient/demo-ava', kind: 'email', value: 'ava.reyes@example.com' },
  { label: 'sign-in code', kind: 'word', value: '482913' },
  {
    label: 'message text',
    kind: 'text',
    value: 'Could I take my "tablet" in the evening instead of the morning?',
  },
  { label: 'cookie portal_session', kind: 'token', value: 'b3BhcXVlLXNlc3Npb24tdmFsdWU' },
];

function scanLine(line: string, values: SensitiveValue[] = AVA): string[] {
  return scanLogs([{ file: 'portal.log', lines: [line] }], values).map((finding) => finding.label);
}

describe('scanLogs', () => {
  it('finds a given name', () => {
    const findings = scanLogs(
      [{ file: 'portal.log', lines: ['{"msg":"request"}', '{"msg":"signed in","name":"Ava"}'] }],
      AVA,
    );

    expect(findings).toEqual([
      { file: 'portal.log', line: 2, label: 'given name of Patient/demo-ava' },
    ]);
  });

  it('ignores a name inside an id or a word', () => {
    expect(scanLine('{"patientId":"demo-ava","msg":"Available slots listed"}')).toEqual([]);
  });

  it('finds an email in any case', () => {
    expect(scanLine('{"to":"AVA.REYES@Example.com"}')).toEqual(['email of Patient/demo-ava']);
  });

  it('finds a code only as a whole number', () => {
    expect(scanLine('{"time":1748291348291300}')).toEqual([]);
    expect(scanLine('{"detail":"code 482913 rejected"}')).toEqual(['sign-in code']);
  });

  it('finds message text cut short and JSON-escaped', () => {
    expect(scanLine('{"text":"Could I take my \\"tablet\\" in the evening inst…"}')).toEqual([
      'message text',
    ]);
  });

  it('finds a recorded token and any JWT', () => {
    expect(scanLine('{"cookie":"b3BhcXVlLXNlc3Npb24tdmFsdWU"}')).toEqual(['cookie portal_session']);
    expect(
      scanLine('{"auth":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vLWF2YSJ9.c2lnbmF0dXJlLWJ5dGVz"}'),
    ).toEqual(['a JWT']);
  });

  it('passes a request line without personal data', () => {
    const line =
      '{"level":30,"time":1748291348291,"pid":4242,"service":"patient-portal","requestId":"3f0c8d52-8f7e-4c1b-9d55-7c1f0f4f2a10","method":"GET","path":"/shipments/track/:number","status":200,"durationMs":12,"msg":"request"}';

    expect(scanLine(line)).toEqual([]);
  });
});

describe('seededSensitiveValues', () => {
  it('covers every demo patient', async () => {
    const values = (await seededSensitiveValues()).map((value) => value.value);

    for (const patient of DEMO_PATIENTS) {
      expect(values).toContain(patient.givenName);
      expect(values).toContain(patient.email);
    }
    expect(values).toContain('Reyes');
    expect(values).toContain('1988-04-12');
    expect(values).toContain('Apr 12, 1988');
    expect(values).toContain('April 12, 1988');
    expect(values).toContain('Could I take my tablet in the evening instead of the morning?');
  });
});

describe('sensitiveValuesOf', () => {
  it('skips a name that is the patient id', () => {
    const values = sensitiveValuesOf({
      resourceType: 'Patient',
      id: 'test-patient-7',
      name: [{ given: ['Test'], family: 'test-patient-7' }],
    });

    expect(values).toEqual([
      { label: 'given name of Patient/test-patient-7', kind: 'word', value: 'Test' },
    ]);
  });
});
