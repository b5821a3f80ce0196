import type { Appointment, Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  demoPatient,
  type PatientClient,
  readPageHtml,
  signInOncePerEmail,
} from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';
import { SandboxFhir } from '../support/sandbox-fhir';

interface NotificationJson {
  id: string;
  type: string;
  title: string;
  body: string;
  link: string;
  createdAt: string;
  readAt: string | null;
}

interface FeedJson {
  notifications: NotificationJson[];
  nextCursor: string | null;
  unreadCount: number;
}

let portal: PortalServer;
let fhir: SandboxFhir;
let signIn: (email: string) => Promise<PatientClient>;

beforeAll(async () => {
  // The jobs run only when a test calls them, so each test controls them.
  portal = await startPortalServer({ NOTIFICATION_WORKER: 'off' });
  fhir = new SandboxFhir(portal.baseUrl);
  signIn = signInOncePerEmail(portal.baseUrl);
});

afterAll(async () => {
  await portal?.stop();
});

const ava = () => signIn(demoPatient(0).email);
const marcus = () => signIn(demoPatient(1).email);

async function feed(client: PatientClient): Promise<FeedJson> {
  const response = await client.request('/api/patient/notifications');
  expect(response.status).toBe(200);
  return (await response.json()) as FeedJson;
}

async function ofType(client: PatientClient, type: string): Promise<NotificationJson[]> {
  return (await feed(client)).notifications.filter((notification) => notification.type === type);
}

/** Runs the notification jobs twice at once, as two workers would, as of `now`. */
async function runJobsTwiceAtOnce(now: Date): Promise<void> {
  const run = () =>
    fetch(`${portal.baseUrl}/sandbox/jobs/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ now: now.toISOString() }),
    });
  const responses = await Promise.all([run(), run()]);
  expect(responses.map((response) => response.status)).toEqual([200, 200]);
}

async function advanceShipment(trackingNumber: string): Promise<number> {
  const response = await fetch(`${portal.baseUrl}/sandbox/shipments/${trackingNumber}/advance`, {
    method: 'POST',
  });
  return response.status;
}

describe('triggers', () => {
  it('notifies once when a shipment ships and when it is delivered', async () => {
    const client = await ava();
    // Ava's 700000000007 starts as label_created.
    expect(await advanceShipment('700000000007')).toBe(200);
    expect(await ofType(client, 'shipment_shipped')).toHaveLength(0);
    expect(await advanceShipment('700000000007')).toBe(200);
    expect(await advanceShipment('700000000007')).toBe(200);

    const shipped = await ofType(client, 'shipment_shipped');
    const delivered = (await ofType(client, 'shipment_delivered')).filter((notification) =>
      notification.link.endsWith('700000000007'),
    );
    expect(shipped).toHaveLength(1);
    expect(shipped[0]?.link).toBe('/shipments/track/700000000007');
    expect(delivered).toHaveLength(1);
  });

  it('reminds once of a visit', async () => {
    const client = await ava();
    const bundle = await fhir.search<Bundle<Appointment>>(
      'Appointment?_id=demo-ava-appointment-upcoming',
    );
    const start = Date.parse(bundle.entry?.[0]?.resource?.start ?? '');
    const now = new Date(start - 23 * 60 * 60 * 1000);

    await runJobsTwiceAtOnce(now);
    await runJobsTwiceAtOnce(now);

    const reminders = await ofType(client, 'appointment_reminder');
    expect(reminders).toHaveLength(1);
    expect(reminders[0]?.link).toBe('/scheduling');
    const mails = (await (
      await fetch(`${portal.baseUrl}/sandbox/mail/messages?to=${demoPatient(0).email}`)
    ).json()) as { subject: string }[];
    expect(
      mails.filter((mail) => mail.subject.startsWith('Reminder: your video visit')),
    ).toHaveLength(1);
  });

  it('notifies once of a new care-team message, and not of one already read', async () => {
    const client = await marcus();
    const reply = (text: string) =>
      fhir.create({
        resourceType: 'Communication',
        status: 'completed',
        sender: { reference: 'Practitioner/demo-dr-lindqvist' },
        recipient: [{ reference: 'Patient/demo-marcus' }],
        sent: new Date().toISOString(),
        payload: [{ contentString: text }],
      });
    const unreadId = await reply('Your lab results are in.');

    await runJobsTwiceAtOnce(new Date());
    await runJobsTwiceAtOnce(new Date());

    const notices = await ofType(client, 'message_received');
    expect(notices).toHaveLength(1);
    expect(notices[0]?.body).toBe('Erik Lindqvist sent you a message.');

    const readId = await reply('Please book a follow-up.');
    expect(readId).not.toBe(unreadId);
    await client.request('/api/patient/messages');
    await runJobsTwiceAtOnce(new Date());
    const afterReading = await ofType(client, 'message_received');
    expect(afterReading).toHaveLength(1);
    // Opening the conversation also marks the notice of the message read.
    expect(afterReading[0]?.readAt).not.toBeNull();
  });

  it('does not announce a message written before the job started', async () => {
    const client = await marcus();
    const before = (await ofType(client, 'message_received')).length;
    await fhir.create({
      resourceType: 'Communication',
      status: 'completed',
      sender: { reference: 'Practitioner/demo-dr-lindqvist' },
      recipient: [{ reference: 'Patient/demo-marcus' }],
      sent: new Date(Date.now() - 2 * 24 * 60 * 60 * 1000).toISOString(),
      payload: [{ contentString: 'An old note, loaded late.' }],
    });

    await runJobsTwiceAtOnce(new Date());

    expect(await ofType(client, 'message_received')).toHaveLength(before);
  });

  it('records a delivery FedEx confirms, without anyone opening tracking', async () => {
    const client = await marcus();
    // FedEx reports Marcus's 700000000005 delivered while the portal still has it shipped.
    await runJobsTwiceAtOnce(new Date());
    await runJobsTwiceAtOnce(new Date());

    const delivered = (await ofType(client, 'shipment_delivered')).filter((notification) =>
      notification.link.endsWith('700000000005'),
    );
    expect(delivered).toHaveLength(1);
  });

  it('notifies once of an upcoming refill', async () => {
    const client = await ava();
    // Ava's next refill is 5 days away in the demo data.
    await runJobsTwiceAtOnce(new Date());
    await runJobsTwiceAtOnce(new Date());

    expect(await ofType(client, 'refill_upcoming')).toHaveLength(1);
  });
});

describe('feed', () => {
  it('lists newest first with the unread count, and shows the badge', async () => {
    const client = await ava();
    const { notifications, unreadCount } = await feed(client);

    const times = notifications.map((notification) => Date.parse(notification.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(unreadCount).toBe(notifications.filter((notification) => !notification.readAt).length);
    const page = await readPageHtml(await client.request('/'));
    expect(page).toContain(
      `Notifications <span class="badge">${unreadCount}<span class="visually-hidden"> unread</span>`,
    );
  });

  it('marks one read idempotently and answers 404 to another patient', async () => {
    const owner = await ava();
    const [target] = (await feed(owner)).notifications.filter(
      (notification) => !notification.readAt,
    );
    if (!target) throw new Error('Ava has no unread notification.');
    const intruder = await marcus();

    const foreign = await intruder.postJson(`/api/patient/notifications/${target.id}/read`, {});
    const unknown = await intruder.postJson(
      '/api/patient/notifications/00000000-0000-4000-8000-000000000000/read',
      {},
    );
    expect(foreign.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(await foreign.json()).toEqual(await unknown.json());
    expect((await feed(owner)).notifications.find((item) => item.id === target.id)?.readAt).toBe(
      null,
    );

    const first = await owner.postJson(`/api/patient/notifications/${target.id}/read`, {});
    const second = await owner.postJson(`/api/patient/notifications/${target.id}/read`, {});
    expect([first.status, second.status]).toEqual([200, 200]);
    const firstBody = (await first.json()) as { notification: NotificationJson };
    const secondBody = (await second.json()) as { notification: NotificationJson };
    expect(secondBody.notification.readAt).toBe(firstBody.notification.readAt);
  });

  it('rejects a forged cursor with 400', async () => {
    const client = await ava();
    for (const forged of ['2024|00000000-0000-4000-8000-000000000000', 'garbage']) {
      const cursor = Buffer.from(forged).toString('base64url');
      const api = await client.request(`/api/patient/notifications?cursor=${cursor}`);
      const page = await client.request(`/notifications?cursor=${cursor}`);
      expect(api.status, forged).toBe(400);
      expect(page.status, forged).toBe(400);
    }
  });

  it('marks all read from the page form without JavaScript', async () => {
    const client = await ava();
    expect((await feed(client)).unreadCount).toBeGreaterThan(0);

    const response = await client.postForm('/notifications', { intent: 'read-all' });

    expect(response.status).toBe(303);
    expect((await feed(client)).unreadCount).toBe(0);
    const page = await readPageHtml(await client.request('/notifications'));
    expect(page).toContain('You have no unread notifications.');
  });
});
