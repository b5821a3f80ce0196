import { requirePatient } from '~/auth/session.server';
import { handleBadRequest } from '~/http/api.server';
import { listNotifications } from '~/notifications/notifications.server';

import type { Route } from './+types/api.patient.notifications';

/** GET ?cursor=: one page of the feed, newest first, with the unread count. */
export async function loader({ request }: Route.LoaderArgs) {
  const session = await requirePatient(request);

  try {
    const cursor = new URL(request.url).searchParams.get('cursor') ?? undefined;
    const page = await listNotifications(session, cursor);
    return Response.json(page, { headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    return handleBadRequest(error);
  }
}
