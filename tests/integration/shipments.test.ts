import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  demoPatient,
  type PatientClient,
  readPageHtml,
  signInOncePerEmail,
} from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';
import { countUpstreamRequests, setSandboxFault } from '../support/sandbox-control';

let portal: PortalServer;
let signInOnce: (email: string) => Promise<PatientClient>;

beforeAll(async () => {
  portal = await startPortalServer({ TRACKING_CACHE_SECONDS: '3', UPSTREAM_TIMEOUT_MS: '1000' });
  signInOnce = signInOncePerEmail(portal.baseUrl);
});

afterAll(async () => {
  await portal?.stop();
});

function signIn(index: number): Promise<PatientClient> {
  return signInOnce(demoPatient(index).email);
}

function fedexTrackCalls(): Promise<number> {
  return countUpstreamRequests(portal.baseUrl, 'fedex');
}

function setFedexFault(settings: Record<string, unknown> | null): Promise<void> {
  return setSandboxFault(portal.baseUrl, 'fedex', settings);
}

describe('shipments', () => {
  it('lists shipments newest first with timelines', async () => {
    const client = await signIn(1);
    const response = await client.request('/api/patient/shipments');
    expect(response.status).toBe(200);
    const { shipments } = (await response.json()) as {
      shipments: {
        trackingNumber: string;
        status: string;
        medicationName: string | null;
        timeline: unknown[];
      }[];
    };
    expect(shipments.map((shipment) => shipment.trackingNumber)).toEqual([
      '700000000022',
      '700000000005',
    ]);
    for (const shipment of shipments) {
      expect(shipment.timeline.length).toBeGreaterThan(0);
      expect(shipment.medicationName).toMatch(/lisinopril/i);
    }

    const html = await readPageHtml(await client.request('/shipments'));
    expect(html).toContain('Track FedEx 700000000022');
  });

  it('shows an empty state', async () => {
    const client = await signIn(2);
    const html = await readPageHtml(await client.request('/shipments'));
    expect(html).toContain('You have no shipments yet.');
  });
});

describe('tracking', () => {
  it('validates the number before anything else', async () => {
    const client = await signIn(1);
    for (const number of ['12AB', '%ZZ', '7000000000221234567890123']) {
      const response = await client.request(`/api/patient/tracking/${number}`);
      expect(response.status, number).toBe(400);
      expect(response.headers.get('content-type'), number).toContain('application/json');
    }
  });

  it('answers another patient and an unknown number alike', async () => {
    const client = await signIn(1);
    const othersNumber = await client.request('/api/patient/tracking/700000000011');
    const unknownNumber = await client.request('/api/patient/tracking/700000000099');
    expect(othersNumber.status).toBe(404);
    expect(unknownNumber.status).toBe(404);
    expect(await othersNumber.json()).toEqual(await unknownNumber.json());
    expect((await client.request('/shipments/track/700000000011')).status).toBe(404);
  });

  it('serves a repeat from the cache, then asks FedEx after expiry', async () => {
    const client = await signIn(1);
    const before = await fedexTrackCalls();

    const first = await client.request('/api/patient/tracking/700000000022');
    expect(first.status).toBe(200);
    const body = (await first.json()) as {
      kind: string;
      stale: boolean;
      tracking: { events: unknown[] };
    };
    expect(body.kind).toBe('found');
    expect(body.stale).toBe(false);
    expect(body.tracking.events.length).toBeGreaterThan(1);

    await client.request('/api/patient/tracking/700000000022');
    expect(await fedexTrackCalls()).toBe(before + 1);

    await new Promise((resolve) => setTimeout(resolve, 3_500));
    await client.request('/api/patient/tracking/700000000022');
    expect(await fedexTrackCalls()).toBe(before + 2);
  });

  it('marks a delivered shipment once at the FedEx time', async () => {
    const client = await signIn(1);
    const tracking = (await (
      await client.request('/api/patient/tracking/700000000005')
    ).json()) as {
      tracking: { shipmentStatus: string; deliveredAt: string };
    };
    expect(tracking.tracking.shipmentStatus).toBe('delivered');

    type ShipmentsBody = {
      shipments: {
        trackingNumber: string;
        status: string;
        timeline: { status: string; at: string }[];
      }[];
    };
    const readDelivered = async () => {
      const body = (await (await client.request('/api/patient/shipments')).json()) as ShipmentsBody;
      return body.shipments.find((shipment) => shipment.trackingNumber === '700000000005');
    };

    const delivered = await readDelivered();
    expect(delivered?.status).toBe('delivered');
    const entries = delivered?.timeline.filter((entry) => entry.status === 'delivered') ?? [];
    expect(entries).toHaveLength(1);
    expect(entries[0]?.at).toBe(new Date(tracking.tracking.deliveredAt).toISOString());

    await client.request('/api/patient/tracking/700000000005');
    const again = await readDelivered();
    expect(again?.timeline.filter((entry) => entry.status === 'delivered')).toHaveLength(1);
  });

  it('says tracking is not available yet and retries', async () => {
    const client = await signIn(0);
    const before = await fedexTrackCalls();
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const response = await client.request('/api/patient/tracking/700000000007');
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ kind: 'not_available_yet' });
    }
    expect(await fedexTrackCalls()).toBe(before + 2);
  });

  it('shows the scans and location as text without JavaScript', async () => {
    const client = await signIn(1);
    const html = await readPageHtml(await client.request('/shipments/track/700000000022'));
    expect(html).toContain('Last known location:');
    expect(html).toContain('Scan history');
    expect(html).not.toContain('leaflet');
  });
  it('keeps tracking numbers out of the log', async () => {
    const client = await signIn(1);
    await client.request('/api/patient/tracking/700000000022');
    expect(portal.output()).toContain('/api/patient/tracking/:number');
    expect(portal.output()).not.toContain('700000000022');
  });

  it('shares one FedEx call among concurrent requests', async () => {
    const client = await signIn(1);
    await client.request('/api/patient/tracking/700000000022');
    await new Promise((resolve) => setTimeout(resolve, 3_500));

    const before = await fedexTrackCalls();
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => client.request('/api/patient/tracking/700000000022')),
    );
    for (const response of responses) expect(response.status).toBe(200);
    expect(await fedexTrackCalls()).toBe(before + 1);
  });

  it('answers without hanging when FedEx stalls', async () => {
    const client = await signIn(0);
    await setFedexFault({ latencyMs: 5_000 });
    try {
      const startedAt = Date.now();
      const response = await client.request('/api/patient/tracking/700000000011');
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ error: { code: 'unavailable' } });
      // Three attempts of UPSTREAM_TIMEOUT_MS (1 s here) plus backoff, far below the stall.
      expect(Date.now() - startedAt).toBeLessThan(5_000);
    } finally {
      await setFedexFault(null);
    }
  });

  it('serves the cached result at once when FedEx is slow', async () => {
    const client = await signIn(1);
    await client.request('/api/patient/tracking/700000000022');
    await new Promise((resolve) => setTimeout(resolve, 3_500));

    await setFedexFault({ latencyMs: 8_000 });
    try {
      const startedAt = Date.now();
      const response = await client.request('/api/patient/tracking/700000000022');
      expect(((await response.json()) as { stale: boolean }).stale).toBe(true);
      // The cut-off is 2 s; a patient never waits for the full retries.
      expect(Date.now() - startedAt).toBeLessThan(3_500);
    } finally {
      await setFedexFault(null);
    }
  });

  // Last in the file: the failures open the FedEx circuit breaker for 30 s.
  it('serves the stale result when FedEx is down', async () => {
    const client = await signIn(1);
    await client.request('/api/patient/tracking/700000000022');
    await new Promise((resolve) => setTimeout(resolve, 3_500));

    await setFedexFault({ errorRate: 1, errorStatus: 503 });
    try {
      const response = await client.request('/api/patient/tracking/700000000022');
      expect(response.status).toBe(200);
      const body = (await response.json()) as { stale: boolean; fetchedAt: string };
      expect(body.stale).toBe(true);
      expect(Date.parse(body.fetchedAt)).toBeLessThan(Date.now() - 3_000);

      const html = await readPageHtml(await client.request('/shipments/track/700000000022'));
      expect(html).toContain('FedEx is not responding right now');
    } finally {
      await setFedexFault(null);
    }
  });
});
