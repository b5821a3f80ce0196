import { sendEmail } from '~/clients/sendgrid.server';
import { getEnv } from '~/config/env.server';
import { insertNotification } from '~/notifications/notifications.server';
import { escapeHtml } from '~/utils/html';
import { getLogger } from '~/utils/logger.server';

import { buildCalendarFile } from './calendar-file';
import type { SchedulingContext } from './scheduling-context.server';
import { formatVisitDateTime } from './slot-format';

export type VisitChange = 'booked' | 'rescheduled' | 'cancelled';

export interface VisitConfirmation {
  change: VisitChange;
  appointmentId: string;
  start: Date;
  end: Date;
  /** SEQUENCE of the calendar file, from the booking ledger. */
  sequence: number;
  joinUrl: string | undefined;
}

const SUBJECTS: Record<VisitChange, string> = {
  booked: 'Your video visit is booked',
  rescheduled: 'Your video visit has moved',
  cancelled: 'Your video visit is cancelled',
};

/**
 * Tells the patient about a booked, moved or cancelled visit: an in-app notification row (once
 * per change, by its dedupe key) and an email with a calendar file. A failed email is logged and
 * does not undo the change, which already happened.
 */
export async function confirmVisitChange(
  context: SchedulingContext,
  confirmation: VisitConfirmation,
): Promise<void> {
  const when = formatVisitDateTime(confirmation.start.toISOString(), context.timeZone);
  await insertVisitNotification(context.patientId, confirmation, when);

  if (!context.email) {
    getLogger().warn(
      { patientId: context.patientId, appointmentId: confirmation.appointmentId },
      'visit email not sent: the patient has no email',
    );
    return;
  }
  try {
    await sendEmail(buildVisitEmail(context, confirmation, when, context.email));
  } catch (error) {
    // NOTE: a failed confirmation email is not retried, but the in-app notification still
    // informs the patient. An outbox would let it be sent later.
    getLogger().error(
      {
        patientId: context.patientId,
        appointmentId: confirmation.appointmentId,
        err: { name: (error as Error).name, message: (error as Error).message },
      },
      'visit email failed',
    );
  }
}

function buildVisitEmail(
  context: SchedulingContext,
  confirmation: VisitConfirmation,
  when: string,
  to: string,
) {
  const { practitioner } = context;
  const cancelled = confirmation.change === 'cancelled';
  const joinUrl = cancelled ? undefined : confirmation.joinUrl;
  const closing = cancelled
    ? 'To book another visit, open Scheduling in the patient portal.'
    : 'The link opens 15 minutes before the start. To reschedule or cancel, open Scheduling in the patient portal.';
  const text = [
    `${SUBJECTS[confirmation.change]}.`,
    '',
    `When: ${when}`,
    `With: ${practitioner.name}`,
    ...(joinUrl ? [`Join: ${joinUrl}`] : []),
    '',
    closing,
  ].join('\n');
  const html = [
    `<p>${escapeHtml(SUBJECTS[confirmation.change])}.</p>`,
    `<p>When: ${escapeHtml(when)}<br>With: ${escapeHtml(practitioner.name)}</p>`,
    joinUrl ? `<p>Join: <a href="${escapeHtml(joinUrl)}">${escapeHtml(joinUrl)}</a></p>` : '',
    `<p>${escapeHtml(closing)}</p>`,
  ].join('');
  const calendar = buildCalendarFile({
    method: cancelled ? 'CANCEL' : 'REQUEST',
    uid: calendarUid(confirmation.appointmentId),
    sequence: confirmation.sequence,
    start: confirmation.start,
    end: confirmation.end,
    summary: `Video visit with ${practitioner.name}`,
    description: cancelled
      ? 'This video visit is cancelled.'
      : `Video visit with ${practitioner.name}.`,
    joinUrl,
    organizer: { name: practitioner.name, email: getEnv().sendgrid.from },
    attendee: { name: context.patientName, email: to },
    createdAt: new Date(),
  });

  return {
    to,
    subject: `${SUBJECTS[confirmation.change]}: ${when}`,
    text,
    html,
    attachments: [
      {
        filename: cancelled ? 'cancelled-visit.ics' : 'video-visit.ics',
        type: `text/calendar; method=${cancelled ? 'CANCEL' : 'REQUEST'}`,
        content: calendar,
      },
    ],
  };
}

/** UID of a visit's calendar event: the same for its booking, every reschedule and the cancel. */
export function calendarUid(appointmentId: string): string {
  const host = new URL(getEnv().fhir.baseUrl).hostname;
  return `appointment-${appointmentId}@${host}`;
}

async function insertVisitNotification(
  patientId: string,
  confirmation: VisitConfirmation,
  when: string,
): Promise<void> {
  const titles: Record<VisitChange, string> = {
    booked: 'Video visit booked',
    rescheduled: 'Video visit moved',
    cancelled: 'Video visit cancelled',
  };
  await insertNotification({
    patientId,
    type: `appointment_${confirmation.change}`,
    title: titles[confirmation.change],
    body: `${confirmation.change === 'cancelled' ? 'Was' : 'Now'} on ${when}.`,
    link: '/scheduling',
    dedupeKey: `appointment-${confirmation.change}:${confirmation.appointmentId}:${confirmation.sequence}`,
  });
}
