import type { PatientSession } from '~/auth/session.server';
import { fetchTrackingResults } from '~/clients/fedex.server';
import { UpstreamError } from '~/clients/upstream-error.server';
import { getEnv } from '~/config/env.server';
import { getPool } from '~/db/pool.server';
import { getLogger } from '~/utils/logger.server';
import { singleton } from '~/utils/singleton.server';

import {
  parseTrackResponse,
  TrackingParseError,
  VALID_TRACKING_NUMBER,
  type TrackingResult,
} from './fedex-tracking';
import { geocodeScanLocation, type Coordinates } from './geocode.server';
import { findOwnShipment } from './shipments.server';

type FoundTracking = Extract<TrackingResult, { kind: 'found' }>;

export type ShipmentTracking =
  | {
      kind: 'found';
      tracking: FoundTracking;
      /** Coordinates of the latest known location, when it could be geocoded offline. */
      coordinates: Coordinates | null;
      /** When FedEx sent this result (ISO 8601). */
      fetchedAt: string;
      /** True when FedEx failed and this is an older cached result. */
      stale: boolean;
    }
  | { kind: 'not_available_yet'; message: string }
  | { kind: 'unavailable'; message: string };

export class TrackingNumberNotFoundError extends Error {
  override name = 'TrackingNumberNotFoundError';
}

export function isValidTrackingNumber(trackingNumber: string): boolean {
  return VALID_TRACKING_NUMBER.test(trackingNumber);
}

/**
 * Returns FedEx tracking for one of the patient's shipments. An unknown number and another
 * patient's number both throw TrackingNumberNotFoundError, so neither reveals that the other
 * exists. Fresh results come from `tracking_cache`; FedEx is asked at most once at a time per
 * number in this process, and when it fails a cached result is served as stale.
 */
export async function getShipmentTracking(
  session: PatientSession,
  trackingNumber: string,
): Promise<ShipmentTracking> {
  const shipment = await findOwnShipment(session, trackingNumber);
  if (!shipment)
    throw new TrackingNumberNotFoundError(`No shipment of this patient has that tracking number.`);

  const cached = await readCache(trackingNumber);
  if (cached && cached.fresh) return found(cached.result, cached.fetchedAt, false);

  try {
    const result = await fetchOnce(trackingNumber);
    if (result.kind === 'not_found') {
      return {
        kind: 'not_available_yet',
        message:
          'Tracking is not available yet. FedEx usually shows it within a day of the label being created.',
      };
    }

    const fetchedAt = await writeCache(trackingNumber, result);
    if (result.shipmentStatus === 'delivered' && shipment.status === 'shipped') {
      await markDelivered(shipment.id);
    }
    return found(result, fetchedAt, false);
  } catch (error) {
    if (!(error instanceof UpstreamError) && !(error instanceof TrackingParseError)) throw error;
    getLogger().error(
      {
        shipmentId: shipment.id,
        failure: error instanceof UpstreamError ? error.failure : 'parse',
      },
      'FedEx tracking failed',
    );
    if (cached) return found(cached.result, cached.fetchedAt, true);
    return {
      kind: 'unavailable',
      message:
        'Tracking is unavailable right now because FedEx did not respond. Please try again in a few minutes.',
    };
  }
}

function found(tracking: FoundTracking, fetchedAt: string, stale: boolean): ShipmentTracking {
  const location = tracking.latestLocation;
  return {
    kind: 'found',
    tracking,
    coordinates: location ? (geocodeScanLocation(location) ?? null) : null,
    fetchedAt,
    stale,
  };
}

/** Shares one FedEx request among concurrent callers for the same number in this process. */
function fetchOnce(trackingNumber: string): Promise<TrackingResult> {
  const inFlight = singleton(
    'fedex-track-in-flight',
    () => new Map<string, Promise<TrackingResult>>(),
  );
  let pending = inFlight.get(trackingNumber);
  if (!pending) {
    pending = fetchTrackingResults(trackingNumber)
      .then((body) => parseTrackResponse(body, trackingNumber))
      .finally(() => inFlight.delete(trackingNumber));
    inFlight.set(trackingNumber, pending);
  }
  return pending;
}

async function readCache(
  trackingNumber: string,
): Promise<{ result: FoundTracking; fetchedAt: string; fresh: boolean } | undefined> {
  const cached = await getPool().query<{
    payload: FoundTracking;
    fetched_at: Date;
    fresh: boolean;
  }>(
    'SELECT payload, fetched_at, expires_at > now() AS fresh FROM tracking_cache WHERE tracking_number = $1',
    [trackingNumber],
  );
  const row = cached.rows[0];
  return row
    ? { result: row.payload, fetchedAt: row.fetched_at.toISOString(), fresh: row.fresh }
    : undefined;
}

async function writeCache(trackingNumber: string, result: FoundTracking): Promise<string> {
  const written = await getPool().query<{ fetched_at: Date }>(
    `INSERT INTO tracking_cache (tracking_number, payload, fetched_at, expires_at)
     VALUES ($1, $2, now(), now() + make_interval(secs => $3))
     ON CONFLICT (tracking_number) DO UPDATE
       SET payload = EXCLUDED.payload, fetched_at = EXCLUDED.fetched_at, expires_at = EXCLUDED.expires_at
     RETURNING fetched_at`,
    [trackingNumber, JSON.stringify(result), getEnv().trackingCacheSeconds],
  );
  return (written.rows[0]?.fetched_at ?? new Date()).toISOString();
}

/** Moves a shipped shipment to delivered; the status condition makes a repeat a no-op. */
async function markDelivered(shipmentId: string): Promise<void> {
  const updated = await getPool().query(
    `UPDATE shipments SET status = 'delivered' WHERE id = $1 AND status = 'shipped'`,
    [shipmentId],
  );
  if (updated.rowCount === 1) getLogger().info({ shipmentId }, 'shipment delivered');
}
