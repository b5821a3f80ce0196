import type { PatientSession } from '~/auth/session.server';
import { apiError } from '~/http/api.server';
import { failureHeaders } from '~/http/request-failure.server';
import { getLogger } from '~/utils/logger.server';

import { getAvailability } from './availability.server';
import { describeSchedulingFailure } from './scheduling-errors.server';
import type { OpenSlot } from './slot';
import { localDateOf, parseInstantWithOffset } from './zoned-time';

/**
 * Builds the API's error response for a scheduling failure. When the chosen slot was taken,
 * the body also carries the open slots of that day, so the client can offer another time.
 */
export async function schedulingFailureResponse(
  error: unknown,
  session: PatientSession,
  action: string,
  slot: Pick<OpenSlot, 'start' | 'timeZone'> | undefined,
): Promise<Response> {
  const failure = describeSchedulingFailure(error, session.patientId, action);
  if (failure.code !== 'slot_taken' || !slot) {
    return apiError(
      failure.status,
      failure.code,
      failure.message,
      failureHeaders(failure),
      failure.fields,
    );
  }

  const slots = await freshSlots(session, slot);
  return Response.json(
    { error: { code: failure.code, message: failure.message }, availability: slots ?? null },
    { status: failure.status, headers: { 'cache-control': 'no-store' } },
  );
}

/** Open slots on the day of `slot`, or undefined when they cannot be read right now. */
export async function freshSlots(
  session: PatientSession,
  slot: Pick<OpenSlot, 'start' | 'timeZone'>,
) {
  const start = parseInstantWithOffset(slot.start);
  if (!start) return undefined;
  try {
    const availability = await getAvailability(session, localDateOf(start, slot.timeZone));
    return availability;
  } catch (error) {
    getLogger().warn(
      { patientId: session.patientId, err: { name: (error as Error).name } },
      'fresh slots unavailable after a taken slot',
    );
    return undefined;
  }
}
