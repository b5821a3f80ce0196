import { requirePatient } from '~/auth/session.server';
import { apiError, methodNotAllowed, readJsonBody } from '~/http/api.server';
import { failureHeaders } from '~/http/request-failure.server';
import { openConversation, pollConversation } from '~/messages/conversation.server';
import { describeMessagingFailure } from '~/messages/message-errors.server';
import { parseIdempotencyKey } from '~/http/idempotency.server';
import { parsePollCursor } from '~/messages/message-request.server';
import { messageInputSchema, sendMessage } from '~/messages/send-message.server';
import { enforceWriteLimit } from '~/security/write-limits.server';

import type { Route } from './+types/api.patient.messages';

/**
 * GET: the whole conversation, or with `since` (the `cursor` of the last response) only the
 * messages that changed since then. Either marks the care team's messages read. Other query
 * parameters are ignored: the patient always comes from the session.
 */
export async function loader({ request }: Route.LoaderArgs) {
  const session = await requirePatient(request);

  try {
    const since = parsePollCursor(new URL(request.url).searchParams.get('since'));
    const body =
      since === undefined
        ? await openConversation(session)
        : await pollConversation(session, since);
    return Response.json(body, { headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    return failureResponse(error, session.patientId, 'read');
  }
}

/**
 * POST `{ "text": "..." }` with an optional Idempotency-Key header: sends a message. A session
 * over its message limit gets 429 with Retry-After, retries with the same key included.
 */
export async function action({ request }: Route.ActionArgs) {
  if (request.method !== 'POST') return methodNotAllowed('GET, POST');
  const session = await requirePatient(request);

  try {
    const idempotencyKey = parseIdempotencyKey(request.headers.get('idempotency-key'));
    const input = await readJsonBody(request, messageInputSchema);
    await enforceWriteLimit(session, 'message');

    const { message, replayed } = await sendMessage(session, input, idempotencyKey);
    return Response.json(
      { message },
      {
        status: 201,
        headers: {
          'cache-control': 'no-store',
          ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
        },
      },
    );
  } catch (error) {
    return failureResponse(error, session.patientId, 'send');
  }
}

function failureResponse(error: unknown, patientId: string, action: 'read' | 'send'): Response {
  const failure = describeMessagingFailure(error, patientId, action);
  return apiError(
    failure.status,
    failure.code,
    failure.message,
    failureHeaders(failure),
    failure.fields,
  );
}
