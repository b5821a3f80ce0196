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
 * exists. Fresh results come from `tracking_cache`. Concurrent requests for one number in this
 * process share one FedEx call, and when FedEx fails a cached result is served as stale.
 * NOTE: the sharing is per process; two portal processes may each call FedEx once.
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

  const refresh = refreshOnce(trackingNumber, shipment);
  try {
    if (!cached) return describeRefreshed(await refresh);

    // With a cached result in hand, a slow FedEx gets a short wait, then the patient gets the
    // older result while the refresh goes on and fills the cache.
    const outcome = await Promise.race([refresh, waitForStaleCutoff()]);
    if (outcome !== STALE_CUTOFF) return describeRefreshed(outcome);
    refresh.catch(() => undefined);
    return found(cached.result, cached.fetchedAt, true);
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
        'Tracking is unavailable right now because FedEx could not be reached. Please try again in a few minutes.',
    };
  }
}

function describeRefreshed({ result, fetchedAt }: Refreshed): ShipmentTracking {
  if (result.kind === 'found') return found(result, fetchedAt, false);
  return {
    kind: 'not_available_yet',
    message:
      'Tracking is not available yet. FedEx usually shows it within a day of the label being created.',
  };
}

/** How long a request with a cached result waits for FedEx before serving the cached one. */
const STALE_CUTOFF_MS = 2_000;
const STALE_CUTOFF = Symbol('stale cutoff');

function waitForStaleCutoff(): Promise<typeof STALE_CUTOFF> {
  return new Promise((resolve) => setTimeout(() => resolve(STALE_CUTOFF), STALE_CUTOFF_MS));
}

interface Refreshed {
  result: TrackingResult;
  fetchedAt: string;
}

/**
 * Asks FedEx, stores a found result in the cache and applies a delivery, as one shared
 * operation: concurrent callers for the number in this process wait for the same one, and the
 * next caller finds the cache already written.
 */
function refreshOnce(
  trackingNumber: string,
  shipment: { id: string; status: string },
): Promise<Refreshed> {
  const inFlight = singleton('fedex-track-in-flight', () => new Map<string, Promise<Refreshed>>());
  let pending = inFlight.get(trackingNumber);
  if (!pending) {
    pending = refresh(trackingNumber, shipment).finally(() => inFlight.delete(trackingNumber));
    inFlight.set(trackingNumber, pending);
  }
  return pending;
}

async function refresh(
  trackingNumber: string,
  shipment: { id: string; status: string },
): Promise<Refreshed> {
  // A caller that read the cache just before another refresh finished would call FedEx again.
  const cachedNow = await readCache(trackingNumber);
  if (cachedNow?.fresh) return { result: cachedNow.result, fetchedAt: cachedNow.fetchedAt };

  const result = parseTrackResponse(await fetchTrackingResults(trackingNumber), trackingNumber);
  if (result.kind === 'not_found') return { result, fetchedAt: new Date().toISOString() };

  const fetchedAt = await writeCache(trackingNumber, result);
  if (result.shipmentStatus === 'delivered' && shipment.status === 'shipped') {
    await markDelivered(shipment.id, result.deliveredAt);
  }
  return { result, fetchedAt };
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

/**
 * Moves a shipped shipment to delivered at FedEx's delivery time (now when FedEx gave none); the
 * status condition makes a repeat a no-op.
 */
async function markDelivered(shipmentId: string, deliveredAt: string | undefined): Promise<void> {
  const updated = await getPool().query(
    `UPDATE shipments SET status = 'delivered', status_changed_at = COALESCE($2::timestamptz, now())
     WHERE id = $1 AND status = 'shipped'`,
    [shipmentId, deliveredAt ?? null],
  );
  if (updated.rowCount === 1) getLogger().info({ shipmentId }, 'shipment delivered');
}

/** Maximum shipped shipments one check sends to FedEx, so a run stays short. */
const DELIVERY_CHECK_BATCH = 50;

/**
 * Requests FedEx tracking for shipped shipments whose cached result is stale, so that a delivery
 * is recorded (and the database trigger makes its notification) even when the patient never
 * opens the tracking page. Returns how many shipments FedEx reported delivered.
 */
export async function checkShippedDeliveries(): Promise<number> {
  const result = await getPool().query<{ id: string; tracking_number: string; status: string }>(
    `SELECT s.id, s.tracking_number, s.status FROM shipments s
     LEFT JOIN tracking_cache c ON c.tracking_number = s.tracking_number
     WHERE s.status = 'shipped' AND s.tracking_number IS NOT NULL
       AND (c.expires_at IS NULL OR c.expires_at <= now())
     ORDER BY s.status_changed_at
     LIMIT $1`,
    [DELIVERY_CHECK_BATCH],
  );

  let delivered = 0;
  for (const shipment of result.rows) {
    try {
      const refreshed = await refreshOnce(shipment.tracking_number, shipment);
      if (refreshed.result.kind === 'found' && refreshed.result.shipmentStatus === 'delivered') {
        delivered += 1;
      }
    } catch (error) {
      getLogger().warn(
        { shipmentId: shipment.id, err: { name: (error as Error).name } },
        'delivery check failed',
      );
    }
  }
  return delivered;
}
