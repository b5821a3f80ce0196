import { requirePatient } from '~/auth/session.server';
import { UpstreamError } from '~/clients/upstream-error.server';
import { apiError } from '~/http/api.server';
import { getPatientProfile, PatientNotFoundError } from '~/patients/profile.server';
import { getLogger } from '~/utils/logger.server';

import type { Route } from './+types/api.patient.profile';

export async function loader({ request }: Route.LoaderArgs) {
  const session = await requirePatient(request);

  try {
    const profile = await getPatientProfile(session);
    return Response.json(profile, { headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    if (error instanceof PatientNotFoundError) {
      return apiError(
        404,
        'not_found',
        'Your patient record was not found. Contact your care team.',
      );
    }
    if (error instanceof UpstreamError) {
      getLogger().error(
        { patientId: session.patientId, upstream: error.upstream, failure: error.failure },
        'profile unavailable',
      );
      return apiError(
        503,
        'unavailable',
        'Your details are unavailable right now. Please try again shortly.',
      );
    }
    throw error;
  }
}
