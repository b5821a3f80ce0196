import { describe, expect, it } from 'vitest';

import {
  isKnownStatus,
  isVisibleToPatient,
  type MedicationRequestStatus,
  PRESCRIPTION_STATUS_LABELS,
  statusLabel,
} from './prescription-status';

const STATUS_CASES: { status: MedicationRequestStatus; label: string; visible: boolean }[] = [
  { status: 'active', label: 'Active', visible: true },
  { status: 'on-hold', label: 'On hold', visible: true },
  { status: 'cancelled', label: 'Cancelled', visible: true },
  { status: 'completed', label: 'Completed', visible: true },
  { status: 'entered-in-error', label: 'Entered in error', visible: false },
  { status: 'stopped', label: 'Stopped', visible: true },
  { status: 'draft', label: 'Draft', visible: true },
  { status: 'unknown', label: 'Status unknown', visible: true },
];

describe('prescription status', () => {
  it('labels every status code', () => {
    expect(Object.keys(PRESCRIPTION_STATUS_LABELS).sort()).toEqual(
      STATUS_CASES.map(({ status }) => status).sort(),
    );
  });

  it.each(STATUS_CASES)('status $status', ({ status, label, visible }) => {
    expect(statusLabel(status)).toBe(label);
    expect(isKnownStatus(status)).toBe(true);
    expect(isVisibleToPatient(status)).toBe(visible);
  });

  it.each([
    { name: 'unlisted code', status: 'revoked' },
    { name: 'wrong case', status: 'Active' },
    { name: 'padded code', status: ' active ' },
    { name: 'prototype name', status: 'toString' },
    { name: 'proto key', status: '__proto__' },
    { name: 'empty string', status: '' },
    { name: 'missing status', status: undefined },
  ])('$name', ({ status }) => {
    expect(statusLabel(status)).toBe('Status unknown');
    expect(isKnownStatus(status)).toBe(false);
    expect(isVisibleToPatient(status)).toBe(true);
  });
});
