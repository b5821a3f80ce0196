/**
 * `npm run bench`: builds the portal, starts the production build with the sandbox upstreams
 * (bench/bench-portal.ts), runs every benchmark section, prints a table per section and writes
 * them into docs/benchmarks.md. Exits with 1 when a figure is over its budget.
 *
 * Run: npm run bench                       # every section
 *      npm run bench -- --only bundles,pages   # some sections, by key
 *      npm run bench -- --no-build          # measure the build already in build/
 *      npm run bench -- --no-write          # print only; leave docs/benchmarks.md as it is
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { REPO_ROOT, startBenchPortal, type BenchPortal } from './bench-portal';
import { measureBundles } from './bundle-budget';
import { measureFanOut } from './fan-out';
import { measureLighthouse } from './lighthouse';
import { measureLoaderData } from './loader-data';
import { measurePageWeight } from './page-weight';
import { measurePolling } from './polling';
import { printSection, writeReport, type BenchSection } from './report';
import { measureThroughput } from './throughput';
import { measureRevalidation } from './revalidation';

/** Every section by key, in the order they run and appear in docs/benchmarks.md. */
const SECTIONS: Record<string, (bench: BenchPortal) => Promise<BenchSection>> = {
  bundles: () => measureBundles(),
  pages: (bench) => measurePageWeight(bench),
  'fan-out': (bench) => measureFanOut(bench),
  throughput: () => measureThroughput(),
  'loader-data': (bench) => measureLoaderData(bench),
  lighthouse: (bench) => measureLighthouse(bench),
  polling: (bench) => measurePolling(bench),
  revalidation: (bench) => measureRevalidation(bench),
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const keys = values.only
    ? values.only.split(',').map((key) => key.trim())
    : Object.keys(SECTIONS);
  const unknown = keys.filter((key) => !(key in SECTIONS));
  if (unknown.length > 0) {
    throw new Error(
      `Unknown section ${unknown.join(', ')}; the sections are ${Object.keys(SECTIONS).join(', ')}.`,
    );
  }
  if (!values['no-build']) {
    execFileSync('npm', ['run', 'build'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }

  const bench = await startBenchPortal();
  const sections: BenchSection[] = [];
  try {
    for (const key of keys) {
      const measure = SECTIONS[key];
      if (!measure) continue;
      const section = await measure(bench);
      printSection(section);
      sections.push(section);
    }
  } finally {
    await bench.stop();
  }

  const args = process.argv.slice(2);
  const command = `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
  if (!values['no-write']) {
    await writeReport(path.join(REPO_ROOT, 'docs/benchmarks.md'), command, sections);
  }
  const failures = sections.flatMap((section) => section.failures);
  const missedTargets = sections.flatMap((section) => section.missedTargets ?? []);
  if (failures.length > 0) {
    console.error(`\n${failures.length} figure(s) over budget; see above.`);
    process.exitCode = 1;
  } else {
    console.log('\nEvery figure is within its budget.');
  }
  if (missedTargets.length > 0) {
    console.log(`${missedTargets.length} timed target(s) missed, which fails no run: see above.`);
  }
}

await main();
