import { lazy, Suspense, useEffect, useState } from 'react';
import { data, Link } from 'react-router';

import { requirePatient } from '~/auth/session.server';
import { getEnv } from '~/config/env.server';
import {
  getShipmentTracking,
  isValidTrackingNumber,
  TrackingNumberNotFoundError,
} from '~/shipments/tracking.server';
import type { TrackingMapProps } from '~/shipments/tracking-map.client';
import { formatInstant } from '~/utils/dates';

import type { Route } from './+types/shipments.track';

const loadTrackingMap = () => import('~/shipments/tracking-map.client');
// In the browser, the map's code starts to download as soon as this module runs. That is before
// hydration, so the map and its tiles, the page's largest content, arrive one step sooner.
// A failed download needs no handling here, because the lazy component imports again and
// reports the failure.
if (typeof document !== 'undefined') loadTrackingMap().catch(() => undefined);
const TrackingMap = lazy(loadTrackingMap);

export const meta: Route.MetaFunction = () => [{ title: 'Track shipment | Patient portal' }];

export async function loader({ request, params }: Route.LoaderArgs) {
  const session = await requirePatient(request);
  if (!isValidTrackingNumber(params.trackingNumber)) throw data(null, { status: 404 });

  try {
    return {
      trackingNumber: params.trackingNumber,
      view: await getShipmentTracking(session, params.trackingNumber),
      mapTileUrl: getEnv().mapTiles.urlTemplate,
    };
  } catch (error) {
    if (error instanceof TrackingNumberNotFoundError) throw data(null, { status: 404 });
    throw error;
  }
}

export default function TrackShipment({ loaderData }: Route.ComponentProps) {
  const { trackingNumber, view, mapTileUrl } = loaderData;

  return (
    <>
      <h1>Track FedEx {trackingNumber}</h1>
      <p>
        <Link to="/shipments">All shipments</Link>
      </p>
      {view.kind !== 'found' ? (
        <p role="status" className="notice">
          {view.message}
        </p>
      ) : (
        <>
          {view.stale ? (
            <p role="status" className="notice">
              FedEx is not responding right now. This is the last update we have, from{' '}
              {formatInstant(view.fetchedAt)}.
            </p>
          ) : null}
          <p className="status">{view.tracking.statusDescription}</p>
          {view.tracking.deliveredAt ? (
            <p>Delivered {formatInstant(view.tracking.deliveredAt)}.</p>
          ) : null}
          {!view.tracking.deliveredAt ? (
            <EstimatedDelivery window={view.tracking.estimatedDelivery} />
          ) : null}
          <p>
            Last known location: {view.tracking.latestLocation?.text ?? 'Location unavailable'}.
            Updated {formatInstant(view.fetchedAt)}.
          </p>
          {view.coordinates && view.tracking.latestLocation?.text ? (
            <ClientOnlyMap
              latitude={view.coordinates.latitude}
              longitude={view.coordinates.longitude}
              locationText={view.tracking.latestLocation.text}
              tileUrl={mapTileUrl}
            />
          ) : null}
          <h2>Scan history</h2>
          <ol className="timeline">
            {view.tracking.events.map((event) => (
              <li key={`${event.occurredAt}-${event.description}`}>
                {formatInstant(event.occurredAt)}: {event.description}.{' '}
                {event.locationUnavailable
                  ? 'Location unavailable.'
                  : `${event.location?.text ?? ''}.`}
              </li>
            ))}
          </ol>
        </>
      )}
    </>
  );
}

function EstimatedDelivery({ window }: { window: { begins?: string; ends?: string } | undefined }) {
  if (window?.begins && window.ends) {
    return (
      <p>
        Estimated delivery between {formatInstant(window.begins)} and {formatInstant(window.ends)}.
      </p>
    );
  }
  if (window?.ends) return <p>Estimated delivery by {formatInstant(window.ends)}.</p>;
  if (window?.begins) return <p>Estimated delivery from {formatInstant(window.begins)}.</p>;
  return null;
}

/**
 * Renders the map only after hydration, so the server and a browser without JavaScript skip it.
 * The server renders the map's empty space (app.css), so the scan history below does not move
 * when the map appears.
 */
function ClientOnlyMap(props: TrackingMapProps) {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);

  return (
    <div className="tracking-map-space">
      {hydrated ? (
        <Suspense fallback={<p>Loading map…</p>}>
          <TrackingMap {...props} />
        </Suspense>
      ) : null}
    </div>
  );
}
