import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
  startMigratedDatabase,
  type MigratedDatabase,
} from '../../tests/support/migrated-database';
import type { PatientSession } from '~/auth/session.server';
import { registerPool } from '~/db/pool.server';

import { sweepRefillsUpcoming } from './jobs.server';
import { NOTIFICATION_PAGE_SIZE } from './notification';
import {
  insertNotification,
  listNotifications,
  markAllNotificationsRead,
  markNotificationRead,
  NotificationNotFoundError,
} from './notifications.server';

let database: MigratedDatabase;

beforeAll(async () => {
  database = await startMigratedDatabase();
  registerPool(database.pool);
});

afterAll(async () => {
  await database?.stop();
});

beforeEach(async () => {
  await database.pool.query('DELETE FROM notifications');
  await database.pool.query('DELETE FROM shipments');
  await database.pool.query('DELETE FROM subscriptions');
});

function session(patientId: string): PatientSession {
  return { patientId } as PatientSession;
}

async function notificationsOf(patientId: string, type?: string) {
  const result = await database.pool.query<{ type: string; dedupe_key: string; link: string }>(
    `SELECT type, dedupe_key, link FROM notifications
     WHERE patient_id = $1 AND ($2::text IS NULL OR type = $2) ORDER BY created_at`,
    [patientId, type ?? null],
  );
  return result.rows;
}

describe('feed', () => {
  it('pages newest first without gaps or repeats', async () => {
    const total = NOTIFICATION_PAGE_SIZE * 2 + 3;
    for (let index = 0; index < total; index++) {
      await database.pool.query(
        `INSERT INTO notifications (patient_id, type, title, body, link, dedupe_key, created_at)
         VALUES ('p-feed', 'refill_upcoming', $1, 'Body', '/prescriptions', $2,
                 now() - make_interval(secs => $3))`,
        [`Notice ${index}`, `feed-${index}`, index],
      );
    }

    const titles: string[] = [];
    let cursor: string | undefined;
    for (let pageNumber = 0; pageNumber < 5; pageNumber++) {
      const page = await listNotifications(session('p-feed'), cursor);
      titles.push(...page.notifications.map((notification) => notification.title));
      expect(page.unreadCount).toBe(total);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }

    expect(titles).toEqual(Array.from({ length: total }, (_, index) => `Notice ${index}`));
  });

  it('counts unread ones and marks them read once', async () => {
    for (const key of ['a', 'b', 'c']) {
      await insertNotification({
        patientId: 'p-read',
        type: 'message_received',
        title: key,
        body: 'Body',
        link: '/messages',
        dedupeKey: `read-${key}`,
      });
    }
    const [first] = (await listNotifications(session('p-read'), undefined)).notifications;
    if (!first) throw new Error('The feed is empty.');

    const marked = await markNotificationRead(session('p-read'), first.id);
    const again = await markNotificationRead(session('p-read'), first.id);

    expect(again.readAt).toBe(marked.readAt);
    expect((await listNotifications(session('p-read'), undefined)).unreadCount).toBe(2);
    expect(await markAllNotificationsRead(session('p-read'))).toBe(2);
    expect((await listNotifications(session('p-read'), undefined)).unreadCount).toBe(0);
  });

  it('treats another patient’s id like an unknown one and changes nothing', async () => {
    await insertNotification({
      patientId: 'p-owner',
      type: 'message_received',
      title: 'Private',
      body: 'Body',
      link: '/messages',
      dedupeKey: 'owner-1',
    });
    const [owned] = (await listNotifications(session('p-owner'), undefined)).notifications;
    if (!owned) throw new Error('The feed is empty.');

    for (const id of [owned.id, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      await expect(markNotificationRead(session('p-other'), id)).rejects.toBeInstanceOf(
        NotificationNotFoundError,
      );
    }
    expect((await listNotifications(session('p-owner'), undefined)).unreadCount).toBe(1);
    expect((await listNotifications(session('p-other'), undefined)).notifications).toEqual([]);
  });

  it('keeps links from the integration service on the portal', async () => {
    await insertNotification({
      patientId: 'p-link',
      type: 'prescription_approved',
      title: 'Approved',
      body: 'Body',
      link: 'https://evil.example/phish',
      dedupeKey: 'link-1',
    });
    const [notification] = (await listNotifications(session('p-link'), undefined)).notifications;
    expect(notification?.link).toBe('/');
  });

  it('rejects a malformed cursor', async () => {
    await expect(listNotifications(session('p-feed'), 'garbage')).rejects.toMatchObject({
      status: 400,
    });
  });
});

describe('shipment trigger', () => {
  it('makes one notification per transition, whoever writes it', async () => {
    const inserted = await database.pool.query<{ id: string }>(
      `INSERT INTO shipments (patient_id, tracking_number, status)
       VALUES ('p-ship', '799999999991', 'label_created') RETURNING id`,
    );
    const id = inserted.rows[0]?.id;
    for (const status of ['packed', 'shipped', 'shipped', 'delivered', 'delivered']) {
      await database.pool.query('UPDATE shipments SET status = $2 WHERE id = $1', [id, status]);
    }

    const rows = await notificationsOf('p-ship');
    expect(rows.map((row) => row.type)).toEqual(['shipment_shipped', 'shipment_delivered']);
    expect(rows.map((row) => row.dedupe_key)).toEqual([
      `shipment-shipped:${id}`,
      `shipment-delivered:${id}`,
    ]);
    expect(rows[0]?.link).toBe('/shipments/track/799999999991');
  });
});

describe('refill sweep', () => {
  it('notifies once per refill date, run twice or at once', async () => {
    await database.pool.query(
      `INSERT INTO subscriptions (patient_id, medication_request_id, status, refill_interval_days, next_refill_date)
       VALUES ('p-refill', 'rx-soon', 'active', 30, DATE '2027-01-10'),
              ('p-refill', 'rx-later', 'active', 30, DATE '2027-01-20'),
              ('p-refill', 'rx-paused', 'paused', 30, DATE '2027-01-09')`,
    );
    const now = new Date('2027-01-04T15:00:00Z');

    const counts = await Promise.all([sweepRefillsUpcoming(now), sweepRefillsUpcoming(now)]);
    const again = await sweepRefillsUpcoming(now);

    expect(counts.reduce((sum, count) => sum + count, 0)).toBe(1);
    expect(again).toBe(0);
    const rows = await notificationsOf('p-refill', 'refill_upcoming');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.dedupe_key).toMatch(/^refill-upcoming:.+:2027-01-10$/);
  });
});
