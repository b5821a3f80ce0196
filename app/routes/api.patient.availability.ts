import { requirePatient } from '~/auth/session.server';
import { apiError, BadRequestError } from '~/http/api.server';
import { getAvailability } from '~/scheduling/availability.server';
import { describeSchedulingFailure } from '~/scheduling/scheduling-errors.server';
import { isIsoDate } from '~/scheduling/zoned-time';

import type { Route } from './+types/api.patient.availability';

/** GET ?date=YYYY-MM-DD: the open slots on that day in the patient's time zone. */
export async function loader({ request }: Route.LoaderArgs) {
  const session = await requirePatient(request);

  try {
    const date = new URL(request.url).searchParams.get('date') ?? '';
    if (!isIsoDate(date)) {
      throw new BadRequestError(400, 'invalid_request', 'Use a date such as 2026-12-07.', {
        date: 'Use a calendar date as YYYY-MM-DD.',
      });
    }
    const availability = await getAvailability(session, date);
    return Response.json(availability, { headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    const failure = describeSchedulingFailure(error, session.patientId, 'availability');
    return apiError(failure.status, failure.code, failure.message, undefined, failure.fields);
  }
}
