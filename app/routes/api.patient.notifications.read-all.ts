import { requirePatient } from '~/auth/session.server';
import { methodNotAllowed } from '~/http/api.server';
import { markAllNotificationsRead } from '~/notifications/notifications.server';

import type { Route } from './+types/api.patient.notifications.read-all';

export function loader() {
  return methodNotAllowed('POST');
}

/** POST: marks every unread notification of the patient read. */
export async function action({ request }: Route.ActionArgs) {
  if (request.method !== 'POST') return methodNotAllowed('POST');
  const session = await requirePatient(request);

  const updated = await markAllNotificationsRead(session);
  return Response.json({ updated, unreadCount: 0 }, { headers: { 'cache-control': 'no-store' } });
}
