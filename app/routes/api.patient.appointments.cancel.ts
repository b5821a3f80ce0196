import { requirePatient } from '~/auth/session.server';
import { methodNotAllowed, readJsonBody } from '~/http/api.server';
import { parseIdempotencyKey } from '~/http/idempotency.server';
import { cancelVisit } from '~/scheduling/change-appointment.server';
import { schedulingFailureResponse } from '~/scheduling/scheduling-response.server';
import { enforceWriteLimit } from '~/security/write-limits.server';
import { cancelInputSchema } from '~/scheduling/slot-input.server';

import type { Route } from './+types/api.patient.appointments.cancel';

export function loader() {
  return methodNotAllowed('POST');
}

/** POST `{ "reason": "..." }` (optional): cancels the appointment. */
export async function action({ request, params }: Route.ActionArgs) {
  if (request.method !== 'POST') return methodNotAllowed('POST');
  const session = await requirePatient(request);

  try {
    const idempotencyKey = parseIdempotencyKey(request.headers.get('idempotency-key'));
    const { reason } = await readJsonBody(request, cancelInputSchema);
    await enforceWriteLimit(session, 'booking');

    const { replayed } = await cancelVisit(session, params.appointmentId, reason, idempotencyKey);
    return Response.json(
      { appointment: { id: params.appointmentId, status: 'cancelled' } },
      {
        headers: {
          'cache-control': 'no-store',
          ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
        },
      },
    );
  } catch (error) {
    return schedulingFailureResponse(error, session, 'cancel', undefined);
  }
}
