import { data, Form, Link, redirect, useNavigation } from 'react-router';

import { requirePatient } from '~/auth/session.server';
import { readResource } from '~/clients/fhir.server';
import { ErrorSummary } from '~/components/error-summary';
import { getEnv } from '~/config/env.server';
import { handleBadRequest, readFormFields } from '~/http/api.server';
import {
  describeCommonFailure,
  failureHeaders,
  forwardRetryAfter,
} from '~/http/request-failure.server';
import {
  listNotifications,
  markAllNotificationsRead,
  markNotificationRead,
  NotificationNotFoundError,
} from '~/notifications/notifications.server';
import { patientTimeZone } from '~/patients/time-zone';
import { enforceWriteLimit } from '~/security/write-limits.server';
import { formatInstant } from '~/utils/dates';
import { getLogger } from '~/utils/logger.server';

import type { Route } from './+types/notifications';

export const meta: Route.MetaFunction = () => [{ title: 'Notifications | Patient portal' }];

export const headers: Route.HeadersFunction = forwardRetryAfter;

export async function loader({ request }: Route.LoaderArgs) {
  const session = await requirePatient(request);
  const cursor = new URL(request.url).searchParams.get('cursor') ?? undefined;

  let page;
  try {
    page = await listNotifications(session, cursor, request);
  } catch (error) {
    const response = handleBadRequest(error);
    throw data(
      { message: 'This page of notifications does not exist.' },
      { status: response.status },
    );
  }
  return { page, cursor: cursor ?? null, ...(await readTimeZone(session.patientId)) };
}

/**
 * Returns the patient's time zone, or the clinic's when FHIR fails, so the feed still loads.
 * `timeZoneFallback` then makes the page show a notice about it.
 */
async function readTimeZone(
  patientId: string,
): Promise<{ timeZone: string; timeZoneFallback: boolean }> {
  const fallback = getEnv().scheduling.clinicTimeZone;
  try {
    const timeZone = patientTimeZone(await readResource('Patient', patientId), fallback);
    return { timeZone, timeZoneFallback: false };
  } catch (error) {
    getLogger().warn(
      { patientId, err: { name: (error as Error).name } },
      'notification times shown in the clinic time zone',
    );
    return { timeZone: fallback, timeZoneFallback: true };
  }
}

export async function action({ request }: Route.ActionArgs) {
  if (request.method !== 'POST') throw data(null, { status: 405, headers: { allow: 'GET, POST' } });
  const session = await requirePatient(request);

  const fields = await readFormFields(request);
  const back = fields.cursor
    ? `/notifications?cursor=${encodeURIComponent(fields.cursor)}`
    : '/notifications';

  // `read` marks the notification `id` read, and `read-all` marks every unread one.
  const notificationId = fields.intent === 'read' ? fields.id : undefined;
  if (fields.intent !== 'read-all' && !notificationId) throw data(null, { status: 400 });

  try {
    await enforceWriteLimit(session, 'mark-read');
  } catch (error) {
    const failure = describeCommonFailure(error);
    if (!failure) throw error;
    return data(
      { formError: failure.message },
      { status: failure.status, headers: failureHeaders(failure) },
    );
  }

  if (!notificationId) {
    await markAllNotificationsRead(session);
    return redirect(back, 303);
  }
  try {
    await markNotificationRead(session, notificationId);
  } catch (error) {
    if (!(error instanceof NotificationNotFoundError)) throw error;
    throw data(null, { status: 404 });
  }
  return redirect(back, 303);
}

export default function Notifications({ loaderData, actionData }: Route.ComponentProps) {
  const { page, cursor, timeZone, timeZoneFallback } = loaderData;
  const navigation = useNavigation();
  const busy = navigation.state === 'submitting';

  return (
    <>
      <h1>Notifications</h1>
      <ErrorSummary message={actionData?.formError} />
      <p role="status">
        {page.unreadCount === 0
          ? 'You have no unread notifications.'
          : `You have ${page.unreadCount} unread ${page.unreadCount === 1 ? 'notification' : 'notifications'}.`}
      </p>
      {page.unreadCount > 0 ? (
        <Form method="post">
          <input type="hidden" name="intent" value="read-all" />
          {cursor ? <input type="hidden" name="cursor" value={cursor} /> : null}
          <button type="submit" disabled={busy}>
            Mark all as read
          </button>
        </Form>
      ) : null}

      {timeZoneFallback && page.notifications.length > 0 ? (
        <p className="notice">
          Your time zone could not be loaded right now, so times are in{' '}
          {timeZone.replaceAll('_', ' ')} time.
        </p>
      ) : null}

      {page.notifications.length === 0 ? (
        <p>Nothing here yet. Shipments, visits and messages will show up here.</p>
      ) : (
        <ul className="plain-list notification-list">
          {page.notifications.map((notification) => (
            <li
              key={notification.id}
              className={notification.readAt ? 'notification' : 'notification notification-unread'}
            >
              <article aria-labelledby={`notification-${notification.id}`}>
                <h2 id={`notification-${notification.id}`} className="notification-title">
                  <Link to={notification.link}>{notification.title}</Link>
                  {notification.readAt ? null : <span className="badge-label"> Unread</span>}
                </h2>
                <p>{notification.body}</p>
                <p className="muted">
                  <time dateTime={notification.createdAt}>
                    {formatInstant(notification.createdAt, timeZone)}
                  </time>
                </p>
                {notification.readAt ? null : (
                  <Form method="post">
                    <input type="hidden" name="intent" value="read" />
                    <input type="hidden" name="id" value={notification.id} />
                    {cursor ? <input type="hidden" name="cursor" value={cursor} /> : null}
                    <button type="submit" className="link-button" disabled={busy}>
                      Mark as read<span className="visually-hidden">: {notification.title}</span>
                    </button>
                  </Form>
                )}
              </article>
            </li>
          ))}
        </ul>
      )}

      <nav aria-label="More notifications" className="pager">
        {cursor ? <Link to="/notifications">Newest notifications</Link> : null}
        {page.nextCursor ? (
          <Link to={`/notifications?cursor=${encodeURIComponent(page.nextCursor)}`}>
            Older notifications
          </Link>
        ) : null}
      </nav>
    </>
  );
}
