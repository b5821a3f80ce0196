import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import { Temporal } from 'temporal-polyfill';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import routes from '../../app/routes';
import {
  demoPatient,
  PatientClient,
  readSignInCode,
  signInByEmail,
} from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';

/**
 * One table over every route of the portal. For each route and method it checks that:
 * - a request without a session, or with a forged one, gets 401 JSON (API) or a redirect to
 *   /login (pages);
 * - patient A's session with patient B's id gets 404 and none of B's data, and changes nothing
 *   of B's. A GET without an id ignores B's id in the query;
 * - a JSON write with a field the route does not take gets 400 and writes nothing;
 * - a method the route does not serve gets 405.
 * The route-table tests fail when a route has no row, so a new route cannot skip these checks.
 * The last tests check that every cookie set during sign-in fits a browser's 4096-byte limit.
 */

const ROUTES_DIRECTORY = path.resolve(import.meta.dirname, '../../app/routes');
const SESSION_COOKIE = '__Host-portal_session';
const BROWSER_COOKIE_MAX_BYTES = 4096;

/** Fields a client might send to act for another patient or to set a state itself. */
const UNKNOWN_FIELDS = ['patientId', 'subject', 'status'] as const;

interface SlotJson {
  slotId: string;
  start: string;
  end: string;
  timeZone: string;
  practitioner: { id: string; name: string };
}

/**
 * Ids of one patient's records, read through that patient's own session in `beforeAll`. The
 * slot is always an open slot of A's practitioner, so a request with B's ids is valid apart from
 * whose records they are.
 */
interface RecordIds {
  /** A booked appointment, from GET /api/patient/appointments. */
  appointmentId: string;
  /** An unread notification, from GET /api/patient/notifications. */
  notificationId: string;
  /** A shipment, from GET /api/patient/shipments. */
  trackingNumber: string;
  slot: SlotJson;
}

interface RequestSpec {
  path: string;
  json?: Record<string, unknown>;
  form?: Record<string, string>;
}

/**
 * - patient: needs a signed-in patient.
 * - public: serves anyone. Listed here only for the unknown-field check.
 * - method-not-allowed: a method the endpoint does not serve, 405 for everyone.
 */
type Access = 'patient' | 'public' | 'method-not-allowed';

/** The patient-owned id a route reads, and where it reads it from. */
type TakenId =
  | 'appointmentId in path'
  | 'notificationId in path'
  | 'trackingNumber in path'
  | 'notification id form field'
  | 'none';

interface RouteRow {
  /** Route module as app/routes.ts names it. */
  file: string;
  method: 'GET' | 'POST';
  access: Access;
  takes: TakenId;
  request: (ids: RecordIds) => RequestSpec;
  /** True for JSON writes: a body with an unknown field must get 400 and write nothing. */
  rejectsUnknownFields?: boolean;
}

const ROUTE_TABLE: RouteRow[] = [
  // JSON sign-in: public, but their bodies are strict like every other JSON write.
  {
    file: 'routes/api.patient.auth.send-code.ts',
    method: 'GET',
    access: 'method-not-allowed',
    takes: 'none',
    request: () => ({ path: '/api/patient/auth/send-code' }),
  },
  {
    file: 'routes/api.patient.auth.send-code.ts',
    method: 'POST',
    access: 'public',
    takes: 'none',
    request: () => ({
      path: '/api/patient/auth/send-code',
      json: { email: demoPatient(0).email },
    }),
    rejectsUnknownFields: true,
  },
  {
    file: 'routes/api.patient.auth.verify.ts',
    method: 'GET',
    access: 'method-not-allowed',
    takes: 'none',
    request: () => ({ path: '/api/patient/auth/verify' }),
  },
  {
    file: 'routes/api.patient.auth.verify.ts',
    method: 'POST',
    access: 'public',
    takes: 'none',
    request: () => ({
      path: '/api/patient/auth/verify',
      json: { email: demoPatient(0).email, code: '000000' },
    }),
    rejectsUnknownFields: true,
  },

  // JSON API.
  {
    file: 'routes/api.patient.profile.ts',
    method: 'GET',
    access: 'patient',
    takes: 'none',
    request: () => ({ path: '/api/patient/profile' }),
  },
  {
    file: 'routes/api.patient.appointments.ts',
    method: 'GET',
    access: 'patient',
    takes: 'none',
    request: () => ({ path: '/api/patient/appointments' }),
  },
  {
    file: 'routes/api.patient.appointments.ts',
    method: 'POST',
    access: 'patient',
    takes: 'none',
    request: (ids) => ({ path: '/api/patient/appointments', json: { ...ids.slot } }),
    rejectsUnknownFields: true,
  },
  {
    file: 'routes/api.patient.appointments.reschedule.ts',
    method: 'GET',
    access: 'method-not-allowed',
    takes: 'appointmentId in path',
    request: (ids) => ({ path: `/api/patient/appointments/${ids.appointmentId}/reschedule` }),
  },
  {
    file: 'routes/api.patient.appointments.reschedule.ts',
    method: 'POST',
    access: 'patient',
    takes: 'appointmentId in path',
    request: (ids) => ({
      path: `/api/patient/appointments/${ids.appointmentId}/reschedule`,
      json: { ...ids.slot },
    }),
    rejectsUnknownFields: true,
  },
  {
    file: 'routes/api.patient.appointments.cancel.ts',
    method: 'GET',
    access: 'method-not-allowed',
    takes: 'appointmentId in path',
    request: (ids) => ({ path: `/api/patient/appointments/${ids.appointmentId}/cancel` }),
  },
  {
    file: 'routes/api.patient.appointments.cancel.ts',
    method: 'POST',
    access: 'patient',
    takes: 'appointmentId in path',
    request: (ids) => ({
      path: `/api/patient/appointments/${ids.appointmentId}/cancel`,
      json: { reason: 'Access-control matrix' },
    }),
    rejectsUnknownFields: true,
  },
  {
    file: 'routes/api.patient.availability.ts',
    method: 'GET',
    access: 'patient',
    takes: 'none',
    request: (ids) => ({ path: `/api/patient/availability?date=${ids.slot.start.slice(0, 10)}` }),
  },
  {
    file: 'routes/api.patient.messages.ts',
    method: 'GET',
    access: 'patient',
    takes: 'none',
    request: () => ({ path: '/api/patient/messages' }),
  },
  {
    file: 'routes/api.patient.messages.ts',
    method: 'POST',
    access: 'patient',
    takes: 'none',
    request: () => ({
      path: '/api/patient/messages',
      json: { text: 'A message the access-control matrix must never store.' },
    }),
    rejectsUnknownFields: true,
  },
  {
    file: 'routes/api.patient.notifications.ts',
    method: 'GET',
    access: 'patient',
    takes: 'none',
    request: () => ({ path: '/api/patient/notifications' }),
  },
  {
    file: 'routes/api.patient.notifications.read-all.ts',
    method: 'GET',
    access: 'method-not-allowed',
    takes: 'none',
    request: () => ({ path: '/api/patient/notifications/read-all' }),
  },
  {
    file: 'routes/api.patient.notifications.read-all.ts',
    method: 'POST',
    access: 'patient',
    takes: 'none',
    request: () => ({ path: '/api/patient/notifications/read-all', json: {} }),
    rejectsUnknownFields: true,
  },
  {
    file: 'routes/api.patient.notifications.read.ts',
    method: 'GET',
    access: 'method-not-allowed',
    takes: 'notificationId in path',
    request: (ids) => ({ path: `/api/patient/notifications/${ids.notificationId}/read` }),
  },
  {
    file: 'routes/api.patient.notifications.read.ts',
    method: 'POST',
    access: 'patient',
    takes: 'notificationId in path',
    request: (ids) => ({ path: `/api/patient/notifications/${ids.notificationId}/read`, json: {} }),
    rejectsUnknownFields: true,
  },
  {
    file: 'routes/api.patient.prescriptions.ts',
    method: 'GET',
    access: 'patient',
    takes: 'none',
    request: () => ({ path: '/api/patient/prescriptions' }),
  },
  {
    file: 'routes/api.patient.shipments.ts',
    method: 'GET',
    access: 'patient',
    takes: 'none',
    request: () => ({ path: '/api/patient/shipments' }),
  },
  {
    file: 'routes/api.patient.session.ts',
    method: 'GET',
    access: 'patient',
    takes: 'none',
    request: () => ({ path: '/api/patient/session' }),
  },
  {
    file: 'routes/api.patient.session.ts',
    method: 'POST',
    access: 'method-not-allowed',
    takes: 'none',
    request: () => ({ path: '/api/patient/session', json: {} }),
  },
  {
    file: 'routes/api.patient.session.keepalive.ts',
    method: 'GET',
    access: 'method-not-allowed',
    takes: 'none',
    request: () => ({ path: '/api/patient/session/keepalive' }),
  },
  {
    file: 'routes/api.patient.session.keepalive.ts',
    method: 'POST',
    access: 'patient',
    takes: 'none',
    request: () => ({ path: '/api/patient/session/keepalive', json: {} }),
    rejectsUnknownFields: true,
  },
  {
    file: 'routes/api.patient.tracking.ts',
    method: 'GET',
    access: 'patient',
    takes: 'trackingNumber in path',
    request: (ids) => ({ path: `/api/patient/tracking/${ids.trackingNumber}` }),
  },

  // Pages. Their forms are read field by field, so an extra form field is never used.
  {
    file: 'routes/dashboard.tsx',
    method: 'GET',
    access: 'patient',
    takes: 'none',
    request: () => ({ path: '/' }),
  },
  {
    file: 'routes/messages.tsx',
    method: 'GET',
    access: 'patient',
    takes: 'none',
    request: () => ({ path: '/messages' }),
  },
  {
    file: 'routes/messages.tsx',
    method: 'POST',
    access: 'patient',
    takes: 'none',
    request: () => ({
      path: '/messages',
      form: { text: 'A message the access-control matrix must never store.' },
    }),
  },
  {
    file: 'routes/notifications.tsx',
    method: 'GET',
    access: 'patient',
    takes: 'none',
    request: () => ({ path: '/notifications' }),
  },
  {
    file: 'routes/notifications.tsx',
    method: 'POST',
    access: 'patient',
    takes: 'notification id form field',
    request: (ids) => ({
      path: '/notifications',
      form: { intent: 'read', id: ids.notificationId },
    }),
  },
  {
    file: 'routes/prescriptions.tsx',
    method: 'GET',
    access: 'patient',
    takes: 'none',
    request: () => ({ path: '/prescriptions' }),
  },
  {
    file: 'routes/profile.tsx',
    method: 'GET',
    access: 'patient',
    takes: 'none',
    request: () => ({ path: '/profile' }),
  },
  {
    file: 'routes/profile.tsx',
    method: 'POST',
    access: 'patient',
    takes: 'none',
    request: () => ({ path: '/profile', form: {} }),
  },
  {
    file: 'routes/scheduling.tsx',
    method: 'GET',
    access: 'patient',
    takes: 'none',
    request: () => ({ path: '/scheduling' }),
  },
  {
    file: 'routes/scheduling.tsx',
    method: 'POST',
    access: 'patient',
    takes: 'none',
    request: (ids) => ({ path: '/scheduling', form: slotFormFields(ids.slot) }),
  },
  {
    file: 'routes/scheduling.reschedule.tsx',
    method: 'GET',
    access: 'patient',
    takes: 'appointmentId in path',
    request: (ids) => ({ path: `/scheduling/appointments/${ids.appointmentId}/reschedule` }),
  },
  {
    file: 'routes/scheduling.reschedule.tsx',
    method: 'POST',
    access: 'patient',
    takes: 'appointmentId in path',
    request: (ids) => ({
      path: `/scheduling/appointments/${ids.appointmentId}/reschedule`,
      form: slotFormFields(ids.slot),
    }),
  },
  {
    file: 'routes/scheduling.cancel.tsx',
    method: 'GET',
    access: 'patient',
    takes: 'appointmentId in path',
    request: (ids) => ({ path: `/scheduling/appointments/${ids.appointmentId}/cancel` }),
  },
  {
    file: 'routes/scheduling.cancel.tsx',
    method: 'POST',
    access: 'patient',
    takes: 'appointmentId in path',
    request: (ids) => ({
      path: `/scheduling/appointments/${ids.appointmentId}/cancel`,
      form: { idempotencyKey: crypto.randomUUID(), reason: 'Access-control matrix' },
    }),
  },
  {
    file: 'routes/shipments.tsx',
    method: 'GET',
    access: 'patient',
    takes: 'none',
    request: () => ({ path: '/shipments' }),
  },
  {
    file: 'routes/shipments.track.tsx',
    method: 'GET',
    access: 'patient',
    takes: 'trackingNumber in path',
    request: (ids) => ({ path: `/shipments/track/${ids.trackingNumber}` }),
  },
];

/** Routes that serve anyone and take no patient-owned id, with the reason. */
const PUBLIC_ROUTES: Record<string, string> = {
  'routes/login.tsx': 'the sign-in form',
  'routes/login.verify.tsx': 'the sign-in code form',
  'routes/login.canvas-error.tsx': 'explains a failed Canvas sign-in and shows no patient data',
  'routes/auth.canvas.ts': 'starts Canvas sign-in',
  'routes/logout.tsx': 'ends only the caller’s own session and reads no body',
  'routes/api.patient.auth.logout.ts': 'ends only the caller’s own session and reads no body',
  'routes/api.patient.auth.canvas-callback.ts': 'completes Canvas sign-in',
  'routes/api.not-found.ts': '404 JSON for unknown API paths',
  'routes/not-found.tsx': '404 page for unknown paths',
  'routes/session-expired.tsx': 'explains why a session ended and shows no patient data',
};

interface PatientData {
  profile: {
    id: string;
    name: { full?: string; first?: string };
    email?: string;
    birthDate?: string;
    phone?: string;
    address: string[];
    practitioner?: { name?: string };
  };
  appointments: { id: string; start: string; status: string; joinUrl?: string }[];
  notifications: { id: string; readAt: string | null }[];
  trackingNumbers: string[];
  messageIds: string[];
  mailCount: number;
}

let portal: PortalServer;
/** Patient A, who makes the requests. */
let owner: PatientClient;
/** Patient B, whose ids A sends. */
let other: PatientClient;
let ownerIds: RecordIds;
let otherIds: RecordIds;
/** Strings from B's records that A must never receive. */
let otherMarkers: string[];

beforeAll(async () => {
  portal = await startPortalServer();
  [owner, other] = await Promise.all([
    signInByEmail(portal.baseUrl, demoPatient(0).email),
    signInByEmail(portal.baseUrl, demoPatient(1).email),
  ]);

  const slot = await findOpenSlot(owner, demoPatient(0).timeZone);
  const [ownerData, otherData] = await Promise.all([
    readPatientData(owner, demoPatient(0).email),
    readPatientData(other, demoPatient(1).email),
  ]);
  ownerIds = recordIdsOf(ownerData, slot);
  otherIds = recordIdsOf(otherData, slot);
  const ownerMarkers = new Set(markersOf(ownerData));
  otherMarkers = markersOf(otherData).filter((marker) => !ownerMarkers.has(marker));
});

afterAll(async () => {
  await portal?.stop();
});

describe('route table', () => {
  it('has a row for every route module', async () => {
    const configured = configuredRoutes().map((route) => route.file);
    const onDisk = (await readdir(ROUTES_DIRECTORY))
      .filter((name) => /\.tsx?$/.test(name) && !name.includes('.test.'))
      .map((name) => `routes/${name}`);
    const listed = new Set([...ROUTE_TABLE.map((row) => row.file), ...Object.keys(PUBLIC_ROUTES)]);

    const missing = [...new Set([...configured, ...onDisk])].filter((file) => !listed.has(file));

    expect(missing, 'route modules without a row in ROUTE_TABLE or PUBLIC_ROUTES').toEqual([]);
  });

  it('has a row for each method a route serves', async () => {
    const missing: string[] = [];
    for (const file of new Set(ROUTE_TABLE.map((row) => row.file))) {
      const source = await readFile(path.join(ROUTES_DIRECTORY, path.basename(file)), 'utf8');
      const methods = ROUTE_TABLE.filter((row) => row.file === file).map((row) => row.method);
      if (exportsHandler(source, 'loader') && !methods.includes('GET')) missing.push(`GET ${file}`);
      if (exportsHandler(source, 'action') && !methods.includes('POST')) {
        missing.push(`POST ${file}`);
      }
    }

    expect(missing, 'handlers without a row in ROUTE_TABLE').toEqual([]);
  });

  it('names the id of every route with a path parameter', () => {
    const parameterized = configuredRoutes().filter((route) => route.path.includes(':'));
    const unnamed = parameterized
      .flatMap((route) => ROUTE_TABLE.filter((row) => row.file === route.file))
      .filter((row) => row.takes === 'none')
      .map((row) => `${row.method} ${row.file}`);

    expect(parameterized.length).toBeGreaterThan(0);
    expect(unnamed, 'rows of parameterized routes with takes: none').toEqual([]);
  });
});

describe('without a session', () => {
  const rows = ROUTE_TABLE.filter((row) => row.access === 'patient');

  it.each(named(rows))('%s needs a session', async (_name, row) => {
    for (const client of [new PatientClient(portal.baseUrl), forgedSessionClient()]) {
      const spec = row.request(otherIds);
      const response = await send(client, row.method, spec);

      if (isApi(spec)) {
        expect(response.status).toBe(401);
        expect(response.headers.get('content-type')).toContain('application/json');
        expect(await errorCode(response.clone())).toBe('unauthenticated');
      } else {
        expect([302, 303]).toContain(response.status);
        const location = new URL(response.headers.get('location') ?? '', portal.baseUrl);
        expect(location.pathname).toBe('/login');
        if (spec.path !== '/') expect(location.searchParams.get('redirectTo')).toBe(spec.path);
      }
      expect(await response.text()).not.toContain(demoPatient(1).email);
    }
  });
});

describe('with a method the route does not serve', () => {
  const rows = ROUTE_TABLE.filter((row) => row.access === 'method-not-allowed');

  it.each(named(rows))('%s answers 405 to anyone', async (_name, row) => {
    for (const client of [new PatientClient(portal.baseUrl), owner]) {
      const response = await send(client, row.method, row.request(otherIds));

      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBeTruthy();
    }
  });
});

describe('with an unknown JSON field', () => {
  const rows = ROUTE_TABLE.filter((row) => row.rejectsUnknownFields);

  it.each(named(rows))('%s rejects it and writes nothing', async (_name, row) => {
    const before = await readBothPatients();

    for (const field of UNKNOWN_FIELDS) {
      const spec = row.request(ownerIds);
      const json = {
        ...spec.json,
        [field]: field === 'status' ? 'cancelled' : `Patient/${demoPatient(1).id}`,
      };
      const response = await send(owner, row.method, { ...spec, json });

      expect(response.status, field).toBe(400);
      expect(response.headers.has('set-cookie'), field).toBe(false);
      const body = (await response.json()) as {
        error: { code: string; fields?: Record<string, string> };
      };
      expect(body.error.code, field).toBe('invalid_request');
      expect(body.error.fields?.[field], field).toBe('This field is not accepted.');
    }

    expect(await readBothPatients()).toEqual(before);
  });
});

describe('with another patient’s id', () => {
  const rowsWithId = ROUTE_TABLE.filter((row) => row.access === 'patient' && row.takes !== 'none');
  const listRows = ROUTE_TABLE.filter(
    (row) => row.access === 'patient' && row.takes === 'none' && row.method === 'GET',
  );

  it.each(named(rowsWithId))('%s answers 404 and changes nothing', async (_name, row) => {
    const before = await readPatientData(other, demoPatient(1).email);
    const spec = row.request(otherIds);

    const response = await send(owner, row.method, spec);

    expect(response.status).toBe(404);
    if (isApi(spec)) expect(await errorCode(response.clone())).toBe('not_found');
    expectNoOtherPatientData(await response.text(), spec);
    expect(await readPatientData(other, demoPatient(1).email)).toEqual(before);
  });

  it.each(named(listRows))('%s ignores a patient named in the query', async (_name, row) => {
    const spec = row.request(ownerIds);
    const separator = spec.path.includes('?') ? '&' : '?';
    const query = new URLSearchParams({
      patient: demoPatient(1).id,
      patientId: demoPatient(1).id,
      subject: `Patient/${demoPatient(1).id}`,
    });

    const specNamingOther = { ...spec, path: `${spec.path}${separator}${query}` };

    const response = await send(owner, row.method, specNamingOther);

    expect(response.status).toBe(200);
    expectNoOtherPatientData(await response.text(), specNamingOther);
  });
});

describe('session cookie size', () => {
  it('stays under 4096 bytes for an email-code sign-in by API', async () => {
    const email = demoPatient(2).email;
    const client = new PatientClient(portal.baseUrl);
    const setCookies: string[] = [];

    const since = new Date();
    setCookies.push(
      ...readSetCookies(await client.postJson('/api/patient/auth/send-code', { email })),
    );
    const code = await readSignInCode(portal.baseUrl, email, since);
    setCookies.push(
      ...readSetCookies(await client.postJson('/api/patient/auth/verify', { email, code })),
    );

    expectCookiesFit(setCookies);
  });

  it('stays under 4096 bytes for an email-code sign-in by pages', async () => {
    const email = demoPatient(2).email;
    const client = new PatientClient(portal.baseUrl);
    const setCookies: string[] = [];

    const since = new Date();
    setCookies.push(...readSetCookies(await client.postForm('/login', { email })));
    const code = await readSignInCode(portal.baseUrl, email, since);
    const verify = await client.postForm('/login/verify', { email, code });
    expect(verify.status).toBe(302);
    setCookies.push(...readSetCookies(verify));

    expectCookiesFit(setCookies);
  });

  it('stays under 4096 bytes for a Canvas sign-in', async () => {
    const client = new PatientClient(portal.baseUrl);
    const setCookies: string[] = [];

    const start = await client.request(`/auth/canvas?login_hint=${demoPatient(2).id}`);
    setCookies.push(...readSetCookies(start));
    const authorize = new URL(start.headers.get('location') ?? '');
    const form = new URLSearchParams(authorize.searchParams);
    form.set('decision', 'allow');
    form.set('patient', demoPatient(2).id);
    const canvas = await fetch(new URL('/sandbox/canvas-oauth/authorize', portal.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
      redirect: 'manual',
    });
    const callback = new URL(canvas.headers.get('location') ?? '');
    const signedIn = await client.request(`${callback.pathname}${callback.search}`);
    expect(signedIn.headers.get('location')).toBe('/');
    setCookies.push(...readSetCookies(signedIn));

    expectCookiesFit(setCookies);
  });
});

/** Pairs each row with a test name such as `POST routes/messages.tsx`. */
function named(rows: RouteRow[]): [string, RouteRow][] {
  return rows.map((row) => [`${row.method} ${row.file}`, row]);
}

/** Sends `spec` as `method`: JSON or form body for POST, none for GET. */
function send(client: PatientClient, method: RouteRow['method'], spec: RequestSpec) {
  if (method === 'GET') return client.request(spec.path);
  if (spec.form) return client.postForm(spec.path, spec.form);
  return client.postJson(spec.path, spec.json ?? {});
}

function isApi(spec: RequestSpec): boolean {
  return spec.path.startsWith('/api/');
}

async function errorCode(response: Response): Promise<string | undefined> {
  return ((await response.json()) as { error?: { code?: string } }).error?.code;
}

/** Fails when `body` contains any of B's data that the request itself did not carry. */
function expectNoOtherPatientData(body: string, spec: RequestSpec): void {
  const sent = JSON.stringify(spec);
  const leaked = otherMarkers.filter((marker) => !sent.includes(marker) && body.includes(marker));
  expect(leaked, 'data of the other patient in the response').toEqual([]);
}

/**
 * A client whose session cookie carries B's subject and session id under A's signature, so only
 * the signature check keeps it out of B's session.
 */
function forgedSessionClient(): PatientClient {
  const [header, ownerPayload, signature] = (owner.cookie(SESSION_COOKIE) ?? '').split('.');
  const [, otherPayload] = (other.cookie(SESSION_COOKIE) ?? '').split('.');
  if (!header || !ownerPayload || !signature || !otherPayload) {
    throw new Error('Patients A and B need session JWTs.');
  }
  const decode = (payload: string) =>
    JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  const { sub, sid } = decode(otherPayload);
  const forged = Buffer.from(JSON.stringify({ ...decode(ownerPayload), sub, sid })).toString(
    'base64url',
  );

  const client = new PatientClient(portal.baseUrl);
  client.setCookie(SESSION_COOKIE, `${header}.${forged}.${signature}`);
  return client;
}

function slotFormFields(slot: SlotJson): Record<string, string> {
  return {
    slotId: slot.slotId,
    start: slot.start,
    end: slot.end,
    timeZone: slot.timeZone,
    practitionerId: slot.practitioner.id,
    practitionerName: slot.practitioner.name,
    idempotencyKey: crypto.randomUUID(),
  };
}

/** Returns an open slot of A's practitioner from two days on, looking two weeks ahead. */
async function findOpenSlot(client: PatientClient, timeZone: string): Promise<SlotJson> {
  const today = Temporal.Now.plainDateISO(timeZone);
  for (let offset = 2; offset < 16; offset++) {
    const response = await client.request(
      `/api/patient/availability?date=${today.add({ days: offset }).toString()}`,
    );
    const { slots } = (await response.json()) as { slots: SlotJson[] };
    if (slots[0]) return slots[0];
  }
  throw new Error('Patient A has no open slot in two weeks.');
}

/** Reads what a patient's session can see of the records the routes take or change. */
async function readPatientData(client: PatientClient, email: string): Promise<PatientData> {
  const readJson = async <T>(requestPath: string): Promise<T> => {
    const response = await client.request(requestPath);
    if (response.status !== 200) throw new Error(`GET ${requestPath} failed: ${response.status}`);
    return (await response.json()) as T;
  };
  const [profile, appointments, feed, shipments, conversation, mail] = await Promise.all([
    readJson<PatientData['profile']>('/api/patient/profile'),
    readJson<{ upcoming: PatientData['appointments']; past: PatientData['appointments'] }>(
      '/api/patient/appointments',
    ),
    readJson<{ notifications: PatientData['notifications'] }>('/api/patient/notifications'),
    readJson<{ shipments: { trackingNumber: string }[] }>('/api/patient/shipments'),
    readJson<{ messages: { id: string }[] }>('/api/patient/messages'),
    fetch(`${portal.baseUrl}/sandbox/mail/messages?${new URLSearchParams({ to: email })}`).then(
      (response) => response.json() as Promise<unknown[]>,
    ),
  ]);
  return {
    profile,
    appointments: [...appointments.upcoming, ...appointments.past].map(
      ({ id, start, status, joinUrl }) => ({ id, start, status, joinUrl }),
    ),
    notifications: feed.notifications.map(({ id, readAt }) => ({ id, readAt })),
    trackingNumbers: shipments.shipments.map((shipment) => shipment.trackingNumber),
    messageIds: conversation.messages.map((message) => message.id),
    mailCount: mail.length,
  };
}

function readBothPatients(): Promise<PatientData[]> {
  return Promise.all([
    readPatientData(owner, demoPatient(0).email),
    readPatientData(other, demoPatient(1).email),
  ]);
}

function recordIdsOf(data: PatientData, slot: SlotJson): RecordIds {
  const appointmentId = data.appointments.find((item) => item.status === 'booked')?.id;
  const notificationId = data.notifications.find((item) => item.readAt === null)?.id;
  const trackingNumber = data.trackingNumbers[0];
  if (!appointmentId || !notificationId || !trackingNumber) {
    throw new Error(
      `Patient ${data.profile.id} needs a booked appointment, an unread notification and a shipment.`,
    );
  }
  return { appointmentId, notificationId, trackingNumber, slot };
}

/** Returns strings that identify a patient's records: personal details and record ids. */
function markersOf(data: PatientData): string[] {
  const { profile } = data;
  const candidates = [
    profile.id,
    profile.name.full,
    profile.name.first,
    profile.name.full?.split(' ').at(-1),
    profile.email,
    profile.birthDate,
    profile.phone,
    ...profile.address,
    profile.practitioner?.name,
    ...data.appointments.flatMap((appointment) => [appointment.id, appointment.joinUrl]),
    ...data.notifications.map((notification) => notification.id),
    ...data.trackingNumbers,
    ...data.messageIds,
  ];
  return [...new Set(candidates.filter((value): value is string => Boolean(value)))];
}

function readSetCookies(response: Response): string[] {
  return response.headers.getSetCookie();
}

/** Checks that sign-in set a session cookie and that every cookie fits a browser's limit. */
function expectCookiesFit(setCookies: string[]): void {
  const session = setCookies.find((cookie) => cookie.startsWith(`${SESSION_COOKIE}=`));
  expect(session, 'session Set-Cookie').toBeDefined();
  expect(Buffer.byteLength(session ?? '')).toBeLessThan(BROWSER_COOKIE_MAX_BYTES);
  for (const cookie of setCookies) {
    const name = cookie.slice(0, cookie.indexOf('='));
    expect(Buffer.byteLength(cookie), name).toBeLessThan(BROWSER_COOKIE_MAX_BYTES);
  }
}

/** Returns every route of app/routes.ts with its full path, nested routes included. */
function configuredRoutes(): { file: string; path: string }[] {
  interface ConfigEntry {
    file: string;
    path?: string;
    index?: boolean;
    children?: ConfigEntry[];
  }
  const flatten = (entries: ConfigEntry[], parent: string): { file: string; path: string }[] =>
    entries.flatMap((entry) => {
      const fullPath = [parent, entry.path ?? ''].filter(Boolean).join('/');
      return [{ file: entry.file, path: fullPath }, ...flatten(entry.children ?? [], fullPath)];
    });
  return flatten(routes as ConfigEntry[], '');
}

function exportsHandler(source: string, name: 'loader' | 'action'): boolean {
  return new RegExp(`export (async )?function ${name}\\b|export const ${name}\\b`).test(source);
}
