import { requirePatient } from '~/auth/session.server';
import { apiError } from '~/http/api.server';
import {
  getShipmentTracking,
  isValidTrackingNumber,
  TrackingNumberNotFoundError,
} from '~/shipments/tracking.server';

import type { Route } from './+types/api.patient.tracking';

export async function loader({ request, params }: Route.LoaderArgs) {
  const session = await requirePatient(request);
  if (!isValidTrackingNumber(params.trackingNumber)) {
    return apiError(
      400,
      'invalid_tracking_number',
      'A FedEx tracking number has 12, 15, 20 or 22 digits.',
    );
  }

  try {
    const tracking = await getShipmentTracking(session, params.trackingNumber);
    if (tracking.kind === 'unavailable') return apiError(503, 'unavailable', tracking.message);
    return Response.json(tracking, { headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    if (error instanceof TrackingNumberNotFoundError) {
      return apiError(404, 'not_found', 'No shipment of yours has this tracking number.');
    }
    throw error;
  }
}
