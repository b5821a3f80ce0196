import { requirePatient } from '~/auth/session.server';
import { UpstreamError } from '~/clients/upstream-error.server';
import { apiError } from '~/http/api.server';
import { listPrescriptions } from '~/prescriptions/prescriptions.server';
import { parseStatusFilter } from '~/prescriptions/status-filter';
import { getLogger } from '~/utils/logger.server';

import type { Route } from './+types/api.patient.prescriptions';

export async function loader({ request }: Route.LoaderArgs) {
  const session = await requirePatient(request);
  const filter = parseStatusFilter(new URL(request.url).searchParams.get('status'));
  if (filter === undefined) {
    return apiError(
      400,
      'invalid_request',
      'Use a status of all, active, on-hold, completed, stopped or cancelled.',
    );
  }

  try {
    const list = await listPrescriptions(session, filter);
    return Response.json(list, { headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    getLogger().error(
      { patientId: session.patientId, upstream: error.upstream, failure: error.failure },
      'prescriptions unavailable',
    );
    return apiError(
      503,
      'unavailable',
      'Your prescriptions are unavailable right now. Please try again shortly.',
    );
  }
}
