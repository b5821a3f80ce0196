import { crc32, deflateSync } from 'node:zlib';

import express, { type Request, type Response, type Router } from 'express';

/** Side of a tile in pixels, as Leaflet requests it. `@2x` tiles are twice as wide. */
export const TILE_SIZE_PIXELS = 256;

/** `<y>.png` or `<y>@2x.png`, the last part of Leaflet's `{z}/{x}/{y}{r}.png`. */
const TILE_FILE = /^(\d+)(@2x)?\.png$/;

/** The deepest zoom level of OpenStreetMap's tiles, and the tracking map's maxZoom. */
const MAX_ZOOM = 19;

/** OpenStreetMap's land colour and a slightly darker edge, so the tile grid reads as a map. */
const PALETTE = [
  [0xf2, 0xef, 0xe9],
  [0xdd, 0xd8, 0xcf],
] as const;

/**
 * Creates the stand-in for a map tile server: `GET /<z>/<x>/<y>.png` and `/<z>/<x>/<y>@2x.png`
 * return a plain generated PNG tile, so the tracking map works with no network. Tiles never
 * change, so browsers may cache them for a day.
 */
export function createMapTileRouter(): Router {
  const router = express.Router();
  const tiles = new Map([
    [1, drawTile(TILE_SIZE_PIXELS)],
    [2, drawTile(TILE_SIZE_PIXELS * 2)],
  ]);

  router.get(
    '/:z/:x/:file',
    (request: Request<{ z: string; x: string; file: string }>, response: Response) => {
      const file = TILE_FILE.exec(request.params.file);
      if (!file || !isTile(request.params.z, request.params.x, file[1] ?? '')) {
        response
          .status(404)
          .type('text/plain')
          .send(`No such tile. Request /<z>/<x>/<y>.png with z at most ${MAX_ZOOM}.`);
        return;
      }
      response
        .set('Cache-Control', 'public, max-age=86400')
        .type('png')
        .send(tiles.get(file[2] ? 2 : 1));
    },
  );

  return router;
}

/** Returns whether z/x/y names a tile of the Web Mercator grid: at zoom z, x and y run from 0 to 2^z − 1. */
function isTile(z: string, x: string, y: string): boolean {
  // Tile servers name each tile once: no leading zeros.
  const number = /^(0|[1-9]\d*)$/;
  if (!number.test(z) || !number.test(x) || !number.test(y)) return false;
  const zoom = Number(z);
  if (zoom > MAX_ZOOM) return false;
  const tilesPerSide = 2 ** zoom;
  return Number(x) < tilesPerSide && Number(y) < tilesPerSide;
}

/**
 * Draws a square palette PNG of `sizePixels` in the land colour with a one-pixel edge on the
 * right and bottom. The format is the PNG specification's: signature, IHDR, PLTE, one IDAT of
 * zlib-compressed scanlines that each start with filter type 0, and IEND.
 */
export function drawTile(sizePixels: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(sizePixels, 0);
  header.writeUInt32BE(sizePixels, 4);
  header.writeUInt8(8, 8); // bit depth
  header.writeUInt8(3, 9); // colour type 3: palette indices
  // Compression, filter and interlace methods stay 0.

  const rowBytes = sizePixels + 1;
  const pixels = Buffer.alloc(rowBytes * sizePixels);
  for (let row = 0; row < sizePixels; row++) {
    const start = row * rowBytes;
    if (row === sizePixels - 1) pixels.fill(1, start + 1, start + rowBytes);
    else pixels.writeUInt8(1, start + rowBytes - 1);
  }

  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('PLTE', Buffer.from(PALETTE.flat())),
    pngChunk('IDAT', deflateSync(pixels, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Builds a PNG chunk: length, type, data, and the CRC-32 of type and data. */
function pngChunk(type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, checksum]);
}
