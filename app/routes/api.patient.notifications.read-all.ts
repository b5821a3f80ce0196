import { requirePatient } from '~/auth/session.server';
import { apiError, methodNotAllowed, readEmptyJsonBody } from '~/http/api.server';
import { describeCommonFailure, failureHeaders } from '~/http/request-failure.server';
import { markAllNotificationsRead } from '~/notifications/notifications.server';
import { enforceWriteLimit } from '~/security/write-limits.server';

import type { Route } from './+types/api.patient.notifications.read-all';

export function loader() {
  return methodNotAllowed('POST');
}

/**
 * POST: marks every unread notification of the patient read. A session over its mark-read limit
 * gets 429 with Retry-After.
 */
export async function action({ request }: Route.ActionArgs) {
  if (request.method !== 'POST') return methodNotAllowed('POST');
  const session = await requirePatient(request);

  try {
    await readEmptyJsonBody(request);
    await enforceWriteLimit(session, 'mark-read');
  } catch (error) {
    const failure = describeCommonFailure(error);
    if (!failure) throw error;
    return apiError(
      failure.status,
      failure.code,
      failure.message,
      failureHeaders(failure),
      failure.fields,
    );
  }

  const updated = await markAllNotificationsRead(session);
  return Response.json({ updated, unreadCount: 0 }, { headers: { 'cache-control': 'no-store' } });
}
