/** CARTO Voyager raster tiles; OSM and CARTO require the attribution below. */
export const TILE_URL = 'https://{s}.basemaps.cartocdn.com/rastertiles/voyager/{z}/{x}/{y}{r}.png';

/** Hosts the tile URL resolves to, for the Content-Security-Policy's `img-src`. */
export const TILE_SOURCE = 'https://*.basemaps.cartocdn.com';

export const TILE_ATTRIBUTION =
  '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors &copy; <a href="https://carto.com/attributions">CARTO</a>';
