import type { Appointment, Communication } from '@medplum/fhirtypes';

import { readResource, searchResources } from '~/clients/fhir.server';
import { sendEmail } from '~/clients/sendgrid.server';
import { getEnv } from '~/config/env.server';
import { getPool } from '~/db/pool.server';
import { isAddressedToPatient } from '~/messages/conversation.server';
import { readPractitionerNames } from '~/messages/practitioner-names.server';
import { selectReadMessageIds } from '~/messages/read-receipts.server';
import { pickTelecom } from '~/patients/fhir-format';
import { patientTimeZone } from '~/patients/time-zone';
import { parseReference } from '~/prescriptions/reference-cache.server';
import { joinUrlOf } from '~/scheduling/appointment-resource';
import { reconcileBookings } from '~/scheduling/reconcile-bookings.server';
import { formatVisitDateTime } from '~/scheduling/slot-format';
import { escapeHtml } from '~/utils/html';
import { checkShippedDeliveries } from '~/shipments/tracking.server';
import { getLogger } from '~/utils/logger.server';

import { insertNotification } from './notifications.server';

const HOUR_MS = 60 * 60 * 1000;
/** A reminder goes out once a visit starts within this window. */
const REMINDER_WINDOW_MS = 24 * HOUR_MS;
/** A refill notice goes out once the next refill date is this many days away or fewer. */
const REFILL_NOTICE_DAYS = 7;
/** A message sweep rereads this far before its cursor, so a late-indexed message is not missed. */
const MESSAGE_SWEEP_OVERLAP_MS = 5 * 60 * 1000;

export interface JobRunCounts {
  refillsUpcoming: number;
  appointmentReminders: number;
  messagesReceived: number;
  /** Shipments FedEx reported delivered; the database trigger made their notifications. */
  deliveriesConfirmed: number;
  /** Unfinished bookings the booking reconciler settled; they make no notification of their own. */
  bookingsReconciled: number;
  /** Names of the jobs that failed in this run; their counts are 0. */
  failed: string[];
}

/**
 * Runs every time-based notification job once, as of `now`. Each job is an idempotent sweep
 * whose inserts carry dedupe keys, so two workers running at once make each notification once.
 * The booking reconciler runs with them, as one more sweep.
 */
export async function runNotificationJobs(now = new Date()): Promise<JobRunCounts> {
  const failed: string[] = [];
  const runJob = async (job: string, sweep: () => Promise<number>): Promise<number> => {
    try {
      return await sweep();
    } catch (error) {
      failed.push(job);
      getLogger().error(
        { job, err: { name: (error as Error).name, message: (error as Error).message } },
        'notification job failed',
      );
      return 0;
    }
  };
  const [
    refillsUpcoming,
    appointmentReminders,
    messagesReceived,
    deliveriesConfirmed,
    bookingsReconciled,
  ] = await Promise.all([
    runJob('refill-upcoming', () => sweepRefillsUpcoming(now)),
    runJob('appointment-reminder', () => sweepAppointmentReminders(now)),
    // Messages carry the upstream's real update times, so this sweep ignores a demo `now`.
    runJob('message-received', () => sweepMessagesReceived()),
    runJob('shipment-delivered', () => checkShippedDeliveries()),
    runJob('booking-reconcile', () => reconcileBookings(now)),
  ]);
  return {
    refillsUpcoming,
    appointmentReminders,
    messagesReceived,
    deliveriesConfirmed,
    bookingsReconciled,
    failed,
  };
}

/**
 * Notifies each patient whose active subscription's next refill is within seven days of today
 * in the clinic's time zone, once per refill date. One SQL statement, so concurrent runs cannot both insert.
 */
export async function sweepRefillsUpcoming(now: Date): Promise<number> {
  const result = await getPool().query(
    `INSERT INTO notifications (patient_id, type, title, body, link, dedupe_key)
     SELECT patient_id, 'refill_upcoming', 'Refill coming up',
            'Your next refill is scheduled for ' || to_char(next_refill_date, 'FMMonth FMDD, YYYY') || '.',
            '/prescriptions',
            'refill-upcoming:' || id || ':' || next_refill_date
     FROM subscriptions
     WHERE status = 'active' AND next_refill_date IS NOT NULL
       AND next_refill_date >= ($1::timestamptz AT TIME ZONE $3)::date
       AND next_refill_date <= ($1::timestamptz AT TIME ZONE $3)::date + $2::int
     ON CONFLICT (dedupe_key) DO NOTHING`,
    [now, REFILL_NOTICE_DAYS, getEnv().scheduling.clinicTimeZone],
  );
  return result.rowCount ?? 0;
}

/**
 * Reminds each patient of a booked visit that starts within 24 hours of `now`, once per visit
 * and start time, in the feed and by email. The email goes only with the insert that made the
 * notification, so it is sent once too.
 */
export async function sweepAppointmentReminders(now: Date): Promise<number> {
  const appointments = await searchResources('Appointment', {
    date: [
      `gt${now.toISOString()}`,
      `le${new Date(now.getTime() + REMINDER_WINDOW_MS).toISOString()}`,
    ],
    status: 'booked',
  });

  let created = 0;
  for (const appointment of appointments) {
    const patientId = patientOf(appointment);
    if (!appointment.id || !appointment.start || !patientId) continue;

    const patient = await readResource('Patient', patientId);
    const timeZone = patientTimeZone(patient, getEnv().scheduling.clinicTimeZone);
    const when = formatVisitDateTime(new Date(appointment.start).toISOString(), timeZone);
    const inserted = await insertNotification({
      patientId,
      type: 'appointment_reminder',
      title: 'Upcoming video visit',
      body: `Your video visit is on ${when}. The join link opens 15 minutes before the start.`,
      link: '/scheduling',
      dedupeKey: `appointment-reminder:${appointment.id}:${Date.parse(appointment.start)}`,
    });
    if (!inserted) continue;
    created += 1;

    const email = pickTelecom(patient?.telecom, 'email');
    if (email) await sendReminderEmail(email, patientId, appointment, when);
  }
  return created;
}

async function sendReminderEmail(
  to: string,
  patientId: string,
  appointment: Appointment,
  when: string,
): Promise<void> {
  const joinUrl = joinUrlOf(appointment);
  const lines = [
    `This is a reminder of your video visit on ${when}.`,
    ...(joinUrl ? [`Join: ${joinUrl}`] : []),
    'The join link opens 15 minutes before the start. To reschedule or cancel, open Scheduling in the patient portal.',
  ];
  try {
    await sendEmail({
      to,
      subject: `Reminder: your video visit on ${when}`,
      text: lines.join('\n\n'),
      html: lines.map((line) => `<p>${escapeHtml(line)}</p>`).join(''),
    });
  } catch (error) {
    // NOTE: a reminder email that fails is not retried; the feed still carries the reminder.
    getLogger().error(
      {
        patientId,
        appointmentId: appointment.id,
        err: { name: (error as Error).name, message: (error as Error).message },
      },
      'reminder email failed',
    );
  }
}

/**
 * Notifies patients of care-team messages addressed to them that changed since the job's cursor
 * and that they have not read, once per Communication. The cursor moves forward only. The first
 * run only records when the job started, so messages from before it are never announced.
 */
export async function sweepMessagesReceived(): Promise<number> {
  const started = await startCursor('message-received:started');
  const cursor = await readCursor('message-received', started);
  const since = new Date(Math.max(cursor - MESSAGE_SWEEP_OVERLAP_MS, started)).toISOString();
  // NOTE: Canvas documents patient, sender and recipient as its Communication search
  // parameters; a system-wide `_lastUpdated` sweep is not verified against it.
  const communications = await searchResources('Communication', { _lastUpdated: `gt${since}` });

  const names = await readPractitionerNames(communications.map((message) => message.sender));
  let created = 0;
  let newest = Number.NEGATIVE_INFINITY;
  for (const communication of communications) {
    newest = Math.max(newest, Date.parse(communication.meta?.lastUpdated ?? '') || 0);
    // A message written before the job started is old news, even if its record was updated or
    // reloaded since (the sandbox reloads its data on every start).
    const written = Date.parse(communication.sent ?? communication.meta?.lastUpdated ?? '');
    if (!(written >= started - MESSAGE_SWEEP_OVERLAP_MS)) continue;
    for (const patientId of recipientPatients(communication)) {
      if (await notifyMessage(communication, patientId, names)) created += 1;
    }
  }
  if (Number.isFinite(newest)) await advanceCursor('message-received', newest);
  return created;
}

async function notifyMessage(
  communication: Communication,
  patientId: string,
  names: Map<string, string>,
): Promise<boolean> {
  if (!communication.id || !isAddressedToPatient(communication, patientId)) return false;
  const read = await selectReadMessageIds(patientId, [communication.id]);
  if (read.has(communication.id)) return false;

  const sender = parseReference(communication.sender?.reference);
  const senderName = sender?.type === 'Practitioner' ? names.get(sender.id) : undefined;
  return insertNotification({
    patientId,
    type: 'message_received',
    title: 'New message from your care team',
    body: `${senderName ?? 'Your care team'} sent you a message.`,
    link: '/messages',
    dedupeKey: `message-received:${communication.id}`,
  });
}

function recipientPatients(communication: Communication): string[] {
  return (communication.recipient ?? []).flatMap((reference) => {
    const parsed = parseReference(reference.reference);
    return parsed?.type === 'Patient' ? [parsed.id] : [];
  });
}

function patientOf(appointment: Appointment): string | undefined {
  for (const participant of appointment.participant) {
    const parsed = parseReference(participant.actor?.reference);
    if (parsed?.type === 'Patient') return parsed.id;
  }
  return undefined;
}

/** Returns when a job first ran, recording now on its first run; concurrent first runs agree. */
async function startCursor(job: string): Promise<number> {
  await getPool().query(
    `INSERT INTO notification_job_cursors (job, cursor_value) VALUES ($1, $2)
     ON CONFLICT (job) DO NOTHING`,
    [job, new Date().toISOString()],
  );
  return readCursor(job, Date.now());
}

async function readCursor(job: string, fallbackMs: number): Promise<number> {
  const result = await getPool().query<{ cursor_value: string }>(
    'SELECT cursor_value FROM notification_job_cursors WHERE job = $1',
    [job],
  );
  const stored = Date.parse(result.rows[0]?.cursor_value ?? '');
  return Number.isNaN(stored) ? fallbackMs : stored;
}

/** Moves a job's cursor forward; a concurrent run that saw less never moves it back. */
async function advanceCursor(job: string, valueMs: number): Promise<void> {
  const value = new Date(valueMs).toISOString();
  await getPool().query(
    `INSERT INTO notification_job_cursors (job, cursor_value) VALUES ($1, $2)
     ON CONFLICT (job) DO UPDATE SET cursor_value = GREATEST(notification_job_cursors.cursor_value, EXCLUDED.cursor_value),
       updated_at = now()`,
    [job, value],
  );
}
