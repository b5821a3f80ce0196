/**
 * Page weight: the bytes of each page's first HTML response as sent (gzip, headers included),
 * against the 14 KB a new TCP connection can deliver in its first round trip (ten segments of
 * about 1.4 KB), so a slow phone can start rendering after one round trip. Measured for every
 * sandbox patient who can sign in, because a page's size follows the patient's data; each row
 * shows the largest.
 */
import { request as httpRequest } from 'node:http';

import { type PatientClient, SIGN_IN_PATIENTS } from '../tests/support/patient-client';

import type { BenchPortal } from './bench-portal';
import { kilobytes, verdict, type BenchSection } from './report';

/** Headers and gzip body of a page's first response: ten TCP segments' worth. */
export const FIRST_RESPONSE_BUDGET_BYTES = 14_000;

/**
 * Pages over the budget on purpose, with the reason. A page listed here is reported, not failed.
 * Empty while every page fits.
 */
export const FIRST_RESPONSE_EXCEPTIONS: Record<string, string> = {};

export interface ResponseWeight {
  status: number;
  headerBytes: number;
  bodyBytes: number;
  contentEncoding: string | undefined;
}

/** Requests `url` with `cookie`, accepting gzip, and counts the bytes as they arrive. */
export function weighResponse(url: string, cookie: string | undefined): Promise<ResponseWeight> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      url,
      {
        headers: {
          accept: 'text/html',
          'accept-encoding': 'gzip',
          ...(cookie ? { cookie } : {}),
        },
      },
      (response) => {
        let bodyBytes = 0;
        response.on('data', (chunk: Buffer) => (bodyBytes += chunk.byteLength));
        response.on('error', reject);
        response.on('end', () => {
          const statusLine = `HTTP/1.1 ${response.statusCode} ${response.statusMessage}\r\n`;
          let headerBytes = Buffer.byteLength(statusLine) + 2;
          for (let index = 0; index < response.rawHeaders.length; index += 2) {
            headerBytes += Buffer.byteLength(
              `${response.rawHeaders[index]}: ${response.rawHeaders[index + 1]}\r\n`,
            );
          }
          resolve({
            status: response.statusCode ?? 0,
            headerBytes,
            bodyBytes,
            contentEncoding: response.headers['content-encoding'],
          });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

interface Page {
  /** The page as the report names it, e.g. /shipments/track/:trackingNumber. */
  name: string;
  path: string;
  signedIn: boolean;
  /** The status the page answers with; the not-found page answers 404. */
  status: number;
}

/** Lists the pages of one patient, with ids from the patient's data where a page needs one. */
export async function patientPages(client: PatientClient): Promise<Page[]> {
  const json = async <T>(path: string): Promise<T | undefined> => {
    const response = await client.request(path, { headers: { accept: 'application/json' } });
    // A patient without a care team gets 409 from scheduling: that patient has no visit pages.
    if (response.status === 409) return undefined;
    if (!response.ok) throw new Error(`GET ${path} answered ${response.status}.`);
    return (await response.json()) as T;
  };
  const shipments = await json<{
    shipments: { trackingNumber: string | null; status: string }[];
  }>('/api/patient/shipments');
  const appointments = await json<{ upcoming: { id: string; canChange: boolean }[] }>(
    '/api/patient/appointments',
  );
  // A shipment in transit, whose tracking page shows the map, and a visit the patient may still
  // change, whose pages open rather than respond 409.
  const tracked = shipments?.shipments.filter((shipment) => shipment.trackingNumber) ?? [];
  const trackingNumber = (tracked.find((shipment) => shipment.status === 'shipped') ?? tracked[0])
    ?.trackingNumber;
  const appointmentId = appointments?.upcoming.find((appointment) => appointment.canChange)?.id;
  const page = (name: string, path = name): Page => ({ name, path, signedIn: true, status: 200 });
  return [
    page('/'),
    page('/prescriptions'),
    page('/shipments'),
    ...(trackingNumber
      ? [page('/shipments/track/:trackingNumber', `/shipments/track/${trackingNumber}`)]
      : []),
    page('/messages'),
    ...(appointments ? [page('/scheduling')] : []),
    ...(appointmentId
      ? [
          page(
            '/scheduling/appointments/:id/reschedule',
            `/scheduling/appointments/${appointmentId}/reschedule`,
          ),
          page(
            '/scheduling/appointments/:id/cancel',
            `/scheduling/appointments/${appointmentId}/cancel`,
          ),
        ]
      : []),
    page('/notifications'),
    page('/profile'),
  ];
}

const SIGNED_OUT_PAGES: Page[] = [
  { name: '/login', path: '/login', signedIn: false, status: 200 },
  { name: '/login/canvas-error', path: '/login/canvas-error', signedIn: false, status: 200 },
  { name: '/session-expired', path: '/session-expired', signedIn: false, status: 200 },
  { name: 'a missing page (404)', path: '/no-such-page', signedIn: false, status: 404 },
];

interface Heaviest {
  weight: ResponseWeight;
  patients: number;
}

export async function measurePageWeight(bench: BenchPortal): Promise<BenchSection> {
  const { baseUrl } = bench.portal;
  const heaviest = new Map<string, Heaviest>();
  const failures: string[] = [];
  const record = async (page: Page, cookie: string | undefined) => {
    const weight = await weighResponse(`${baseUrl}${page.path}`, cookie);
    if (weight.status !== page.status) {
      failures.push(`${page.name} answered ${weight.status}, not ${page.status}`);
      return;
    }
    if (weight.contentEncoding !== 'gzip') failures.push(`${page.name} was sent uncompressed`);
    const current = heaviest.get(page.name);
    const total = (entry: ResponseWeight) => entry.headerBytes + entry.bodyBytes;
    heaviest.set(page.name, {
      weight: current && total(current.weight) >= total(weight) ? current.weight : weight,
      patients: (current?.patients ?? 0) + 1,
    });
  };

  for (const page of SIGNED_OUT_PAGES) await record(page, undefined);
  for (const patient of SIGN_IN_PATIENTS) {
    const client = await bench.signInClient(patient.email);
    for (const page of await patientPages(client)) await record(page, client.cookieHeader());
  }

  const rows = [...heaviest].map(([name, { weight, patients }]) => {
    const total = weight.headerBytes + weight.bodyBytes;
    const exception = FIRST_RESPONSE_EXCEPTIONS[name];
    if (total > FIRST_RESPONSE_BUDGET_BYTES && !exception) {
      failures.push(
        `${name} sends ${kilobytes(total)} KB in its first response, more than ${kilobytes(FIRST_RESPONSE_BUDGET_BYTES)} KB`,
      );
    }
    return {
      page: name,
      'patients measured': patients,
      'headers (KB)': kilobytes(weight.headerBytes),
      'body (KB gzip)': kilobytes(weight.bodyBytes),
      'total (KB)': kilobytes(total),
      'within 14 KB': exception
        ? `no, on purpose: ${exception}`
        : verdict(total <= FIRST_RESPONSE_BUDGET_BYTES),
    };
  });

  return {
    title: 'First HTML response',
    method: `
Every page of the production build requested as a phone's first visit would: \`Accept-Encoding:
gzip\`, the session cookie for signed-in pages, no cache. The bytes are counted as they arrive:
the status line and headers (the Content-Security-Policy with its nonce is most of them) plus
the gzip body, which carries the page's HTML and its loader data. Signed-in pages are measured
for each of the ${SIGN_IN_PATIENTS.length} sandbox patients who can sign in, and each row shows the largest. The budget is
${kilobytes(FIRST_RESPONSE_BUDGET_BYTES)} KB, what a new TCP connection delivers in its first round trip. \`npm run bench:budget\` checks
it in CI.
`,
    rows,
    failures,
  };
}
