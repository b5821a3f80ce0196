/**
 * The pages the Lighthouse section audits, and how each is reached: as a signed-in demo patient
 * with ids from the patient's own data, or signed out.
 */
import { Temporal } from 'temporal-polyfill';

import { demoPatient, PatientClient } from '../tests/support/patient-client';

import type { BenchPortal } from './bench-portal';
import { patientPages } from './page-weight';

const TRACKING_PAGE = '/shipments/track/:trackingNumber';

/** The demo patient whose pages are audited: Marcus has a shipment in transit, so the map shows. */
export const AUDITED_PATIENT = demoPatient(1);

export interface AuditedPage {
  /** The page as the report names it, e.g. /shipments/track/:trackingNumber. */
  name: string;
  path: string;
  signedIn: boolean;
  /** Returns the Cookie header for one run: a session, the remembered sign-in email, or none. */
  cookie(): Promise<string | undefined>;
}

/**
 * Lists the pages to audit: the demo patient's, as bench/page-weight.ts lists them, after booking
 * a visit when none can be changed, then the signed-out pages.
 */
export async function listAuditedPages(bench: BenchPortal): Promise<AuditedPage[]> {
  const { baseUrl } = bench.portal;
  const { email } = AUDITED_PATIENT;
  const client = await bench.signInClient(email);
  await ensureChangeableAppointment(client);
  const pages = await patientPages(client);
  if (!pages.some((page) => page.name === TRACKING_PAGE)) {
    throw new Error(
      "The audited patient has no shipment with a tracking number. The bench database should contain the sandbox's demo shipments (bench/bench-portal.ts seeds them).",
    );
  }

  const signedOut = (name: string): AuditedPage => ({
    name,
    path: name,
    signedIn: false,
    cookie: () => Promise.resolve(undefined),
  });
  return [
    // A fresh session per page, so that no session idles out over the minutes the audits take.
    ...pages.map(({ name, path }) => ({
      name,
      path,
      signedIn: true,
      cookie: () => bench.signIn(email),
    })),
    signedOut('/login'),
    {
      name: '/login/verify',
      path: '/login/verify',
      signedIn: false,
      cookie: () => requestSignInCode(baseUrl, email),
    },
    signedOut('/session-expired'),
  ];
}

async function readJson<T>(client: PatientClient, pagePath: string): Promise<T> {
  const response = await client.request(pagePath, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`GET ${pagePath} returned status ${response.status}.`);
  return (await response.json()) as T;
}

/** Books a visit unless the patient has an upcoming one they may still reschedule or cancel. */
async function ensureChangeableAppointment(client: PatientClient): Promise<void> {
  const { upcoming, timeZone } = await readJson<{
    upcoming: { id: string; canChange: boolean }[];
    timeZone: string;
  }>(client, '/api/patient/appointments');
  if (upcoming.some((appointment) => appointment.canChange)) return;

  // Three days ahead is past the default 24-hour change cutoff.
  const today = Temporal.Now.plainDateISO(timeZone);
  for (let offset = 3; offset < 17; offset++) {
    const date = today.add({ days: offset }).toString();
    // The slot goes back to the API exactly as the availability returned it.
    const { slots } = await readJson<{ slots: unknown[] }>(
      client,
      `/api/patient/availability?date=${date}`,
    );
    const slot = slots[0];
    if (!slot) continue;
    const booked = await client.postJson('/api/patient/appointments', slot);
    if (booked.status !== 201)
      throw new Error(`Booking a visit failed with status ${booked.status}.`);
    return;
  }
  throw new Error('No open slot in the next two weeks to book a visit for the audit.');
}

/**
 * Requests a sign-in code through the /login form, as a browser would, and returns the cookie
 * that remembers the email for /login/verify.
 */
async function requestSignInCode(baseUrl: string, email: string): Promise<string> {
  const client = new PatientClient(baseUrl);
  const response = await client.postForm('/login', { email });
  const location = response.headers.get('location') ?? '';
  if (response.status !== 302 || !location.startsWith('/login/verify')) {
    throw new Error(
      `Requesting a sign-in code through /login failed with status ${response.status}.`,
    );
  }
  return client.cookieHeader();
}
