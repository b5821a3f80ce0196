import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseContentSecurityPolicy } from '../support/content-security-policy';
import { demoPatient, signInByEmail } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';

/** A tile server on another host, which the test never contacts because it only reads the policy. */
const CUSTOM_TILE_URL = 'https://{s}.tiles.example.org/osm/{z}/{x}/{y}{r}.png';

/** Marcus's shipment in transit, which FedEx's stand-in places on the map. */
const TRACKING_PATH = '/shipments/track/700000000022';

let sandboxTiles: PortalServer;
let customTiles: PortalServer;

beforeAll(async () => {
  [sandboxTiles, customTiles] = await Promise.all([
    startPortalServer(),
    startPortalServer({ MAP_TILE_URL: CUSTOM_TILE_URL }),
  ]);
});

afterAll(async () => {
  await Promise.all([sandboxTiles?.stop(), customTiles?.stop()]);
});

/** Signs the demo patient in and returns the tracking page's policy and HTML. */
async function openTrackingPage(portal: PortalServer) {
  const client = await signInByEmail(portal.baseUrl, demoPatient(1).email);
  const response = await client.request(TRACKING_PATH);
  expect(response.status).toBe(200);
  return {
    imageSources: parseContentSecurityPolicy(response.headers.get('content-security-policy')).get(
      'img-src',
    ),
    html: await response.text(),
  };
}

describe('map tiles', () => {
  it('come from the sandbox by default', async () => {
    const { imageSources, html } = await openTrackingPage(sandboxTiles);
    expect(imageSources).toEqual(["'self'", 'data:']);
    expect(html).toContain('/sandbox/map-tiles/{z}/{x}/{y}{r}.png');
    expect(html).not.toContain('cartocdn');
  });

  it('follow MAP_TILE_URL in the policy', async () => {
    const { imageSources, html } = await openTrackingPage(customTiles);
    expect(imageSources).toEqual(["'self'", 'data:', 'https://*.tiles.example.org']);
    expect(html).toContain(CUSTOM_TILE_URL);
  });

  it('are served by the sandbox as PNG', async () => {
    for (const [file, sizePixels] of [
      ['617.png', 256],
      ['617@2x.png', 512],
    ] as const) {
      const response = await fetch(`${sandboxTiles.baseUrl}/sandbox/map-tiles/10/282/${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get('content-type'), file).toBe('image/png');
      const png = Buffer.from(await response.arrayBuffer());
      // IHDR starts at byte 16 with the width and height.
      expect(png.readUInt32BE(16), file).toBe(sizePixels);
      expect(png.readUInt32BE(20), file).toBe(sizePixels);
    }
  });

  it('reject a name that is no tile', async () => {
    // At zoom 10 the grid is 1024 tiles a side, and no tile server goes past zoom 19.
    for (const tile of [
      '10/282/617.svg',
      '10/1024/617.png',
      '10/282/1024.png',
      '20/0/0.png',
      '010/282/617.png',
      '10/0282/617.png',
      '10/282/0617.png',
    ]) {
      const response = await fetch(`${sandboxTiles.baseUrl}/sandbox/map-tiles/${tile}`);
      expect(response.status, tile).toBe(404);
    }
    const corner = await fetch(`${sandboxTiles.baseUrl}/sandbox/map-tiles/10/1023/1023.png`);
    expect(corner.status).toBe(200);
  });
});
