import { requirePatient } from '~/auth/session.server';
import { methodNotAllowed, readJsonBody } from '~/http/api.server';
import { parseIdempotencyKey } from '~/http/idempotency.server';
import { rescheduleVisit } from '~/scheduling/change-appointment.server';
import { schedulingFailureResponse } from '~/scheduling/scheduling-response.server';
import { enforceWriteLimit } from '~/security/write-limits.server';
import { slotInputSchema } from '~/scheduling/slot-input.server';

import type { Route } from './+types/api.patient.appointments.reschedule';

export function loader() {
  return methodNotAllowed('POST');
}

/** POST a slot object from the availability endpoint: moves the appointment to that slot. */
export async function action({ request, params }: Route.ActionArgs) {
  if (request.method !== 'POST') return methodNotAllowed('POST');
  const session = await requirePatient(request);

  let slot;
  try {
    const idempotencyKey = parseIdempotencyKey(request.headers.get('idempotency-key'));
    slot = await readJsonBody(request, slotInputSchema);
    await enforceWriteLimit(session, 'booking');

    const { visit, replayed } = await rescheduleVisit(
      session,
      params.appointmentId,
      slot,
      idempotencyKey,
    );
    return Response.json(
      { appointment: visit },
      {
        headers: {
          'cache-control': 'no-store',
          ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
        },
      },
    );
  } catch (error) {
    return schedulingFailureResponse(error, session, 'reschedule', slot);
  }
}
