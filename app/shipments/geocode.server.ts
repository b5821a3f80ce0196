import zipcodes from 'zipcodes';

export interface Coordinates {
  latitude: number;
  longitude: number;
}

/**
 * Turns a carrier scan location into coordinates offline, from the `zipcodes` package's US and
 * Canadian postal-code table, so no geocoding service receives patient shipment data. Tries the
 * postal code, then city and state. Returns undefined when neither is known.
 */
export function geocodeScanLocation(location: {
  postalCode?: string;
  city?: string;
  state?: string;
}): Coordinates | undefined {
  const postalCode = location.postalCode?.trim().slice(0, 5);
  const byPostalCode = postalCode ? zipcodes.lookup(postalCode) : undefined;
  if (byPostalCode) return { latitude: byPostalCode.latitude, longitude: byPostalCode.longitude };

  const city = location.city?.trim();
  const state = location.state?.trim();
  if (!city || !state) return undefined;

  const [byName] = zipcodes.lookupByName(city, state);
  return byName ? { latitude: byName.latitude, longitude: byName.longitude } : undefined;
}
