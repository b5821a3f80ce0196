import { crc32, inflateSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { drawTile, TILE_SIZE_PIXELS } from './map-tiles.js';

/** Splits a PNG into its chunks after the 8-byte signature. */
function readChunks(png: Buffer): { type: string; data: Buffer; crc: number }[] {
  const chunks = [];
  let offset = 8;
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    chunks.push({ type, data, crc: png.readUInt32BE(offset + 8 + length) });
    offset += 12 + length;
  }
  return chunks;
}

describe('drawTile', () => {
  it('writes a valid palette PNG', () => {
    const png = drawTile(TILE_SIZE_PIXELS);
    expect(png.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );

    const chunks = readChunks(png);
    expect(chunks.map((chunk) => chunk.type)).toEqual(['IHDR', 'PLTE', 'IDAT', 'IEND']);
    for (const chunk of chunks) {
      expect(chunk.crc, chunk.type).toBe(
        crc32(Buffer.concat([Buffer.from(chunk.type, 'latin1'), chunk.data])),
      );
    }
    const header = chunks[0]?.data ?? Buffer.alloc(0);
    expect(header.readUInt32BE(0)).toBe(TILE_SIZE_PIXELS);
    expect(header.readUInt32BE(4)).toBe(TILE_SIZE_PIXELS);
    expect([header[8], header[9]]).toEqual([8, 3]);
  });

  it('compresses one filter byte and one index per pixel', () => {
    const chunks = readChunks(drawTile(512));
    const pixels = inflateSync(
      chunks.find((chunk) => chunk.type === 'IDAT')?.data ?? Buffer.alloc(0),
    );
    expect(pixels.length).toBe(513 * 512);
    expect(pixels[0]).toBe(0);
    expect(pixels[512]).toBe(1);
  });

  it('stays small', () => {
    expect(drawTile(512).length).toBeLessThan(1_000);
  });
});
