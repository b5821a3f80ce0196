import { requirePatient } from '~/auth/session.server';
import { listShipments } from '~/shipments/shipments.server';

import type { Route } from './+types/api.patient.shipments';

export async function loader({ request }: Route.LoaderArgs) {
  const session = await requirePatient(request);
  const shipments = await listShipments(session);
  return Response.json({ shipments }, { headers: { 'cache-control': 'no-store' } });
}
