import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import express from 'express';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { FaultRegistry } from './faults.js';
import { CallCounters } from './stats.js';
import { startSandbox, TEST_CREDENTIALS, type RunningSandbox } from './test-support.js';
import { createZoomRouter, ZOOM_TOKEN_LIFETIME_SECONDS } from './zoom.js';
import { ZOOM_SANDBOX_HOST, type ZoomMeeting } from './zoom-meetings.js';

interface ZoomApiError {
  code: number;
  message: string;
}

interface ZoomOAuthError {
  reason: string;
  error: string;
}

interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  api_url: string;
}

const BASIC_AUTHORIZATION = `Basic ${Buffer.from(
  `${TEST_CREDENTIALS.zoomClientId}:${TEST_CREDENTIALS.zoomClientSecret}`,
).toString('base64')}`;

/** A create body as the portal sends it for a 30-minute video visit. */
const VISIT = {
  topic: 'Video visit with Dr. Okafor',
  type: 2,
  start_time: '2026-12-07T14:00:00Z',
  duration: 30,
  timezone: 'America/Chicago',
  agenda: 'Medication follow-up',
  settings: { join_before_host: false, waiting_room: true },
};

let sandbox: RunningSandbox;
let zoomUrl: string;
let accessToken: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  zoomUrl = `${sandbox.sandboxUrl}/zoom`;
  accessToken = await requestAccessToken();
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(async () => {
  await fetch(`${sandbox.sandboxUrl}/faults`, { method: 'DELETE' });
  await fetch(`${sandbox.sandboxUrl}/stats`, { method: 'DELETE' });
  await fetch(`${zoomUrl}/meetings`, { method: 'DELETE' });
});

function tokenRequest(
  query: Record<string, string>,
  init: { authorization?: string; body?: URLSearchParams } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (init.authorization !== undefined) headers.Authorization = init.authorization;
  return fetch(`${zoomUrl}/oauth/token?${new URLSearchParams(query).toString()}`, {
    method: 'POST',
    headers,
    body: init.body,
  });
}

async function requestAccessToken(): Promise<string> {
  const response = await tokenRequest(
    { grant_type: 'account_credentials', account_id: TEST_CREDENTIALS.zoomAccountId },
    { authorization: BASIC_AUTHORIZATION },
  );
  expect(response.status).toBe(200);
  return ((await response.json()) as TokenResponse).access_token;
}

/** Sends a Meetings API request below `/v2` with the test's token and a JSON body, if any. */
function zoomApi(
  path: string,
  init: { method?: string; body?: unknown; token?: string | null } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  const token = init.token === undefined ? accessToken : init.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(`${zoomUrl}/v2${path}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

async function createMeeting(body: unknown = VISIT): Promise<ZoomMeeting> {
  const response = await zoomApi('/users/me/meetings', { method: 'POST', body });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as ZoomMeeting;
}

async function listMeetings(): Promise<ZoomMeeting[]> {
  const response = await fetch(`${zoomUrl}/meetings`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { meetings: ZoomMeeting[] }).meetings;
}

async function readStats(): Promise<Record<string, Record<string, number>>> {
  return (await (await fetch(`${sandbox.sandboxUrl}/stats`)).json()) as Record<
    string,
    Record<string, number>
  >;
}

function putZoomFaults(settings: unknown): Promise<Response> {
  return fetch(`${sandbox.sandboxUrl}/faults/zoom`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(settings),
  });
}

describe('Zoom token endpoint', () => {
  it('issues a bearer token for the account credentials', async () => {
    const response = await tokenRequest(
      { grant_type: 'account_credentials', account_id: TEST_CREDENTIALS.zoomAccountId },
      { authorization: BASIC_AUTHORIZATION },
    );
    const body = (await response.json()) as TokenResponse;

    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(body.access_token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(body.token_type).toBe('bearer');
    expect(body.expires_in).toBe(ZOOM_TOKEN_LIFETIME_SECONDS);
    expect(body.scope).toContain('meeting:write:admin');
    expect(body.api_url).toBe(zoomUrl);
  });

  it('accepts the parameters in a form body', async () => {
    const response = await tokenRequest(
      {},
      {
        authorization: BASIC_AUTHORIZATION,
        body: new URLSearchParams({
          grant_type: 'account_credentials',
          account_id: TEST_CREDENTIALS.zoomAccountId,
        }),
      },
    );

    expect(response.status).toBe(200);
  });

  it('rejects a wrong client secret', async () => {
    const wrong = `Basic ${Buffer.from(`${TEST_CREDENTIALS.zoomClientId}:wrong`).toString('base64')}`;

    const response = await tokenRequest(
      { grant_type: 'account_credentials', account_id: TEST_CREDENTIALS.zoomAccountId },
      { authorization: wrong },
    );

    expect(response.status).toBe(400);
    expect((await response.json()) as ZoomOAuthError).toEqual({
      reason: 'Invalid client_id or client_secret',
      error: 'invalid_client',
    });
  });

  it('rejects a request without Basic credentials', async () => {
    const response = await tokenRequest({
      grant_type: 'account_credentials',
      account_id: TEST_CREDENTIALS.zoomAccountId,
    });

    expect(response.status).toBe(400);
    expect(((await response.json()) as ZoomOAuthError).error).toBe('invalid_client');
  });

  it('rejects another account id', async () => {
    const response = await tokenRequest(
      { grant_type: 'account_credentials', account_id: 'another-account' },
      { authorization: BASIC_AUTHORIZATION },
    );
    const body = (await response.json()) as ZoomOAuthError;

    expect(response.status).toBe(400);
    expect(body.error).toBe('invalid_client');
    expect(body.reason).toContain('another-account');
  });

  it('rejects another grant type', async () => {
    const queries: Record<string, string>[] = [
      { grant_type: 'client_credentials', account_id: TEST_CREDENTIALS.zoomAccountId },
      { account_id: TEST_CREDENTIALS.zoomAccountId },
    ];
    for (const query of queries) {
      const response = await tokenRequest(query, { authorization: BASIC_AUTHORIZATION });

      expect(response.status, JSON.stringify(query)).toBe(400);
      expect(((await response.json()) as ZoomOAuthError).error).toBe('unsupported_grant_type');
    }
  });

  it('rejects GET with 405', async () => {
    const response = await fetch(`${zoomUrl}/oauth/token`);

    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('counts token requests separately', async () => {
    await requestAccessToken();
    await zoomApi('/meetings/12345678901');

    expect((await readStats()).zoom).toEqual({ requests: 2, tokenRequests: 1 });
  });
});

describe('Zoom bearer check', () => {
  it('rejects a request without a token', async () => {
    const response = await zoomApi('/users/me/meetings', {
      method: 'POST',
      body: VISIT,
      token: null,
    });

    expect(response.status).toBe(401);
    expect((await response.json()) as ZoomApiError).toEqual({
      code: 124,
      message: 'Invalid access token.',
    });
  });

  it('rejects an unknown token', async () => {
    const response = await zoomApi('/meetings/12345678901', { token: 'not-a-token' });

    expect(response.status).toBe(401);
    expect(((await response.json()) as ZoomApiError).code).toBe(124);
  });

  it('reports an expired token', async () => {
    let now = 1_000_000;
    const counters = new CallCounters();
    const app = express();
    app.use(
      '/zoom',
      createZoomRouter({
        accountId: 'clock-account',
        clientId: 'clock-client',
        clientSecret: 'clock-secret',
        faults: new FaultRegistry(),
        counters,
        logger: pino({ level: 'warn' }),
        now: () => now,
      }),
    );
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/zoom`;

    try {
      const tokenResponse = await fetch(
        `${base}/oauth/token?grant_type=account_credentials&account_id=clock-account`,
        {
          method: 'POST',
          headers: {
            Authorization: `Basic ${Buffer.from('clock-client:clock-secret').toString('base64')}`,
          },
        },
      );
      const { access_token: token } = (await tokenResponse.json()) as TokenResponse;
      now += ZOOM_TOKEN_LIFETIME_SECONDS * 1000;

      const response = await fetch(`${base}/v2/meetings/12345678901`, {
        headers: { Authorization: `Bearer ${token}` },
      });

      expect(response.status).toBe(401);
      expect((await response.json()) as ZoomApiError).toEqual({
        code: 124,
        message: 'Access token is expired.',
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('Zoom meeting lifecycle', () => {
  it('creates, reads, updates and deletes a meeting', async () => {
    const created = await createMeeting();

    const read = await zoomApi(`/meetings/${created.id}`);
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(created);

    const patch = await zoomApi(`/meetings/${created.id}`, {
      method: 'PATCH',
      body: { start_time: '2026-12-08T15:30:00Z', duration: 45, topic: 'Rescheduled visit' },
    });
    expect(patch.status).toBe(204);
    expect(await patch.text()).toBe('');

    const updated = (await (await zoomApi(`/meetings/${created.id}`)).json()) as ZoomMeeting;
    expect(updated.start_time).toBe('2026-12-08T15:30:00Z');
    expect(updated.duration).toBe(45);
    expect(updated.topic).toBe('Rescheduled visit');
    expect(updated.join_url).toBe(created.join_url);
    expect(updated.start_url).toBe(created.start_url);

    const deleted = await zoomApi(`/meetings/${created.id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);

    const readAfterDelete = await zoomApi(`/meetings/${created.id}`);
    expect(readAfterDelete.status).toBe(404);
    expect((await readAfterDelete.json()) as ZoomApiError).toEqual({
      code: 3001,
      message: `Meeting does not exist: ${created.id}.`,
    });
  });

  it('returns a meeting in Zoom shape', async () => {
    const before = Date.now();
    const meeting = await createMeeting();

    expect(String(meeting.id)).toMatch(/^\d{11}$/);
    expect(typeof meeting.id).toBe('number');
    expect(meeting.uuid).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(meeting.host_id).toBe(ZOOM_SANDBOX_HOST.id);
    expect(meeting.host_email).toBe(ZOOM_SANDBOX_HOST.email);
    expect(meeting.topic).toBe(VISIT.topic);
    expect(meeting.type).toBe(2);
    expect(meeting.status).toBe('waiting');
    expect(meeting.start_time).toBe('2026-12-07T14:00:00Z');
    expect(meeting.duration).toBe(30);
    expect(meeting.timezone).toBe('America/Chicago');
    expect(meeting.agenda).toBe(VISIT.agenda);
    expect(meeting.join_url).toMatch(
      new RegExp(`^https://zoom\\.us/j/${meeting.id}\\?pwd=[\\w-]+$`),
    );
    expect(meeting.start_url).toMatch(
      new RegExp(`^https://zoom\\.us/s/${meeting.id}\\?zak=[\\w-]+$`),
    );
    expect(meeting.password).toMatch(/^[\w-]{8}$/);
    expect(meeting.settings).toMatchObject({ join_before_host: false, waiting_room: true });
    expect(meeting.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(Date.parse(meeting.created_at)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
  });

  it('gives each meeting its own id and links', async () => {
    const first = await createMeeting();
    const second = await createMeeting();

    expect(second.id).not.toBe(first.id);
    expect(second.join_url).not.toBe(first.join_url);
    expect(second.start_url).not.toBe(first.start_url);
  });

  it('accepts the host id or email as user', async () => {
    for (const userId of [ZOOM_SANDBOX_HOST.id, ZOOM_SANDBOX_HOST.email]) {
      const response = await zoomApi(`/users/${encodeURIComponent(userId)}/meetings`, {
        method: 'POST',
        body: VISIT,
      });

      expect(response.status, userId).toBe(201);
    }
  });

  it('returns 1001 for unknown user', async () => {
    const response = await zoomApi('/users/someone-else/meetings', { method: 'POST', body: VISIT });

    expect(response.status).toBe(404);
    expect((await response.json()) as ZoomApiError).toEqual({
      code: 1001,
      message: 'User does not exist: someone-else.',
    });
  });

  it('returns 404 for unknown meeting', async () => {
    const patch = await zoomApi('/meetings/12345678901', {
      method: 'PATCH',
      body: { duration: 30 },
    });
    const deleted = await zoomApi('/meetings/12345678901', { method: 'DELETE' });

    for (const response of [patch, deleted]) {
      expect(response.status).toBe(404);
      expect(((await response.json()) as ZoomApiError).code).toBe(3001);
    }
  });

  it('defaults the time zone to the host setting', async () => {
    const meeting = await createMeeting({ ...VISIT, timezone: undefined });

    expect(meeting.timezone).toBe(ZOOM_SANDBOX_HOST.timeZone);
  });

  it('keeps settings not named in a PATCH', async () => {
    const meeting = await createMeeting();

    await zoomApi(`/meetings/${meeting.id}`, {
      method: 'PATCH',
      body: { settings: { mute_upon_entry: true } },
    });

    const updated = (await (await zoomApi(`/meetings/${meeting.id}`)).json()) as ZoomMeeting;
    expect(updated.settings).toMatchObject({ waiting_room: true, mute_upon_entry: true });
  });
});

describe('Zoom meeting list', () => {
  interface MeetingListPage {
    page_size: number;
    total_records: number;
    next_page_token: string;
    meetings: Record<string, unknown>[];
  }

  async function listPage(query: Record<string, string>): Promise<MeetingListPage> {
    const response = await zoomApi(`/users/me/meetings?${new URLSearchParams(query).toString()}`);
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as MeetingListPage;
  }

  it('lists meetings without host secrets', async () => {
    const meeting = await createMeeting();

    const page = await listPage({ type: 'scheduled' });

    expect(page.total_records).toBe(1);
    expect(page.next_page_token).toBe('');
    expect(page.meetings).toEqual([
      {
        uuid: meeting.uuid,
        id: meeting.id,
        host_id: meeting.host_id,
        topic: meeting.topic,
        type: 2,
        start_time: meeting.start_time,
        duration: meeting.duration,
        timezone: meeting.timezone,
        agenda: VISIT.agenda,
        created_at: meeting.created_at,
        join_url: meeting.join_url,
      },
    ]);
  });

  it('pages with next_page_token', async () => {
    const created = [await createMeeting(), await createMeeting(), await createMeeting()];

    const first = await listPage({ page_size: '2' });
    const second = await listPage({ page_size: '2', next_page_token: first.next_page_token });

    expect(first.meetings.map((meeting) => meeting.id)).toEqual([created[0]?.id, created[1]?.id]);
    expect(first.next_page_token).not.toBe('');
    expect(second.meetings.map((meeting) => meeting.id)).toEqual([created[2]?.id]);
    expect(second.next_page_token).toBe('');
  });

  it('rejects a page_size above 300', async () => {
    const response = await zoomApi('/users/me/meetings?page_size=301');

    expect(response.status).toBe(400);
    expect(((await response.json()) as ZoomApiError).code).toBe(300);
  });

  it('returns 1001 for unknown user', async () => {
    const response = await zoomApi('/users/someone-else/meetings');

    expect(response.status).toBe(404);
    expect(((await response.json()) as ZoomApiError).code).toBe(1001);
  });
});

describe('Zoom start_time', () => {
  it('converts an offset to UTC', async () => {
    const meeting = await createMeeting({ ...VISIT, start_time: '2026-12-07T09:00:00-05:00' });

    expect(meeting.start_time).toBe('2026-12-07T14:00:00Z');
  });

  it('drops fractional seconds', async () => {
    const meeting = await createMeeting({ ...VISIT, start_time: '2026-12-07T14:00:00.000Z' });

    expect(meeting.start_time).toBe('2026-12-07T14:00:00Z');
  });

  it('reads a local time in the given time zone', async () => {
    const meeting = await createMeeting({
      ...VISIT,
      start_time: '2027-03-14T09:00:00',
      timezone: 'America/New_York',
    });

    expect(meeting.start_time).toBe('2027-03-14T13:00:00Z');
  });

  it('rejects a local time without a time zone', async () => {
    const response = await zoomApi('/users/me/meetings', {
      method: 'POST',
      body: { ...VISIT, timezone: undefined, start_time: '2026-12-07T09:00:00' },
    });

    expect(response.status).toBe(400);
    expect(((await response.json()) as ZoomApiError).code).toBe(300);
  });
});

describe('Zoom meeting validation', () => {
  const invalidCreates: [string, unknown][] = [
    ['a date only', { ...VISIT, start_time: '2026-12-07' }],
    ['a month 13', { ...VISIT, start_time: '2026-13-07T14:00:00Z' }],
    ['words as start_time', { ...VISIT, start_time: 'tomorrow at 9' }],
    ['a numeric start_time', { ...VISIT, start_time: 1796652000000 }],
    ['no start_time', { ...VISIT, start_time: undefined }],
    ['duration 0', { ...VISIT, duration: 0 }],
    ['a fractional duration', { ...VISIT, duration: 1.5 }],
    ['duration as text', { ...VISIT, duration: '30' }],
    ['no duration', { ...VISIT, duration: undefined }],
    ['an instant meeting', { ...VISIT, type: 1 }],
    ['a recurring meeting', { ...VISIT, type: 8 }],
    ['an unknown time zone', { ...VISIT, timezone: 'Mars/Olympus_Mons' }],
    ['a long topic', { ...VISIT, topic: 'x'.repeat(201) }],
    ['settings as a list', { ...VISIT, settings: [] }],
    ['a JSON list', [VISIT]],
  ];

  for (const [name, body] of invalidCreates) {
    it(`rejects a create with ${name}`, async () => {
      const response = await zoomApi('/users/me/meetings', { method: 'POST', body });
      const error = (await response.json()) as ZoomApiError;

      expect(response.status).toBe(400);
      expect(error.code).toBe(300);
      expect(error.message.length).toBeGreaterThan(10);
    });
  }

  it('rejects a body that is not JSON', async () => {
    const response = await fetch(`${zoomUrl}/v2/users/me/meetings`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json' },
      body: '{"topic":',
    });

    expect(response.status).toBe(400);
    expect((await response.json()) as ZoomApiError).toEqual({
      code: 300,
      message: 'Request Body should be a valid JSON object.',
    });
  });

  it('rejects an invalid PATCH and keeps the meeting', async () => {
    const meeting = await createMeeting();

    for (const body of [{ start_time: 'soon' }, { duration: -5 }, { timezone: 'Nowhere' }]) {
      const response = await zoomApi(`/meetings/${meeting.id}`, { method: 'PATCH', body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(((await response.json()) as ZoomApiError).code).toBe(300);
    }

    expect(await (await zoomApi(`/meetings/${meeting.id}`)).json()).toEqual(meeting);
  });

  it('stores nothing for a rejected create', async () => {
    await zoomApi('/users/me/meetings', { method: 'POST', body: { ...VISIT, duration: 0 } });

    expect(await listMeetings()).toEqual([]);
  });
});

describe('Zoom control endpoint', () => {
  it('lists the meetings that exist', async () => {
    const remaining = await createMeeting();
    const deleted = await createMeeting();
    await zoomApi(`/meetings/${deleted.id}`, { method: 'DELETE' });

    expect(await listMeetings()).toEqual([remaining]);
  });

  it('deletes every meeting', async () => {
    const meeting = await createMeeting();

    const response = await fetch(`${zoomUrl}/meetings`, { method: 'DELETE' });

    expect(response.status).toBe(204);
    expect(await listMeetings()).toEqual([]);
    expect((await zoomApi(`/meetings/${meeting.id}`)).status).toBe(404);
  });

  it('ignores faults and counters', async () => {
    await putZoomFaults({ errorRate: 1, errorStatus: 503 });

    const response = await fetch(`${zoomUrl}/meetings`);

    expect(response.status).toBe(200);
    expect((await readStats()).zoom?.requests).toBe(0);
  });
});

describe('Zoom faults', () => {
  it('fails API requests with Zoom error shape', async () => {
    await putZoomFaults({ errorRate: 1, errorStatus: 503 });

    const response = await zoomApi('/users/me/meetings', { method: 'POST', body: VISIT });

    expect(response.status).toBe(503);
    expect((await response.json()) as ZoomApiError).toEqual({
      code: 503,
      message: 'Injected fault 503.',
    });
    expect((await readStats()).zoom?.requests).toBe(1);
  });

  it('fails token requests with OAuth error shape', async () => {
    await putZoomFaults({ errorRate: 1, errorStatus: 500 });

    const response = await tokenRequest(
      { grant_type: 'account_credentials', account_id: TEST_CREDENTIALS.zoomAccountId },
      { authorization: BASIC_AUTHORIZATION },
    );

    expect(response.status).toBe(500);
    expect((await response.json()) as ZoomOAuthError).toEqual({
      reason: 'Injected fault 500.',
      error: 'server_error',
    });
  });

  it('applies faults only to the listed methods', async () => {
    const meeting = await createMeeting();
    await putZoomFaults({ errorRate: 1, errorStatus: 502, methods: ['PATCH', 'DELETE'] });

    const read = await zoomApi(`/meetings/${meeting.id}`);
    const patch = await zoomApi(`/meetings/${meeting.id}`, {
      method: 'PATCH',
      body: { duration: 60 },
    });
    const deleted = await zoomApi(`/meetings/${meeting.id}`, { method: 'DELETE' });

    expect(read.status).toBe(200);
    expect(patch.status).toBe(502);
    expect(deleted.status).toBe(502);
    expect(await listMeetings()).toEqual([meeting]);
  });

  it('sends a truncated body for malformedJson', async () => {
    await putZoomFaults({ malformedJson: true });

    const response = await zoomApi('/users/me/meetings', { method: 'POST', body: VISIT });

    expect(response.status).toBe(200);
    await expect(response.json()).rejects.toThrow();
    expect(await listMeetings()).toEqual([]);
  });

  it('creates a delayed meeting after the client gave up', async () => {
    await putZoomFaults({ latencyMs: 300, methods: ['POST'] });
    const request = fetch(`${zoomUrl}/v2/users/me/meetings`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(VISIT),
      signal: AbortSignal.timeout(50),
    });

    await expect(request).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 500));

    const meetings = await listMeetings();
    expect(meetings).toHaveLength(1);
    expect(meetings[0]?.start_time).toBe(VISIT.start_time);
  });
});
