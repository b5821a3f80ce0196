import { Link } from 'react-router';

import { requirePatient } from '~/auth/session.server';
import { listShipments } from '~/shipments/shipments.server';
import { formatInstant } from '~/utils/dates';

import type { Route } from './+types/shipments';

export const meta: Route.MetaFunction = () => [{ title: 'Shipments | Patient portal' }];

export async function loader({ request }: Route.LoaderArgs) {
  const session = await requirePatient(request);
  return { shipments: await listShipments(session) };
}

export default function Shipments({ loaderData }: Route.ComponentProps) {
  const { shipments } = loaderData;

  return (
    <>
      <h1>Shipments</h1>
      {shipments.length === 0 ? (
        <p>You have no shipments yet. When your pharmacy sends medication, it appears here.</p>
      ) : (
        <ul className="plain-list">
          {shipments.map((shipment) => {
            const headingId = `shipment-${shipment.id}`;
            return (
              <li key={shipment.id}>
                <article aria-labelledby={headingId}>
                  <h2 id={headingId} className="medication-name">
                    {shipment.medicationName ??
                      (shipment.medicationNameUnavailable
                        ? 'Medication name unavailable right now'
                        : 'Medication shipment')}
                  </h2>
                  <p>
                    <span className="status">{shipment.statusLabel}</span>
                    {shipment.trackingNumber ? (
                      <>
                        {' · '}
                        <Link to={`/shipments/track/${shipment.trackingNumber}`}>
                          Track FedEx {shipment.trackingNumber}
                        </Link>
                      </>
                    ) : null}
                  </p>
                  <ol className="timeline" aria-label="Status history">
                    {shipment.timeline.map((entry) => (
                      <li key={`${entry.status}-${entry.at}`}>
                        {entry.label}: {formatInstant(entry.at)}
                      </li>
                    ))}
                  </ol>
                </article>
              </li>
            );
          })}
        </ul>
      )}
    </>
  );
}
