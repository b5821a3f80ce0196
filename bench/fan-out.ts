/**
 * Fan-out: the dashboard's time to first byte while its FHIR sources respond slowly, each resource
 * type after its own delay. The dashboard loads its panels in parallel, so it should cost its
 * slowest source, not the sum of them.
 */
import { Agent, request as httpRequest } from 'node:http';

import { SIGN_IN_PATIENTS } from '../tests/support/patient-client';
import { countUpstreamRequests } from '../tests/support/sandbox-control';

import type { BenchPortal } from './bench-portal';
import { median, verdict, type BenchSection } from './report';

/** Dashboard requests per patient before the measured ones, to fill the token and other caches. */
const WARMUP_REQUESTS_PER_PATIENT = 2;
/** Measured dashboard requests per scenario, sent one after another, round-robin over patients. */
const MEASURED_REQUESTS = 30;
/** The median time to first byte must stay under this multiple of the slowest source's latency. */
const SLOWEST_SOURCE_FACTOR = 1.2;

/** Sandbox FHIR fault settings: a list whose first entry matching a request applies. */
type FhirFaults = { latencyMs: number; resourceTypes: string[] }[];

interface Scenario {
  name: string;
  /** Latency of the slowest source; 0 for the baseline. */
  slowestMs: number;
  faults: FhirFaults | null;
  /** The figure the scenario's target applies to: the median TTFB, or the round trips. */
  target: 'median' | 'roundTrips' | null;
}

/** Every resource type a dashboard view reads, the token endpoint left out. */
const DASHBOARD_RESOURCE_TYPES = [
  'Patient',
  'Practitioner',
  'CareTeam',
  'MedicationRequest',
  'Medication',
  'Appointment',
  'Communication',
];

/**
 * The second scenario delays the resource types the panels start with. Practitioner, CareTeam
 * and Medication, which the panels may read after a first response, get no delay there, so the
 * third scenario delays every type alike to show any FHIR call that waits for another.
 */
const SCENARIOS: Scenario[] = [
  { name: 'no injected latency (baseline)', slowestMs: 0, faults: null, target: null },
  {
    name: 'Patient 100 ms, MedicationRequest 200 ms, Appointment and Communication 300 ms',
    slowestMs: 300,
    faults: [
      { latencyMs: 100, resourceTypes: ['Patient'] },
      { latencyMs: 200, resourceTypes: ['MedicationRequest'] },
      { latencyMs: 300, resourceTypes: ['Appointment', 'Communication'] },
    ],
    target: 'median',
  },
  {
    name: 'every FHIR resource type 100 ms',
    slowestMs: 100,
    faults: [{ latencyMs: 100, resourceTypes: DASHBOARD_RESOURCE_TYPES }],
    target: 'roundTrips',
  },
];

/** A view whose FHIR calls all start at once waits for one round trip; two in a row show as 2. */
const MAX_ROUND_TRIPS = 1.5;

interface Sample {
  ttfbMs: number;
  html: string;
}

export async function measureFanOut(bench: BenchPortal): Promise<BenchSection> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const cookies: string[] = [];
  for (const patient of SIGN_IN_PATIENTS) cookies.push(await bench.signIn(patient.email));

  const rows: Record<string, string | number>[] = [];
  const notes: string[] = [];
  let baselineMedianMs = 0;
  try {
    for (const scenario of SCENARIOS) {
      await setFhirFaults(bench, scenario.faults);
      const url = `${bench.portal.baseUrl}/`;
      for (const cookie of cookies) {
        for (let index = 0; index < WARMUP_REQUESTS_PER_PATIENT; index++) {
          await requestDashboard(url, cookie, agent);
        }
      }

      const fhirBefore = await countUpstreamRequests(bench.upstreams.baseUrl, 'fhir');
      const samples: Sample[] = [];
      for (let index = 0; index < MEASURED_REQUESTS; index++) {
        const cookie = cookies[index % cookies.length] ?? '';
        samples.push(await requestDashboard(url, cookie, agent));
      }
      const fhirRequests =
        (await countUpstreamRequests(bench.upstreams.baseUrl, 'fhir')) - fhirBefore;

      const degraded = samples.filter((sample) =>
        sample.html.includes('class="panel-unavailable"'),
      );
      if (degraded.length > 0) {
        notes.push(
          `${scenario.name}: ${degraded.length} of ${samples.length} pages showed a panel as unavailable, so their times are not those of a complete page.`,
        );
      }
      const medianMs = median(samples.map((sample) => sample.ttfbMs));
      if (scenario.slowestMs === 0) baselineMedianMs = medianMs;
      rows.push(toRow(scenario, samples, fhirRequests, baselineMedianMs));
    }
  } finally {
    await setFhirFaults(bench, null);
    agent.destroy();
  }

  return {
    title: 'Dashboard fan-out',
    method: `
The sandbox's FHIR stand-in delays each request by its resource type (the \`resourceTypes\`
fault filter in sandbox/README.md). For each scenario, each of the ${SIGN_IN_PATIENTS.length} sandbox patients who can sign in
first loads the dashboard (\`/\`) ${WARMUP_REQUESTS_PER_PATIENT} times, which fills the portal's FHIR token and its other
caches. Then ${MEASURED_REQUESTS} dashboard requests go one after another, round-robin over the patients, with the
session cookie, over one kept-alive connection. Time to first byte is the time from sending
the request to receiving the response's status line and headers; the portal sends them once
every loader has finished, so it covers the whole fan-out. The target is a median under
${SLOWEST_SOURCE_FACTOR} × the slowest source's latency. "Round trips" is the median minus the baseline's median, in
units of the slowest source's latency: about 1 when every FHIR call starts at once, 2 when one
waits for another. The scenario with every resource type at 100 ms also delays the reads a panel
may make after its first response (Practitioner, CareTeam, Medication), so there it counts the
longest chain of FHIR calls; its target is under ${MAX_ROUND_TRIPS}. "FHIR requests per view" is the sandbox's
request counter over the measured requests, token requests left out, divided by ${MEASURED_REQUESTS}.
The database and the portal's other upstreams add no delay. The portal reuses a Practitioner
read for 10 minutes (app/patients/practitioner-cache.server.ts), so the first view in that
time waits for the Practitioner read after the Patient read, which the warm-up hides. So does
the first view of a patient whose practitioner comes from a CareTeam: later views search the
CareTeam together with the Patient read (app/patients/care-team.server.ts).
`,
    rows,
    notes: notes.join('\n\n'),
    failures: [],
    missedTargets: rows
      .filter((row) => String(row.met).startsWith('no'))
      .map((row) => `${row.scenario}: ${row.target}, ${row.met}`),
  };
}

function toRow(
  scenario: Scenario,
  samples: Sample[],
  fhirRequests: number,
  baselineMedianMs: number,
): Record<string, string | number> {
  const times = samples.map((sample) => sample.ttfbMs);
  const medianMs = median(times);
  const targetMs = scenario.slowestMs * SLOWEST_SOURCE_FACTOR;
  const roundTrips = (medianMs - baselineMedianMs) / scenario.slowestMs;

  let target = '-';
  let met = '-';
  if (scenario.target === 'median') {
    target = `median < ${targetMs} ms`;
    met = verdict(medianMs < targetMs, `${Math.round(medianMs)} ms`);
  } else if (scenario.target === 'roundTrips') {
    target = `round trips < ${MAX_ROUND_TRIPS}`;
    met = verdict(roundTrips < MAX_ROUND_TRIPS, roundTrips.toFixed(1));
  }
  return {
    scenario: scenario.name,
    'slowest source (ms)': scenario.slowestMs,
    'median TTFB (ms)': Math.round(medianMs),
    'p90 TTFB (ms)': Math.round(percentile(times, 0.9)),
    'median / slowest': scenario.slowestMs > 0 ? (medianMs / scenario.slowestMs).toFixed(2) : '-',
    'round trips': scenario.slowestMs > 0 ? roundTrips.toFixed(1) : '-',
    'FHIR requests per view': Number((fhirRequests / samples.length).toFixed(1)),
    target,
    met,
  };
}

/** Nearest-rank percentile, `fraction` from 0 to 1. */
function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

async function setFhirFaults(bench: BenchPortal, faults: FhirFaults | null): Promise<void> {
  const response = await fetch(`${bench.upstreams.baseUrl}/sandbox/faults/fhir`, {
    method: faults ? 'PUT' : 'DELETE',
    headers: { 'content-type': 'application/json' },
    body: faults ? JSON.stringify(faults) : undefined,
  });
  if (!response.ok) {
    throw new Error(
      `Setting the FHIR faults failed with ${response.status}: ${await response.text()}`,
    );
  }
}

/** Requests the dashboard and returns its time to first byte and its HTML. */
function requestDashboard(url: string, cookie: string, agent: Agent): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const outgoing = httpRequest(
      url,
      { agent, headers: { accept: 'text/html', cookie } },
      (response) => {
        const ttfbMs = performance.now() - startedAt;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          if (response.statusCode !== 200) {
            reject(new Error(`The dashboard responded with ${response.statusCode}, not 200.`));
            return;
          }
          resolve({ ttfbMs, html: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}
