import { requirePatient } from '~/auth/session.server';
import { apiError, methodNotAllowed, readEmptyJsonBody } from '~/http/api.server';
import { describeCommonFailure, failureHeaders } from '~/http/request-failure.server';
import {
  markNotificationRead,
  NotificationNotFoundError,
} from '~/notifications/notifications.server';
import { enforceWriteLimit } from '~/security/write-limits.server';

import type { Route } from './+types/api.patient.notifications.read';

export function loader() {
  return methodNotAllowed('POST');
}

/**
 * POST: marks one notification read. Idempotent; another patient's id gets 404. A session over
 * its mark-read limit, which mark-all-read shares, gets 429 with Retry-After.
 */
export async function action({ request, params }: Route.ActionArgs) {
  if (request.method !== 'POST') return methodNotAllowed('POST');
  const session = await requirePatient(request);

  try {
    await readEmptyJsonBody(request);
    await enforceWriteLimit(session, 'mark-read');

    const notification = await markNotificationRead(session, params.notificationId);
    return Response.json({ notification }, { headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    if (error instanceof NotificationNotFoundError) {
      return apiError(404, 'not_found', 'This notification was not found.');
    }
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
}
