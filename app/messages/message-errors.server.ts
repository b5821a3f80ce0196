import { UpstreamError } from '~/clients/upstream-error.server';
import { describeCommonFailure, type RequestFailure } from '~/http/request-failure.server';
import { NoAssignedPractitionerError } from '~/patients/care-team.server';
import { getLogger } from '~/utils/logger.server';

import { NO_PRACTITIONER_MESSAGE } from './message';

/** A failure to send or read messages, as the page and the API tell the patient. */
export type MessagingFailure = RequestFailure;

/**
 * Turns a known failure into the response for the patient and logs it by id. Anything else is
 * rethrown, and the app's error handling reports it as a 500.
 */
export function describeMessagingFailure(
  error: unknown,
  patientId: string,
  action: 'read' | 'send',
): MessagingFailure {
  const common = describeCommonFailure(error);
  if (common) return common;
  if (error instanceof NoAssignedPractitionerError) {
    return { status: 409, code: 'no_practitioner', message: NO_PRACTITIONER_MESSAGE };
  }
  if (error instanceof UpstreamError) {
    getLogger().error(
      {
        patientId,
        upstream: error.upstream,
        failure: error.failure,
        status: error.status,
        action,
      },
      action === 'send' ? 'message not sent' : 'messages unavailable',
    );
    if (action === 'read') {
      return {
        status: 503,
        code: 'unavailable',
        message: 'Your messages are unavailable right now. Please try again in a few minutes.',
      };
    }
    const rejected = error.failure === 'http' && error.status !== undefined && error.status < 500;
    return rejected
      ? {
          status: 502,
          code: 'upstream_rejected',
          message:
            'Your message was not sent because the care team system did not accept it. Your text is still here; please try again later or call the pharmacy.',
        }
      : {
          status: 503,
          code: 'unavailable',
          message:
            'Your message was not sent because messaging is unavailable right now. Your text is still here; please try again in a minute.',
        };
  }
  throw error;
}
