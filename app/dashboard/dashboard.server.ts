import type { PatientSession } from '~/auth/session.server';
import { searchResources } from '~/clients/fhir.server';
import { getPool } from '~/db/pool.server';
import { countUnreadMessages } from '~/messages/conversation.server';
import { countUnreadNotificationsOnce } from '~/notifications/notifications.server';
import { joinUrlOf } from '~/scheduling/appointment-resource';
import { JOIN_OPENS_MINUTES_BEFORE } from '~/scheduling/slot';
import { getPatientProfile } from '~/patients/profile.server';
import {
  listActiveTreatments,
  type ActiveTreatment,
} from '~/prescriptions/active-treatment.server';

import { loadPanel, type Panel } from './panel.server';

export interface LatestShipment {
  id: string;
  status: 'label_created' | 'packed' | 'shipped' | 'delivered' | 'voided';
  carrier: string;
  trackingNumber: string | null;
  statusChangedAt: string;
  /** End of FedEx's estimated delivery window from the last cached result, if any. */
  estimatedDelivery: string | null;
}

export interface NextAppointment {
  id: string;
  /** ISO 8601 instant of `Appointment.start`. */
  start: string;
  description: string | undefined;
  /** The Zoom join link from the Appointment's contained Endpoint, when it has one. */
  joinUrl: string | undefined;
  /** When the page enables the join link: 15 minutes before the start. */
  joinOpensAt: string;
}

/**
 * The part of the patient's profile the dashboard shows. The rest (contact details, address,
 * birth date) stays on the profile page, so the dashboard's page data carries none of it.
 */
export interface DashboardProfile {
  firstName: string | undefined;
  /** IANA time zone for showing times, the clinic's when the patient has none. */
  timeZone: string;
  practitionerName: string | undefined;
}

export interface Dashboard {
  profile: Panel<DashboardProfile>;
  treatments: Panel<ActiveTreatment[]>;
  latestShipment: Panel<LatestShipment | null>;
  nextAppointment: Panel<NextAppointment | null>;
  unreadMessages: Panel<number>;
  unreadNotifications: Panel<number>;
}

/**
 * Loads every dashboard panel in parallel, each from its own source, so the page costs its
 * slowest source and a failing source degrades only its panel. `request` is the page's request,
 * whose unread notification count the root loader also reads.
 */
export async function getDashboard(session: PatientSession, request: Request): Promise<Dashboard> {
  const { patientId } = session;
  const [
    profile,
    treatments,
    latestShipment,
    nextAppointment,
    unreadMessages,
    unreadNotifications,
  ] = await Promise.all([
    loadPanel(
      'profile',
      patientId,
      () => getDashboardProfile(session),
      'Your details could not be loaded right now.',
    ),
    loadPanel(
      'treatments',
      patientId,
      () => listActiveTreatments(session),
      'Your treatment could not be loaded right now.',
    ),
    loadPanel(
      'latestShipment',
      patientId,
      () => findLatestShipment(patientId),
      'Shipment status is unavailable right now.',
    ),
    loadPanel(
      'nextAppointment',
      patientId,
      () => findNextAppointment(patientId),
      'Visits could not be loaded right now.',
    ),
    loadPanel(
      'unreadMessages',
      patientId,
      () => countUnreadMessages(session),
      'Messages could not be checked right now.',
    ),
    loadPanel(
      'unreadNotifications',
      patientId,
      () => countUnreadNotificationsOnce(request, patientId),
      'Notifications are unavailable right now.',
    ),
  ]);
  return {
    profile,
    treatments,
    latestShipment,
    nextAppointment,
    unreadMessages,
    unreadNotifications,
  };
}

async function getDashboardProfile(session: PatientSession): Promise<DashboardProfile> {
  const profile = await getPatientProfile(session);
  return {
    firstName: profile.name.first,
    timeZone: profile.timeZone,
    practitionerName: profile.practitioner?.name,
  };
}

async function findLatestShipment(patientId: string): Promise<LatestShipment | null> {
  // The estimated delivery comes from the last cached FedEx result only: the dashboard never
  // waits for FedEx.
  const result = await getPool().query<{
    id: string;
    status: LatestShipment['status'];
    carrier: string;
    tracking_number: string | null;
    status_changed_at: Date;
    estimated_delivery: string | null;
  }>(
    `SELECT s.id, s.status, s.carrier, s.tracking_number, s.status_changed_at,
            c.payload -> 'estimatedDelivery' ->> 'ends' AS estimated_delivery
     FROM shipments s LEFT JOIN tracking_cache c ON c.tracking_number = s.tracking_number
     WHERE s.patient_id = $1 ORDER BY s.created_at DESC, s.id DESC LIMIT 1`,
    [patientId],
  );
  const row = result.rows[0];
  if (!row) return null;

  return {
    id: row.id,
    status: row.status,
    carrier: row.carrier,
    trackingNumber: row.tracking_number,
    statusChangedAt: row.status_changed_at.toISOString(),
    estimatedDelivery: row.estimated_delivery,
  };
}

async function findNextAppointment(patientId: string): Promise<NextAppointment | null> {
  const appointments = await searchResources(
    'Appointment',
    {
      patient: `Patient/${patientId}`,
      date: `ge${new Date().toISOString()}`,
      status: 'booked',
      _sort: 'date',
      _count: '1',
    },
    { maxResults: 1 },
  );
  const next = appointments
    .filter((appointment) => appointment.start)
    .sort((a, b) => Date.parse(a.start ?? '') - Date.parse(b.start ?? ''))[0];
  if (!next?.id || !next.start) return null;

  return {
    id: next.id,
    start: next.start,
    description: next.description,
    joinUrl: joinUrlOf(next),
    joinOpensAt: new Date(
      Date.parse(next.start) - JOIN_OPENS_MINUTES_BEFORE * 60_000,
    ).toISOString(),
  };
}
