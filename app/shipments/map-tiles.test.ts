import { describe, expect, it } from 'vitest';

import { CARTO_TILE_URL, findTileUrlProblem, SANDBOX_TILE_URL, tileImageSource } from './map-tiles';

describe('tile URL template', () => {
  it('accepts CARTO, the sandbox and a port', () => {
    for (const template of [
      CARTO_TILE_URL,
      SANDBOX_TILE_URL,
      'http://127.0.0.1:4100/sandbox/map-tiles/{z}/{x}/{y}{r}.png',
    ]) {
      expect(findTileUrlProblem(template), template).toBeUndefined();
    }
  });

  it('rejects a template without a placeholder', () => {
    expect(findTileUrlProblem('https://tiles.example.org/{z}/{x}.png')).toMatch(/\{y\}/);
  });

  it('rejects other schemes and hosts', () => {
    expect(findTileUrlProblem('ftp://tiles.example.org/{z}/{x}/{y}.png')).toMatch(/https or http/);
    expect(findTileUrlProblem('//tiles.example.org/{z}/{x}/{y}.png')).toMatch(/http\(s\) URL/);
    expect(findTileUrlProblem('https://tiles-{s}.example.org/{z}/{x}/{y}.png')).toMatch(
      /first part/,
    );
  });
});

describe('tileImageSource', () => {
  it('turns {s} into a wildcard', () => {
    expect(tileImageSource(CARTO_TILE_URL)).toBe('https://*.basemaps.cartocdn.com');
  });

  it('keeps the port', () => {
    expect(tileImageSource('http://127.0.0.1:4100/sandbox/map-tiles/{z}/{x}/{y}.png')).toBe(
      'http://127.0.0.1:4100',
    );
  });

  it('needs no source for the portal', () => {
    expect(tileImageSource(SANDBOX_TILE_URL)).toBeUndefined();
  });
});
