import 'leaflet/dist/leaflet.css';
import './tracking-map.css';

import { divIcon } from 'leaflet';
import { MapContainer, Marker, TileLayer } from 'react-leaflet';

import { TILE_ATTRIBUTION } from './map-tiles';

const pulsingDot = divIcon({
  className: 'tracking-pulse',
  html: '<span class="tracking-pulse-dot"></span>',
  iconSize: [18, 18],
});

export interface TrackingMapProps {
  latitude: number;
  longitude: number;
  /** Text of the location, for the map's accessible name. */
  locationText: string;
  /** Leaflet URL template of the tiles, from the MAP_TILE_URL setting. */
  tileUrl: string;
}

/**
 * Shows the last known location of a package as a pulsing dot. Browser-only: the route loads
 * this module lazily after hydration, so Leaflet never runs on the server or on other routes.
 */
export default function TrackingMap({
  latitude,
  longitude,
  locationText,
  tileUrl,
}: TrackingMapProps) {
  return (
    <figure className="tracking-map" aria-label={`Map of the last known location: ${locationText}`}>
      <MapContainer
        center={[latitude, longitude]}
        zoom={10}
        scrollWheelZoom={false}
        className="tracking-map-canvas"
      >
        <TileLayer url={tileUrl} attribution={TILE_ATTRIBUTION} subdomains="abcd" maxZoom={19} />
        <Marker
          position={[latitude, longitude]}
          icon={pulsingDot}
          keyboard={false}
          interactive={false}
        />
      </MapContainer>
    </figure>
  );
}
