import { describe, expect, it } from 'vitest';

import { geocodeScanLocation } from './geocode.server';

describe('geocodeScanLocation', () => {
  it('finds a US postal code', () => {
    const coordinates = geocodeScanLocation({ postalCode: '38118', city: 'MEMPHIS', state: 'TN' });
    expect(coordinates?.latitude).toBeCloseTo(35.05, 1);
    expect(coordinates?.longitude).toBeCloseTo(-89.93, 1);
  });

  it('accepts ZIP+4', () => {
    expect(geocodeScanLocation({ postalCode: '38118-1234' })).toBeDefined();
  });

  it('falls back to city and state', () => {
    const coordinates = geocodeScanLocation({ city: 'Indianapolis', state: 'IN' });
    expect(coordinates?.latitude).toBeCloseTo(39.8, 0);
  });

  it('gives up on an unknown place', () => {
    expect(
      geocodeScanLocation({ postalCode: '00000', city: 'Nowhere', state: 'ZZ' }),
    ).toBeUndefined();
    expect(geocodeScanLocation({})).toBeUndefined();
  });
});
