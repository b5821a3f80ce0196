import { Link } from 'react-router';

import { requirePatient } from '~/auth/session.server';
import type { Panel } from '~/dashboard/panel.server';
import { getDashboard } from '~/dashboard/dashboard.server';
import { JoinLink } from '~/scheduling/scheduling-views';
import { CLINIC_TIME_ZONE, formatCalendarDate, formatInstant } from '~/utils/dates';

import type { Route } from './+types/dashboard';

export const meta: Route.MetaFunction = () => [{ title: 'Dashboard | Patient portal' }];

export async function loader({ request }: Route.LoaderArgs) {
  const session = await requirePatient(request);
  return { ...(await getDashboard(session, request)), now: new Date().toISOString() };
}

/** Sentence start for each shipment status, followed by the time of the change. */
const SHIPMENT_STATUS_PHRASES = {
  label_created: 'Your order is being prepared. Label created on',
  packed: 'Your order was packed on',
  shipped: 'On its way since',
  delivered: 'Delivered on',
  voided: 'This shipment was cancelled on',
} as const;

export default function Dashboard({ loaderData }: Route.ComponentProps) {
  const {
    profile,
    treatments,
    latestShipment,
    nextAppointment,
    unreadMessages,
    unreadNotifications,
    now,
  } = loaderData;
  const timeZone = profile.status === 'ready' ? profile.data.timeZone : CLINIC_TIME_ZONE;
  const firstName = profile.status === 'ready' ? profile.data.firstName : undefined;

  return (
    <>
      <h1>{firstName ? `Hello, ${firstName}` : 'Hello'}</h1>
      {profile.status === 'unavailable' ? <p role="status">{profile.message}</p> : null}

      <div className="panels">
        <DashboardPanel
          id="treatment"
          title="Active treatment"
          panel={treatments}
          footer={<Link to="/prescriptions">All prescriptions</Link>}
        >
          {(items) =>
            items.length === 0 ? (
              <p>You have no active treatment with refills.</p>
            ) : (
              <ul className="plain-list">
                {items.map((treatment) => (
                  <li key={treatment.subscriptionId}>
                    <p className="medication-name">
                      {treatment.prescription?.medication.text ??
                        'Medication details unavailable right now'}
                    </p>
                    {treatment.prescription?.dosage.map((line, index) => (
                      // Dosage lines may repeat word for word, so their position is the key.
                      <p key={index}>{line}</p>
                    ))}
                    {treatment.prescription && treatment.prescription.status.code !== 'active' ? (
                      <p>
                        This prescription is {treatment.prescription.status.label.toLowerCase()}.
                        Contact your care team before your next refill.
                      </p>
                    ) : (
                      <p>
                        {treatment.nextRefillDate
                          ? `Next refill: ${formatCalendarDate(treatment.nextRefillDate)}.`
                          : 'No refill is scheduled.'}{' '}
                        Refills every {treatment.refillIntervalDays} days.
                      </p>
                    )}
                  </li>
                ))}
              </ul>
            )
          }
        </DashboardPanel>

        <DashboardPanel
          id="shipment"
          title="Latest shipment"
          panel={latestShipment}
          footer={
            latestShipment.status === 'ready' && latestShipment.data?.trackingNumber ? (
              <Link to={`/shipments/track/${latestShipment.data.trackingNumber}`}>
                Track FedEx {latestShipment.data.trackingNumber}
              </Link>
            ) : (
              <Link to="/shipments">All shipments</Link>
            )
          }
        >
          {(shipment) =>
            shipment ? (
              <p>
                {SHIPMENT_STATUS_PHRASES[shipment.status]} {formatInstant(shipment.statusChangedAt)}
                .
                {shipment.estimatedDelivery && shipment.status === 'shipped'
                  ? ` Estimated delivery by ${formatInstant(shipment.estimatedDelivery)}.`
                  : null}
              </p>
            ) : (
              <p>You have no shipments yet.</p>
            )
          }
        </DashboardPanel>

        <DashboardPanel
          id="telehealth"
          title="Telehealth"
          panel={nextAppointment}
          footer={<Link to="/scheduling">All video visits</Link>}
        >
          {(appointment) =>
            appointment ? (
              <>
                <p>
                  Your next video visit is on {formatInstant(appointment.start, timeZone)}.
                  {appointment.description ? ` ${appointment.description}` : null}
                </p>
                <JoinLink appointment={appointment} timeZone={timeZone} now={now} />
              </>
            ) : (
              <>
                <p>You have no upcoming visits.</p>
                <p>
                  <Link className="button-link" to="/scheduling">
                    Schedule a video visit
                  </Link>
                </p>
              </>
            )
          }
        </DashboardPanel>

        <DashboardPanel
          id="messages"
          title="Messages"
          panel={unreadMessages}
          footer={<Link to="/messages">Open your messages</Link>}
        >
          {(unread) => (
            <p>
              {unread === 0
                ? 'No unread messages from your care team.'
                : `You have ${unread} unread ${unread === 1 ? 'message' : 'messages'} from your care team.`}
            </p>
          )}
        </DashboardPanel>

        <DashboardPanel
          id="notifications"
          title="Notifications"
          panel={unreadNotifications}
          footer={<Link to="/notifications">All notifications</Link>}
        >
          {(unread) => (
            <p>
              {unread === 0
                ? 'You are all caught up.'
                : `You have ${unread} unread ${unread === 1 ? 'notification' : 'notifications'}.`}
            </p>
          )}
        </DashboardPanel>
      </div>

      {profile.status === 'ready' && profile.data.practitionerName ? (
        <p>Your practitioner is {profile.data.practitionerName}.</p>
      ) : null}
    </>
  );
}

function DashboardPanel<T>({
  id,
  title,
  panel,
  footer,
  children,
}: {
  id: string;
  title: string;
  panel: Panel<T>;
  /** Shown under the content whether or not it loaded, e.g. a link to the full page. */
  footer?: React.ReactNode;
  children: (data: T) => React.ReactNode;
}) {
  const headingId = `${id}-heading`;
  return (
    <section className="panel" aria-labelledby={headingId}>
      <h2 id={headingId}>{title}</h2>
      {panel.status === 'ready' ? (
        children(panel.data)
      ) : (
        <p className="panel-unavailable">{panel.message}</p>
      )}
      {footer ? <p className="panel-footer">{footer}</p> : null}
    </section>
  );
}
