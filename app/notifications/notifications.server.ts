import type { PatientSession } from '~/auth/session.server';
import { getPool } from '~/db/pool.server';
import { BadRequestError } from '~/http/api.server';
import { memoizeForRequest } from '~/http/request-memo.server';

import {
  NOTIFICATION_PAGE_SIZE,
  type NotificationPage,
  type PatientNotification,
} from './notification';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** No notification with this id belongs to the patient; the same for one that does not exist. */
export class NotificationNotFoundError extends Error {
  override name = 'NotificationNotFoundError';
}

interface NotificationRow {
  id: string;
  type: string;
  title: string;
  body: string;
  link: string;
  created_at: Date;
  /** `created_at` to the microsecond, which a JavaScript Date cannot hold, for the cursor. */
  cursor_time: string;
  read_at: Date | null;
}

/** One notification to insert; `dedupeKey` names the event, so a second insert is a no-op. */
export interface NewNotification {
  patientId: string;
  type: string;
  title: string;
  body: string;
  link: string;
  dedupeKey: string;
}

/**
 * Inserts a notification unless one with its dedupe key exists. Returns true when this call
 * made it, so the caller can do once-only follow-ups such as an email.
 */
export async function insertNotification(notification: NewNotification): Promise<boolean> {
  const result = await getPool().query(
    `INSERT INTO notifications (patient_id, type, title, body, link, dedupe_key)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (dedupe_key) DO NOTHING`,
    [
      notification.patientId,
      notification.type,
      notification.title,
      notification.body,
      notification.link,
      notification.dedupeKey,
    ],
  );
  return result.rowCount === 1;
}

/**
 * Returns one page of the patient's feed, newest first, with the unread count. `cursor` is the
 * `nextCursor` of the page before; paging by (created_at, id) keeps pages stable while new
 * notifications arrive. With `request`, the count is the one the request's other loaders read.
 */
export async function listNotifications(
  session: PatientSession,
  cursor: string | undefined,
  request?: Request,
): Promise<NotificationPage> {
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  const pool = getPool();
  const [rows, unreadCount] = await Promise.all([
    pool.query<NotificationRow>(
      `SELECT id, type, title, body, link, created_at, read_at,
              to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_time
       FROM notifications
       WHERE patient_id = $1
         AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
       ORDER BY created_at DESC, id DESC
       LIMIT $4`,
      [session.patientId, after?.createdAt ?? null, after?.id ?? null, NOTIFICATION_PAGE_SIZE + 1],
    ),
    request
      ? countUnreadNotificationsOnce(request, session.patientId)
      : countUnreadNotifications(session.patientId),
  ]);

  const page = rows.rows.slice(0, NOTIFICATION_PAGE_SIZE);
  const last = page.at(-1);
  return {
    notifications: page.map(toNotification),
    nextCursor:
      rows.rows.length > NOTIFICATION_PAGE_SIZE && last
        ? encodeCursor(last.cursor_time, last.id)
        : null,
    unreadCount,
  };
}

/**
 * Counts like countUnreadNotifications, once per request, because the root loader (for the
 * header's badge) and the dashboard's loader both need the count of the same request.
 */
export function countUnreadNotificationsOnce(request: Request, patientId: string): Promise<number> {
  return memoizeForRequest(request, `unread-notifications:${patientId}`, () =>
    countUnreadNotifications(patientId),
  );
}

export async function countUnreadNotifications(patientId: string): Promise<number> {
  const result = await getPool().query<{ unread: number }>(
    'SELECT count(*)::int AS unread FROM notifications WHERE patient_id = $1 AND read_at IS NULL',
    [patientId],
  );
  return result.rows[0]?.unread ?? 0;
}

/**
 * Marks one of the patient's notifications read; marking it again changes nothing. Another
 * patient's id and an unknown id both throw NotificationNotFoundError.
 */
export async function markNotificationRead(
  session: PatientSession,
  notificationId: string,
): Promise<PatientNotification> {
  if (!UUID_PATTERN.test(notificationId)) {
    throw new NotificationNotFoundError(`Notification ${notificationId} not found`);
  }
  const result = await getPool().query<NotificationRow>(
    `UPDATE notifications SET read_at = COALESCE(read_at, now())
     WHERE id = $1 AND patient_id = $2
     RETURNING id, type, title, body, link, created_at, read_at, '' AS cursor_time`,
    [notificationId, session.patientId],
  );
  const row = result.rows[0];
  if (!row) throw new NotificationNotFoundError(`Notification ${notificationId} not found`);
  return toNotification(row);
}

/** Marks every unread notification of the patient read and returns how many changed. */
export async function markAllNotificationsRead(session: PatientSession): Promise<number> {
  const result = await getPool().query(
    'UPDATE notifications SET read_at = now() WHERE patient_id = $1 AND read_at IS NULL',
    [session.patientId],
  );
  return result.rowCount ?? 0;
}

function toNotification(row: NotificationRow): PatientNotification {
  return {
    id: row.id,
    type: row.type,
    title: row.title,
    body: row.body,
    link: safeLink(row.link),
    createdAt: row.created_at.toISOString(),
    readAt: row.read_at?.toISOString() ?? null,
  };
}

/** Keeps a link on the portal: the integration service writes rows, and a row is not trusted. */
function safeLink(link: string): string {
  return /^\/(?![/\\])[\w\-./?=&%#]*$/.test(link) ? link : '/';
}

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(`${createdAt}|${id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const isTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(createdAt ?? '');
  if (
    !createdAt ||
    !id ||
    !isTime ||
    Number.isNaN(Date.parse(createdAt)) ||
    !UUID_PATTERN.test(id)
  ) {
    throw new BadRequestError(400, 'invalid_cursor', 'Use the nextCursor of the previous page.');
  }
  return { createdAt, id };
}
