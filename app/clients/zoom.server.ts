import { z } from 'zod';

import { getEnv } from '~/config/env.server';

import {
  getCachedAccessToken,
  invalidateClientCredentialsToken,
  readTokenResponse,
} from './client-credentials-token.server';
import { fetchUpstream, type UpstreamRequest, type UpstreamResponse } from './http.server';
import { UpstreamError } from './upstream-error.server';

/** A scheduled Zoom meeting as the portal keeps it. The host's `start_url` is never kept. */
export interface ZoomMeeting {
  /** Zoom's numeric meeting id, as a string so that it survives JSON and SQL unchanged. */
  id: string;
  joinUrl: string;
}

export interface ZoomMeetingTime {
  /** Start as an instant; Zoom receives it in UTC (`yyyy-MM-ddTHH:mm:ssZ`). */
  start: Date;
  durationMinutes: number;
  /** IANA zone Zoom shows the meeting in, e.g. the patient's. */
  timeZone: string;
}

const meetingSchema = z.object({
  id: z.union([z.number(), z.string()]).transform(String),
  join_url: z.url(),
});

/**
 * Creates a scheduled meeting (`POST /users/{userId}/meetings`, type 2) and returns its id and
 * join link. Not retried: a repeated create would make a second meeting. `agenda` is the
 * meeting's description, which listZoomMeetings returns, so a caller can find a meeting whose
 * create response was lost.
 */
export async function createZoomMeeting(
  topic: string,
  time: ZoomMeetingTime,
  agenda?: string,
): Promise<ZoomMeeting> {
  const { zoom } = getEnv();
  const response = await sendZoom(`/users/${encodeURIComponent(zoom.userId)}/meetings`, {
    method: 'POST',
    body: JSON.stringify({ topic, type: 2, agenda, ...meetingTimeFields(time) }),
  });

  const parsed = meetingSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) {
    throw new UpstreamError('zoom', 'malformed', 'Zoom meeting response has no id or join_url');
  }
  return { id: parsed.data.id, joinUrl: parsed.data.join_url };
}

/** A meeting as Zoom's meeting list returns it. */
export interface ListedZoomMeeting extends ZoomMeeting {
  /** The meeting's description, as the list returns it. */
  agenda: string | undefined;
}

const meetingListSchema = z.object({
  next_page_token: z.string().optional(),
  meetings: z.array(meetingSchema.extend({ agenda: z.string().optional() })),
});

/** Page size of a meeting list; 300 is the most Zoom accepts. */
const MEETING_LIST_PAGE_SIZE = 300;

/**
 * Lists the user's scheduled meetings (`GET /users/{userId}/meetings?type=scheduled`), following
 * `next_page_token` through every page.
 */
export async function listZoomMeetings(): Promise<ListedZoomMeeting[]> {
  const { zoom } = getEnv();
  const meetings: ListedZoomMeeting[] = [];
  let pageToken = '';
  do {
    const query = new URLSearchParams({
      type: 'scheduled',
      page_size: String(MEETING_LIST_PAGE_SIZE),
    });
    if (pageToken) query.set('next_page_token', pageToken);
    const response = await sendZoom(`/users/${encodeURIComponent(zoom.userId)}/meetings?${query}`, {
      method: 'GET',
    });

    const parsed = meetingListSchema.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success) {
      throw new UpstreamError('zoom', 'malformed', 'Zoom meeting list response has no meetings');
    }
    for (const meeting of parsed.data.meetings) {
      meetings.push({ id: meeting.id, joinUrl: meeting.join_url, agenda: meeting.agenda });
    }
    pageToken = parsed.data.next_page_token ?? '';
  } while (pageToken);
  return meetings;
}

/** Moves a meeting to a new time (`PATCH /meetings/{meetingId}`); the join link stays the same. */
export async function updateZoomMeeting(meetingId: string, time: ZoomMeetingTime): Promise<void> {
  const response = await sendZoom(`/meetings/${encodeURIComponent(meetingId)}`, {
    method: 'PATCH',
    // Setting the same time twice changes nothing, so a retry is safe.
    idempotent: true,
    body: JSON.stringify(meetingTimeFields(time)),
  });
  await response.discard();
}

/**
 * Deletes a meeting (`DELETE /meetings/{meetingId}`). A meeting that no longer exists counts as
 * deleted, so a retry after a lost response succeeds.
 */
export async function deleteZoomMeeting(meetingId: string): Promise<void> {
  const response = await sendZoom(
    `/meetings/${encodeURIComponent(meetingId)}`,
    { method: 'DELETE', idempotent: true },
    { allowNotFound: true },
  );
  await response.discard();
}

function meetingTimeFields(time: ZoomMeetingTime) {
  return {
    start_time: time.start.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    duration: time.durationMinutes,
    timezone: time.timeZone,
  };
}

/** Sends an authorised request, renewing the token once on 401; throws UpstreamError for non-2xx. */
async function sendZoom(
  path: string,
  init: UpstreamRequest,
  options: { allowNotFound?: boolean } = {},
): Promise<UpstreamResponse> {
  const url = `${getEnv().zoom.apiBaseUrl.replace(/\/+$/, '')}${path}`;
  let response = await fetchUpstream('zoom', url, withAuthorization(init, await getZoomToken()));
  if (response.status === 401) {
    await response.discard();
    invalidateClientCredentialsToken('zoom');
    response = await fetchUpstream('zoom', url, withAuthorization(init, await getZoomToken()));
  }
  if (response.ok || (options.allowNotFound && response.status === 404)) return response;

  const code = await readErrorCode(response);
  throw new UpstreamError(
    'zoom',
    'http',
    `Zoom ${init.method ?? 'GET'} failed with ${response.status}${code ? ` (code ${code})` : ''}`,
    response.status,
  );
}

function withAuthorization(init: UpstreamRequest, accessToken: string): UpstreamRequest {
  return {
    ...init,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      ...init.headers,
      authorization: `Bearer ${accessToken}`,
    },
  };
}

/**
 * Returns a Server-to-Server OAuth token (`grant_type=account_credentials`, client id and
 * secret as HTTP Basic), cached until shortly before it expires.
 */
function getZoomToken(): Promise<string> {
  return getCachedAccessToken('zoom', async () => {
    const { zoom } = getEnv();
    const url = new URL(zoom.oauthUrl);
    url.searchParams.set('grant_type', 'account_credentials');
    url.searchParams.set('account_id', zoom.accountId);
    const basic = Buffer.from(`${zoom.clientId}:${zoom.clientSecret}`).toString('base64');

    const response = await fetchUpstream('zoom', url.toString(), {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, accept: 'application/json' },
    });
    return readTokenResponse('zoom', response);
  });
}

async function readErrorCode(response: UpstreamResponse): Promise<string | undefined> {
  const body: unknown = await response.json().catch(() => undefined);
  const code = (body as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' || typeof code === 'string' ? String(code) : undefined;
}
