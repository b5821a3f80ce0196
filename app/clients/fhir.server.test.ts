import type { Bundle } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';

import { parseIdFromLocation, resolveNextLink } from './fhir.server';

describe('parseIdFromLocation', () => {
  it.each([
    ['https://fhir.example.com/Communication/abc-1/_history/1', 'abc-1'],
    ['Communication/abc-2/_history/7', 'abc-2'],
    ['/sandbox/fhir/Communication/abc-3', 'abc-3'],
    ['https://fhir.example.com/Communication/abc%2F4?x=1', 'abc/4'],
  ])('reads the id from %s', (location, id) => {
    expect(parseIdFromLocation(location, 'Communication')).toBe(id);
  });

  it('returns undefined without a Location', () => {
    expect(parseIdFromLocation(null, 'Communication')).toBeUndefined();
    expect(
      parseIdFromLocation('https://fhir.example.com/Patient/1', 'Communication'),
    ).toBeUndefined();
  });
});

describe('resolveNextLink', () => {
  const current = 'https://fhir.example.com/api/Patient?_count=10';

  it('resolves a relative next link', () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      link: [{ relation: 'next', url: '/api/Patient?_count=10&_offset=10' }],
    };
    expect(resolveNextLink(bundle, current)).toBe(
      'https://fhir.example.com/api/Patient?_count=10&_offset=10',
    );
  });

  it('keeps an absolute next link', () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      link: [{ relation: 'next', url: 'https://other.example.com/Patient?page=2' }],
    };
    expect(resolveNextLink(bundle, current)).toBe('https://other.example.com/Patient?page=2');
  });

  it('returns undefined on the last page', () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      link: [{ relation: 'self', url: current }],
    };
    expect(resolveNextLink(bundle, current)).toBeUndefined();
  });
});
