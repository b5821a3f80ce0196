import { requirePatient } from '~/auth/session.server';
import { methodNotAllowed, readJsonBody } from '~/http/api.server';
import { parseIdempotencyKey } from '~/http/idempotency.server';
import { listAppointments } from '~/scheduling/appointments.server';
import { bookAppointment } from '~/scheduling/book-appointment.server';
import { enforceWriteLimit } from '~/security/write-limits.server';
import { schedulingFailureResponse } from '~/scheduling/scheduling-response.server';
import { slotInputSchema } from '~/scheduling/slot-input.server';

import type { Route } from './+types/api.patient.appointments';

/** GET: the patient's upcoming and past appointments. */
export async function loader({ request }: Route.LoaderArgs) {
  const session = await requirePatient(request);

  try {
    const list = await listAppointments(session);
    return Response.json(list, { headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    return schedulingFailureResponse(error, session, 'list appointments', undefined);
  }
}

/**
 * POST a slot object exactly as `GET /api/patient/availability` returned it, with an optional
 * Idempotency-Key header: books the visit. 409 `slot_taken` carries fresh slots of that day. A
 * session over its booking limit, which reschedules and cancels share, gets 429 with Retry-After.
 */
export async function action({ request }: Route.ActionArgs) {
  if (request.method !== 'POST') return methodNotAllowed('GET, POST');
  const session = await requirePatient(request);

  let slot;
  try {
    const idempotencyKey = parseIdempotencyKey(request.headers.get('idempotency-key'));
    slot = await readJsonBody(request, slotInputSchema);
    await enforceWriteLimit(session, 'booking');

    const { visit, replayed } = await bookAppointment(session, slot, idempotencyKey);
    return Response.json(
      { appointment: visit },
      {
        status: 201,
        headers: {
          'cache-control': 'no-store',
          ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
        },
      },
    );
  } catch (error) {
    return schedulingFailureResponse(error, session, 'book', slot);
  }
}
