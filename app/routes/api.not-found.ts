import { apiError } from '~/http/api.server';

function notFound() {
  return apiError(404, 'not_found', 'No API endpoint matches this path.');
}

export const loader = notFound;
export const action = notFound;
