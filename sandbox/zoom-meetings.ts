/**
 * Meetings of the Zoom stand-in: their shape as Zoom's Meetings API returns them, the checks on a
 * create or update body, and the in-memory store.
 */

import { randomBytes, randomInt } from 'node:crypto';

import { Temporal } from 'temporal-polyfill';

/** The Zoom user who hosts every meeting of the stand-in. It is made up. */
export const ZOOM_SANDBOX_HOST = {
  id: 'sbxHostUser0000000000A',
  email: 'telehealth-host@sandbox.example.com',
  /** Zoom user setting used as a meeting's `timezone` when the create request sends none. */
  timeZone: 'America/New_York',
} as const;

/** `type` of a scheduled meeting, the only type that the stand-in creates. */
export const SCHEDULED_MEETING_TYPE = 2;

/** Maximum lengths that Zoom documents for `topic` and `agenda`. */
const MAX_TOPIC_LENGTH = 200;
const MAX_AGENDA_LENGTH = 2000;

const LOCAL_DATE_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

/** A meeting as Zoom returns it from create and get, with the fields that the stand-in keeps. */
export interface ZoomMeeting {
  uuid: string;
  /** Meeting number, 11 digits. */
  id: number;
  host_id: string;
  host_email: string;
  topic: string;
  type: number;
  status: 'waiting';
  /** Start in UTC, `yyyy-MM-ddTHH:mm:ssZ`. */
  start_time: string;
  /** Length in minutes. */
  duration: number;
  /** IANA time zone in which Zoom shows the meeting. */
  timezone: string;
  agenda?: string;
  created_at: string;
  /** Link for the host that starts the meeting. It signs the host in, so it is a secret. */
  start_url: string;
  /** Link for attendees, unchanged for the life of the meeting. */
  join_url: string;
  password: string;
  settings: Record<string, unknown>;
  pre_schedule: false;
}

/** Fields of a create or update request after validation. */
export interface MeetingFields {
  topic?: string;
  start_time?: string;
  duration?: number;
  timezone?: string;
  agenda?: string;
  settings?: Record<string, unknown>;
}

/** Fields of a create request after validation, which always has a start and a duration. */
export type NewMeetingFields = MeetingFields & { start_time: string; duration: number };

/** Either the validated fields or the message of Zoom's 400 error with code 300. */
export type MeetingFieldsResult<T extends MeetingFields> =
  | { ok: true; fields: T }
  | { ok: false; message: string };

/** Settings that Zoom fills in when a create request leaves them out; a subset of Zoom's. */
const DEFAULT_SETTINGS: Readonly<Record<string, unknown>> = {
  host_video: false,
  participant_video: false,
  join_before_host: false,
  mute_upon_entry: false,
  waiting_room: true,
  approval_type: 2,
  audio: 'voip',
  auto_recording: 'none',
};

/**
 * Checks the body of `POST /users/{userId}/meetings` (`mode` create) or
 * `PATCH /meetings/{meetingId}` (`mode` update). A create needs `start_time` and `duration`, and an
 * update may send any subset. `start_time` is an ISO 8601 instant with `Z` or an offset, or a local
 * `yyyy-MM-ddTHH:mm:ss` read in the `timezone` of the same request. Unknown fields are ignored, as
 * Zoom ignores them.
 */
export function parseMeetingFields(
  body: unknown,
  mode: 'create',
): MeetingFieldsResult<NewMeetingFields>;
export function parseMeetingFields(
  body: unknown,
  mode: 'update',
): MeetingFieldsResult<MeetingFields>;
export function parseMeetingFields(
  body: unknown,
  mode: 'create' | 'update',
): MeetingFieldsResult<MeetingFields> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, message: 'Request Body should be a valid JSON object.' };
  }
  const input = body as Record<string, unknown>;
  const fields: MeetingFields = {};

  if (input.type !== undefined && input.type !== SCHEDULED_MEETING_TYPE) {
    return {
      ok: false,
      message: `type ${JSON.stringify(input.type)} is not supported by the sandbox. Send type 2, a scheduled meeting.`,
    };
  }

  for (const [name, maxLength] of [
    ['topic', MAX_TOPIC_LENGTH],
    ['agenda', MAX_AGENDA_LENGTH],
  ] as const) {
    const value = input[name];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length > maxLength) {
      return { ok: false, message: `${name} must be a string of at most ${maxLength} characters.` };
    }
    fields[name] = value;
  }

  if (input.timezone !== undefined) {
    if (typeof input.timezone !== 'string' || !isTimeZone(input.timezone)) {
      return {
        ok: false,
        message: `timezone ${JSON.stringify(input.timezone)} is not a valid time zone. Send an IANA time zone such as America/New_York.`,
      };
    }
    fields.timezone = input.timezone;
  }

  if (input.start_time !== undefined) {
    const startTime = parseStartTime(input.start_time, fields.timezone);
    if (!startTime) {
      return {
        ok: false,
        message: `start_time ${JSON.stringify(input.start_time)} is invalid. Send an instant such as 2026-12-07T14:00:00Z, or a local yyyy-MM-ddTHH:mm:ss together with timezone.`,
      };
    }
    fields.start_time = startTime;
  } else if (mode === 'create') {
    return { ok: false, message: 'start_time is required for a scheduled meeting (type 2).' };
  }

  if (input.duration !== undefined) {
    if (
      typeof input.duration !== 'number' ||
      !Number.isInteger(input.duration) ||
      input.duration < 1
    ) {
      return {
        ok: false,
        message: `duration ${JSON.stringify(input.duration)} is invalid. Send the length in minutes as a positive integer.`,
      };
    }
    fields.duration = input.duration;
  } else if (mode === 'create') {
    return { ok: false, message: 'duration is required: send the length in minutes.' };
  }

  if (input.settings !== undefined) {
    if (
      typeof input.settings !== 'object' ||
      input.settings === null ||
      Array.isArray(input.settings)
    ) {
      return { ok: false, message: 'settings must be a JSON object.' };
    }
    fields.settings = input.settings as Record<string, unknown>;
  }

  return { ok: true, fields };
}

/** The meetings that exist, in the order they were created. Deleted meetings are removed. */
export class ZoomMeetingStore {
  private readonly meetingsById = new Map<string, ZoomMeeting>();

  /** Creates a scheduled meeting from validated create fields, with a new id and links. */
  create(fields: NewMeetingFields, now: Date): ZoomMeeting {
    const id = this.newMeetingId();
    const createdAt = Temporal.Instant.fromEpochMilliseconds(now.getTime());
    const meeting: ZoomMeeting = {
      uuid: randomBytes(16).toString('base64'),
      id,
      host_id: ZOOM_SANDBOX_HOST.id,
      host_email: ZOOM_SANDBOX_HOST.email,
      topic: fields.topic ?? 'Zoom Meeting',
      type: SCHEDULED_MEETING_TYPE,
      status: 'waiting',
      start_time: fields.start_time,
      duration: fields.duration,
      timezone: fields.timezone ?? ZOOM_SANDBOX_HOST.timeZone,
      ...(fields.agenda !== undefined ? { agenda: fields.agenda } : {}),
      created_at: toZoomInstant(createdAt),
      start_url: `https://zoom.us/s/${id}?zak=${randomBytes(32).toString('base64url')}`,
      join_url: `https://zoom.us/j/${id}?pwd=${randomBytes(24).toString('base64url')}`,
      password: randomBytes(6).toString('base64url'),
      settings: { ...DEFAULT_SETTINGS, ...fields.settings },
      pre_schedule: false,
    };
    this.meetingsById.set(String(id), meeting);
    return structuredClone(meeting);
  }

  get(meetingId: string): ZoomMeeting | undefined {
    const meeting = this.meetingsById.get(meetingId);
    return meeting ? structuredClone(meeting) : undefined;
  }

  /** Applies validated update fields. Returns false when no meeting has that id. */
  update(meetingId: string, fields: MeetingFields): boolean {
    const meeting = this.meetingsById.get(meetingId);
    if (!meeting) {
      return false;
    }

    const { settings, ...scalars } = fields;
    Object.assign(meeting, scalars);
    if (settings) {
      meeting.settings = { ...meeting.settings, ...settings };
    }
    return true;
  }

  /** Deletes a meeting. Returns false when no meeting has that id. */
  delete(meetingId: string): boolean {
    return this.meetingsById.delete(meetingId);
  }

  list(): ZoomMeeting[] {
    return [...this.meetingsById.values()].map((meeting) => structuredClone(meeting));
  }

  clear(): void {
    this.meetingsById.clear();
  }

  private newMeetingId(): number {
    for (;;) {
      const id = randomInt(10_000_000_000, 100_000_000_000);
      if (!this.meetingsById.has(String(id))) {
        return id;
      }
    }
  }
}

/**
 * Parses `start_time` into Zoom's UTC form. A local date-time needs `timeZone`. Zoom itself would
 * read it in the user's time zone, but the stand-in rejects it, so that a client that drops the
 * offset fails in tests instead of booking the wrong hour.
 */
function parseStartTime(value: unknown, timeZone: string | undefined): string | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }

  // Temporal throws a RangeError for a value it cannot parse, such as month 13.
  try {
    if (!LOCAL_DATE_TIME_PATTERN.test(value)) {
      return toZoomInstant(Temporal.Instant.from(value));
    }
    if (!timeZone) {
      return undefined;
    }
    const local = Temporal.PlainDateTime.from(value);
    return toZoomInstant(local.toZonedDateTime(timeZone).toInstant());
  } catch {
    return undefined;
  }
}

/** Formats an instant as Zoom does, in UTC to the second, e.g. `2026-12-07T14:00:00Z`. */
function toZoomInstant(instant: Temporal.Instant): string {
  return instant.toString({ smallestUnit: 'second' });
}

function isTimeZone(value: string): boolean {
  try {
    Temporal.Now.zonedDateTimeISO(value);
    return true;
  } catch {
    return false;
  }
}
