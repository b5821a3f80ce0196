/**
 * Canvas's rule for Slot search: `schedule` is required, because Canvas computes free slots per
 * Schedule (https://docs.canvasmedical.com/api/slot/). Canvas's example sends the bare Schedule id
 * (`schedule=Location.1-Staff.<id>`), which the in-memory repository would match against nothing,
 * so the sandbox rewrites a bare id to `Schedule/<id>`.
 */

import { badRequest, OperationOutcomeError } from '@medplum/core';

const RESOURCE_ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * Returns the parameters of a Slot search with every bare `schedule` id written as
 * `Schedule/<id>`. Throws an OperationOutcomeError with status 400 when `schedule` is missing or
 * empty.
 */
export function requireSlotSchedule(params: URLSearchParams): URLSearchParams {
  const schedules = params.getAll('schedule').filter((value) => value.trim() !== '');
  if (schedules.length === 0) {
    throw new OperationOutcomeError(
      badRequest(
        'Slot search requires the schedule parameter, as on Canvas: add schedule=Schedule/<id> with an id from a Schedule search.',
      ),
    );
  }

  const normalized = new URLSearchParams();
  for (const [name, value] of params) {
    const bareId = name === 'schedule' && RESOURCE_ID_PATTERN.test(value);
    normalized.append(name, bareId ? `Schedule/${value}` : value);
  }
  return normalized;
}
