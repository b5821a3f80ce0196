/**
 * Measures what one poll of the conversation costs: response bytes (as sent, gzip) and FHIR
 * calls, for quiet ticks and for a tick that brings a reply, against a full reload of the
 * conversation. Uses the longest demo thread. Fails when a tick needs more than one FHIR call
 * or a quiet tick sends more than its byte budget.
 *
 * Run: npm run bench:messages
 */
import { gzipSync } from 'node:zlib';

import { demoPatient, signInByEmail, type PatientClient } from '../tests/support/patient-client';
import { startPortalServer } from '../tests/support/portal-server';
import { SandboxFhir } from '../tests/support/sandbox-fhir';

/** Maximum FHIR calls per poll. */
const MAX_FHIR_CALLS_PER_TICK = 1;
/** Maximum gzip bytes of a poll that finds no message. */
const MAX_QUIET_TICK_GZIP_BYTES = 200;
const QUIET_TICKS = 10;

interface Measurement {
  name: string;
  fhirCalls: number;
  bytes: number;
  gzipBytes: number;
  messages: number;
}

async function main(): Promise<void> {
  const portal = await startPortalServer({ LOG_LEVEL: 'warn' });
  try {
    const patient = demoPatient(2);
    const client = await signInByEmail(portal.baseUrl, patient.email);
    const fhir = new SandboxFhir(portal.baseUrl);
    const fhirCalls = async () => {
      const stats = (await (await fetch(`${portal.baseUrl}/sandbox/stats`)).json()) as {
        fhir: { requests: number; tokenRequests: number };
      };
      return stats.fhir.requests - stats.fhir.tokenRequests;
    };
    const measure = async (name: string, path: string): Promise<[Measurement, string]> => {
      const before = await fhirCalls();
      const { body, cursor, count } = await fetchConversation(client, path);
      return [
        {
          name,
          fhirCalls: (await fhirCalls()) - before,
          bytes: Buffer.byteLength(body),
          gzipBytes: gzipSync(body).byteLength,
          messages: count,
        },
        cursor,
      ];
    };

    const results: Measurement[] = [];
    const [reload, firstCursor] = await measure('full reload', '/api/patient/messages');
    results.push(reload);

    let cursor = firstCursor;
    const quiet: Measurement[] = [];
    for (let tick = 0; tick < QUIET_TICKS; tick++) {
      const [measurement, next] = await measure('quiet tick', pollPath(cursor));
      quiet.push(measurement);
      cursor = next;
    }
    results.push(average('quiet tick (average)', quiet));

    await fhir.create({
      resourceType: 'Communication',
      status: 'completed',
      sender: { reference: 'Practitioner/demo-dr-okafor' },
      recipient: [{ reference: `Patient/${patient.id}` }],
      sent: new Date().toISOString(),
      payload: [{ contentString: 'Your refill has been approved and is on its way.' }],
    });
    const [replyTick] = await measure('tick with one reply', pollPath(cursor));
    results.push(replyTick);

    console.table(results);

    const failures: string[] = [];
    for (const measurement of [...quiet, replyTick]) {
      if (measurement.fhirCalls > MAX_FHIR_CALLS_PER_TICK) {
        failures.push(`${measurement.name} made ${measurement.fhirCalls} FHIR calls`);
      }
    }
    for (const measurement of quiet) {
      if (measurement.gzipBytes > MAX_QUIET_TICK_GZIP_BYTES) {
        failures.push(`a quiet tick sent ${measurement.gzipBytes} gzip bytes`);
      }
    }
    if (replyTick.messages < 1) failures.push('the tick after a reply brought no message');
    if (failures.length > 0) {
      console.error(`Over budget: ${failures.join('; ')}`);
      process.exitCode = 1;
    } else {
      console.log(
        `Within budget: at most ${MAX_FHIR_CALLS_PER_TICK} FHIR call per tick, quiet ticks under ${MAX_QUIET_TICK_GZIP_BYTES} gzip bytes.`,
      );
    }
  } finally {
    await portal.stop();
  }
}

function pollPath(cursor: string): string {
  return `/api/patient/messages?since=${encodeURIComponent(cursor)}`;
}

async function fetchConversation(
  client: PatientClient,
  path: string,
): Promise<{ body: string; cursor: string; count: number }> {
  const response = await client.request(path, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`GET ${path} failed with status ${response.status}`);
  const body = await response.text();
  const parsed = JSON.parse(body) as { cursor: string; messages: unknown[] };
  return { body, cursor: parsed.cursor, count: parsed.messages.length };
}

function average(name: string, measurements: Measurement[]): Measurement {
  const mean = (pick: (measurement: Measurement) => number) =>
    Math.round(measurements.reduce((sum, item) => sum + pick(item), 0) / measurements.length);
  return {
    name,
    fhirCalls: mean((item) => item.fhirCalls),
    bytes: mean((item) => item.bytes),
    gzipBytes: mean((item) => item.gzipBytes),
    messages: mean((item) => item.messages),
  };
}

await main();
