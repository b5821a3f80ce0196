import { UpstreamError } from '~/clients/upstream-error.server';
import { getEnv } from '~/config/env.server';
import { describeCommonFailure, type RequestFailure } from '~/http/request-failure.server';
import { NoAssignedPractitionerError } from '~/patients/care-team.server';
import { getLogger } from '~/utils/logger.server';

import { SlotUnavailableError } from './book-appointment.server';
import { SlotTakenError } from './booking-ledger.server';
import { AppointmentLockedError, AppointmentNotFoundError } from './change-appointment.server';

/** A scheduling failure as the page and the API tell the patient. */
export type SchedulingFailure = RequestFailure;

export const SLOT_TAKEN_MESSAGE =
  'This time was just taken or is no longer open. Please choose another time.';

/**
 * Turns a known scheduling failure into the response for the patient, logging upstream
 * failures by id; rethrows anything else.
 */
export function describeSchedulingFailure(
  error: unknown,
  patientId: string,
  action: string,
): SchedulingFailure {
  const common = describeCommonFailure(error);
  if (common) return common;
  if (error instanceof SlotTakenError || error instanceof SlotUnavailableError) {
    getLogger().info({ patientId, action, reason: error.name }, 'slot no longer open');
    return { status: 409, code: 'slot_taken', message: SLOT_TAKEN_MESSAGE };
  }
  if (error instanceof NoAssignedPractitionerError) {
    return {
      status: 409,
      code: 'no_practitioner',
      message:
        'You do not have a clinician assigned yet, so visits cannot be booked online. Please call the pharmacy to book one.',
    };
  }
  if (error instanceof AppointmentNotFoundError) {
    return { status: 404, code: 'not_found', message: 'This appointment was not found.' };
  }
  if (error instanceof AppointmentLockedError) {
    const hours = getEnv().scheduling.changeCutoffHours;
    return {
      status: 409,
      code: 'appointment_locked',
      message: `This visit can no longer be changed online: changes close ${hours} hours before the start, and past or cancelled visits cannot be changed. Please call the pharmacy.`,
    };
  }
  if (error instanceof UpstreamError) {
    getLogger().error(
      { patientId, action, upstream: error.upstream, failure: error.failure, status: error.status },
      'scheduling upstream failed',
    );
    return {
      status: 503,
      code: 'unavailable',
      message:
        'Scheduling is unavailable right now. Please check your visits, then try again in a few minutes.',
    };
  }
  throw error;
}
