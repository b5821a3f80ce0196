/**
 * CARTO Voyager raster tiles, the map's tiles unless MAP_TILE_URL names others. A Leaflet URL
 * template: `{s}` is a subdomain, `{z}/{x}/{y}` the tile and `{r}` `@2x` on high-density screens.
 */
export const CARTO_TILE_URL =
  'https://{s}.basemaps.cartocdn.com/rastertiles/voyager/{z}/{x}/{y}{r}.png';

/** Tiles the sandbox draws on the server that mounts it, the default outside production. */
export const SANDBOX_TILE_URL = '/sandbox/map-tiles/{z}/{x}/{y}{r}.png';

/** OSM and CARTO require this attribution. */
export const TILE_ATTRIBUTION =
  '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors &copy; <a href="https://carto.com/attributions">CARTO</a>';

/** A host a Content-Security-Policy source can name, with an optional `{s}.` in front and a port. */
const TILE_HOST = /^(\{s\}\.)?[a-z0-9.-]+(:\d+)?$/;

/**
 * Returns why `template` cannot serve as the tile URL, or undefined when it can. It must name
 * `{z}`, `{x}` and `{y}`, and be either a path on the portal or an http(s) URL whose host has
 * `{s}` only as its first label, so that one Content-Security-Policy source covers it.
 */
export function findTileUrlProblem(template: string): string | undefined {
  const missing = ['{z}', '{x}', '{y}'].filter((placeholder) => !template.includes(placeholder));
  if (missing.length > 0) {
    return `The tile URL must contain ${missing.join(', ')}, e.g. ${CARTO_TILE_URL}.`;
  }
  if (template.startsWith('/') && !template.startsWith('//')) return undefined;

  let url: URL;
  try {
    url = new URL(template);
  } catch {
    return `The tile URL must be an http(s) URL or a path starting with /, e.g. ${CARTO_TILE_URL}.`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return `The tile URL must use https or http, not ${url.protocol}`;
  }
  if (!TILE_HOST.test(url.host)) {
    return 'The tile URL may use {s} only as the first part of its host name, as in https://{s}.example.com/.';
  }
  return undefined;
}

/**
 * Returns the Content-Security-Policy source that allows the images of a valid tile URL
 * template: its origin with `{s}` as a wildcard, e.g. `https://*.basemaps.cartocdn.com`, or
 * undefined for a path on the portal, which `'self'` already allows.
 */
export function tileImageSource(template: string): string | undefined {
  if (template.startsWith('/') && !template.startsWith('//')) return undefined;

  const url = new URL(template);
  return `${url.protocol}//${url.host.replace('{s}', '*')}`;
}
