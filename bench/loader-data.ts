/**
 * Loader data per page: the bytes of the data a page's loaders return, as React Router sends it
 * to the browser on a client-side navigation (`GET /<path>.data`, single fetch) and inlines in
 * the page's HTML on a full load. Every byte of it is parsed by the browser and may hold patient
 * data, so each page has a budget.
 */
import { gzipSync } from 'node:zlib';

import { SIGN_IN_PATIENTS } from '../tests/support/patient-client';

import type { BenchPortal } from './bench-portal';
import { patientPages } from './page-weight';
import { kilobytes, verdict, type BenchSection } from './report';

/** Largest loader data of one page, uncompressed. */
export const LOADER_DATA_BUDGET_BYTES = 20_000;

interface Page {
  /** The page as the report names it, e.g. /shipments/track/:trackingNumber. */
  name: string;
  path: string;
}

interface Largest {
  bytes: number;
  gzipBytes: number;
  patients: number;
}

const SIGNED_OUT_PAGES: Page[] = [
  { name: '/login', path: '/login' },
  { name: '/login/canvas-error', path: '/login/canvas-error' },
  { name: '/session-expired', path: '/session-expired' },
];

export async function measureLoaderData(bench: BenchPortal): Promise<BenchSection> {
  const largest = new Map<string, Largest>();
  const failures: string[] = [];
  const record = async (page: Page, cookie: string | undefined) => {
    const body = await readLoaderData(bench.portal.baseUrl, page.path, cookie);
    // A patient without a care team gets 409 from the scheduling pages, which then have no data.
    if (body === 409 && page.path.startsWith('/scheduling')) return;
    if (typeof body === 'number') {
      failures.push(`${page.name}.data responded with ${body}, not 200`);
      return;
    }
    const current = largest.get(page.name);
    const bytes = body.byteLength;
    const gzipBytes = gzipSync(body).byteLength;
    largest.set(page.name, {
      ...(current && current.bytes >= bytes ? current : { bytes, gzipBytes }),
      patients: (current?.patients ?? 0) + 1,
    });
  };

  for (const page of SIGNED_OUT_PAGES) await record(page, undefined);
  for (const patient of SIGN_IN_PATIENTS) {
    const client = await bench.signInClient(patient.email);
    for (const page of await patientPages(client)) await record(page, client.cookieHeader());
  }

  const rows = [...largest].map(([name, { bytes, gzipBytes, patients }]) => {
    if (bytes > LOADER_DATA_BUDGET_BYTES) {
      failures.push(
        `${name} returns ${kilobytes(bytes)} KB of loader data, more than ${kilobytes(LOADER_DATA_BUDGET_BYTES)} KB`,
      );
    }
    return {
      page: name,
      'patients measured': patients,
      'loader data (KB)': kilobytes(bytes),
      'gzip (KB)': kilobytes(gzipBytes),
      [`within ${kilobytes(LOADER_DATA_BUDGET_BYTES)} KB`]: verdict(
        bytes <= LOADER_DATA_BUDGET_BYTES,
      ),
    };
  });

  return {
    title: 'Loader data per page',
    method: `
For every page, \`GET <path>.data\` (\`/_root.data\` for the dashboard) returns the data of all
the page's loaders, the root's included, in React Router's single-fetch encoding
(turbo-stream): what a client-side navigation downloads, and what a full page load inlines in
its HTML. The table shows its uncompressed bytes, and its size after gzip for reference.
Signed-in pages are measured for each of the ${SIGN_IN_PATIENTS.length} sandbox patients who can sign in, and each row
shows the largest. The budget is ${kilobytes(LOADER_DATA_BUDGET_BYTES)} KB uncompressed per page.
`,
    rows,
    failures,
  };
}

/** Returns the body of `<path>.data`, or the status when it is not 200. */
async function readLoaderData(
  baseUrl: string,
  path: string,
  cookie: string | undefined,
): Promise<Buffer | number> {
  const dataPath = path === '/' ? '/_root.data' : `${path}.data`;
  const response = await fetch(`${baseUrl}${dataPath}`, {
    headers: { 'accept-encoding': 'identity', ...(cookie ? { cookie } : {}) },
    redirect: 'manual',
  });
  const body = Buffer.from(await response.arrayBuffer());
  return response.status === 200 ? body : response.status;
}
