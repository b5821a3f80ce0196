import { requirePatient } from '~/auth/session.server';
import { apiError, methodNotAllowed } from '~/http/api.server';
import {
  markNotificationRead,
  NotificationNotFoundError,
} from '~/notifications/notifications.server';

import type { Route } from './+types/api.patient.notifications.read';

export function loader() {
  return methodNotAllowed('POST');
}

/** POST: marks one notification read. Idempotent; another patient's id gets 404. */
export async function action({ request, params }: Route.ActionArgs) {
  if (request.method !== 'POST') return methodNotAllowed('POST');
  const session = await requirePatient(request);

  try {
    const notification = await markNotificationRead(session, params.notificationId);
    return Response.json({ notification }, { headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    if (!(error instanceof NotificationNotFoundError)) throw error;
    return apiError(404, 'not_found', 'This notification was not found.');
  }
}
