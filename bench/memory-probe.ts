/**
 * Reports the memory of the process that imports it, for bench/load.ts only. bench/load.ts starts
 * the portal with BENCH_MEMORY_PROBE=on and `node --import tsx --expose-gc --import
 * ./bench/memory-probe.ts server.ts`, so the portal itself carries no measuring code.
 *
 * Serves `GET /memory` on a loopback port of its own: a full garbage collection first (when
 * `--expose-gc` is on), then `process.memoryUsage()` in bytes and `process.cpuUsage()` as JSON.
 * Prints `memory probe listening on http://127.0.0.1:<port>` once it listens.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export const MEMORY_PROBE_BANNER = 'memory probe listening on ';

export interface MemorySample extends NodeJS.MemoryUsage {
  /** False when the process runs without `--expose-gc`, so the heap may still contain garbage. */
  collected: boolean;
  /** CPU time the process has used since it started, in microseconds. */
  cpu: NodeJS.CpuUsage;
}

/** Starts the probe's server, which never keeps the portal running when it wants to exit. */
function startMemoryProbe(): void {
  const probe = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/memory') {
      response.writeHead(404).end();
      return;
    }

    const collect = (globalThis as { gc?: () => void }).gc;
    collect?.();
    const sample: MemorySample = {
      ...process.memoryUsage(),
      collected: collect !== undefined,
      cpu: process.cpuUsage(),
    };
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(sample));
  });

  probe.listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as AddressInfo;
    process.stdout.write(`${MEMORY_PROBE_BANNER}http://127.0.0.1:${port}\n`);
  });
  probe.unref();
}

// bench/load.ts sets the marker, so importing the banner and the type elsewhere starts nothing.
if (process.env.BENCH_MEMORY_PROBE === 'on') startMemoryProbe();
