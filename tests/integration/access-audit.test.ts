import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  demoPatient,
  PatientClient,
  signInByEmail,
  signInOncePerEmail,
} from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';

interface AuditRow {
  occurred_at: string;
  event_type: string;
  outcome: string;
  patient_id: string | null;
  session_id: string | null;
  request_id: string;
  action: string | null;
  resource_type: string | null;
  resource_id: string | null;
  client_ip: string | null;
  details: Record<string, unknown>;
}

let portal: PortalServer;
let signIn: (email: string) => Promise<PatientClient>;

beforeAll(async () => {
  portal = await startPortalServer();
  signIn = signInOncePerEmail(portal.baseUrl);
});

afterAll(async () => {
  await portal?.stop();
});

/** Waits for the audit rows of one request: the portal writes them after it responds. */
async function auditRowsOf(response: Response, waitMs = 5_000): Promise<AuditRow[]> {
  const requestId = response.headers.get('x-request-id') ?? '';
  const deadline = Date.now() + waitMs;
  for (;;) {
    const rows = (await (
      await fetch(`${portal.baseUrl}/sandbox/audit-events?${new URLSearchParams({ requestId })}`)
    ).json()) as AuditRow[];
    const access = rows.filter((row) => row.event_type === 'patient_data.access');
    if (access.length > 0 || Date.now() > deadline) return access;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('patient data access audit', () => {
  it.each([
    ['/prescriptions', 'MedicationRequest'],
    ['/prescriptions.data', 'MedicationRequest'],
    ['/api/patient/prescriptions', 'MedicationRequest'],
    ['/api/patient/messages', 'Communication'],
    ['/shipments', 'Shipment'],
    ['/api/patient/appointments', 'Appointment'],
    ['/api/patient/notifications', 'Notification'],
  ])('records a read of %s', async (path, resourceType) => {
    const patient = demoPatient(0);
    const client = await signIn(patient.email);
    const response = await client.request(path);
    expect(response.status).toBe(200);

    const [row, ...others] = await auditRowsOf(response);
    expect(others).toEqual([]);
    expect(row?.outcome).toBe('success');
    expect(row?.action).toBe('read');
    expect(row?.resource_type).toBe(resourceType);
    expect(row?.patient_id).toBe(patient.id);
    expect(row?.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(row?.client_ip).toMatch(/127\.0\.0\.1$/);
    expect(new Date(row?.occurred_at ?? '').getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('records the dashboard as a read of the patient', async () => {
    const patient = demoPatient(0);
    const response = await (await signIn(patient.email)).request('/');
    const [row] = await auditRowsOf(response);
    expect(row?.resource_type).toBe('Patient');
    expect(row?.resource_id).toBe(patient.id);
    expect(row?.details.includes).toContain('MedicationRequest');
  });

  it('records a write', async () => {
    const patient = demoPatient(0);
    const response = await (
      await signIn(patient.email)
    ).postJson('/api/patient/notifications/read-all', {});
    expect(response.status).toBeLessThan(300);

    const [row] = await auditRowsOf(response);
    expect(row?.action).toBe('update');
    expect(row?.resource_type).toBe('Notification');
    expect(row?.outcome).toBe('success');
    expect(row?.details.method).toBe('POST');
  });

  it('records another patient’s id as denied', async () => {
    const owner = await signIn(demoPatient(1).email);
    const shipments = (await (await owner.request('/api/patient/shipments')).json()) as {
      shipments: { trackingNumber: string }[];
    };
    const trackingNumber = shipments.shipments[0]?.trackingNumber ?? '';
    expect(trackingNumber).not.toBe('');

    const intruder = demoPatient(0);
    const response = await (
      await signIn(intruder.email)
    ).request(`/api/patient/tracking/${trackingNumber}`);
    expect(response.status).toBe(404);

    const [row] = await auditRowsOf(response);
    expect(row?.outcome).toBe('denied');
    expect(row?.patient_id).toBe(intruder.id);
    expect(row?.resource_type).toBe('Shipment');
    expect(row?.resource_id).toBe(trackingNumber);
  });

  it('records a request without a session as denied', async () => {
    const response = await fetch(`${portal.baseUrl}/api/patient/profile`);
    expect(response.status).toBe(401);

    const [row] = await auditRowsOf(response);
    expect(row?.outcome).toBe('denied');
    expect(row?.patient_id).toBeNull();
    expect(row?.details.reason).toBe('no_session');
  });

  it('records an ended session as denied', async () => {
    const client = await signInByEmail(portal.baseUrl, demoPatient(2).email);
    const cookies = client.cookieHeader();
    expect((await client.postJson('/api/patient/auth/logout', {})).status).toBeLessThan(300);

    const stale = new PatientClient(portal.baseUrl);
    const response = await stale.request('/messages', { headers: { cookie: cookies } });
    expect(response.status).toBe(302);

    const [row] = await auditRowsOf(response);
    expect(row?.outcome).toBe('denied');
    expect(row?.details.reason).toBe('revoked');
    expect(row?.patient_id).toBe(demoPatient(2).id);
    expect(row?.resource_type).toBe('Communication');
  });

  it('records the client IP of a code request', async () => {
    const response = await new PatientClient(portal.baseUrl).postJson(
      '/api/patient/auth/send-code',
      { email: demoPatient(1).email },
    );
    expect(response.status).toBe(202);
    const requestId = response.headers.get('x-request-id') ?? '';
    const rows = (await (
      await fetch(`${portal.baseUrl}/sandbox/audit-events?${new URLSearchParams({ requestId })}`)
    ).json()) as AuditRow[];
    const requested = rows.find((row) => row.event_type === 'sign_in.code_requested');
    expect(requested?.patient_id).toBe(demoPatient(1).id);
    expect(requested?.client_ip).toMatch(/127\.0\.0\.1$/);
  });

  it('records each request when two share a request id', async () => {
    const client = await signIn(demoPatient(0).email);
    const requestId = `shared-${Date.now()}`;
    const headers = { 'x-request-id': requestId };
    const responses = await Promise.all([
      client.request('/api/patient/messages', { headers }),
      client.request('/api/patient/profile', { headers }),
      fetch(`${portal.baseUrl}/api/patient/prescriptions`, { headers }),
    ]);
    expect(responses.map((response) => response.status)).toEqual([200, 200, 401]);

    const deadline = Date.now() + 5_000;
    let rows: AuditRow[] = [];
    while (rows.length < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      rows = (await auditRowsOf(responses[0])).filter((row) => row.request_id === requestId);
    }
    const byType = Object.fromEntries(
      rows.map((row): [string, string] => [row.resource_type ?? '', row.outcome]),
    );
    expect(byType).toEqual({
      Communication: 'success',
      Patient: 'success',
      MedicationRequest: 'denied',
    });
  });

  it('records a denied id that holds a NUL byte', async () => {
    const response = await (
      await signIn(demoPatient(0).email)
    ).postJson('/api/patient/notifications/x%00y/read', {});
    expect(response.status).toBe(404);

    const [row] = await auditRowsOf(response);
    expect(row?.outcome).toBe('denied');
    expect(row?.resource_id).toBe('x\uFFFDy');
  });

  it('names the resource of a path in another case', async () => {
    const response = await (await signIn(demoPatient(0).email)).request('/API/Patient/Messages/');
    expect(response.status).toBe(200);

    const [row] = await auditRowsOf(response);
    expect(row?.resource_type).toBe('Communication');
  });

  it('records the root data a page request reads', async () => {
    const response = await (
      await signIn(demoPatient(0).email)
    ).request('/messages.data?_routes=root');
    expect(response.status).toBe(200);

    const [row] = await auditRowsOf(response);
    expect(row?.patient_id).toBe(demoPatient(0).id);
    expect(row?.outcome).toBe('success');
  });

  it('records nothing for pages without patient data', async () => {
    const response = await fetch(`${portal.baseUrl}/login`);
    expect(response.status).toBe(200);
    expect(await auditRowsOf(response, 1_000)).toEqual([]);
  });
});
