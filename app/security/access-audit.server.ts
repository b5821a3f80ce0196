import { getPool } from '~/db/pool.server';
import { getLogger } from '~/utils/logger.server';
import { singleton } from '~/utils/singleton.server';

/**
 * Why a request for patient data had no patient: no session cookie at all, or a session that
 * ended (`idle`, `max_age`), was signed out (`revoked`), or failed verification (`invalid`).
 */
export type AccessDenialReason = 'no_session' | 'idle' | 'max_age' | 'revoked' | 'invalid';

/** One request's use of patient data, collected while it runs and written when it ends. */
interface AccessRecord {
  patientId?: string;
  sessionId?: string;
  denial?: AccessDenialReason;
}

/** A request as server.ts records it once the response is over. */
export interface FinishedRequest {
  /** The value server.ts put in AUDIT_KEY_HEADER. */
  auditKey: string;
  requestId: string;
  method: string;
  /** Path without the query string. */
  path: string;
  status: number;
  clientIp: string;
  /** False when the client went away before the response was complete. */
  completed: boolean;
}

export type AccessOutcome = 'success' | 'failure' | 'denied';

/** The resource a route reads or changes, as recorded in `audit_events`. */
export interface AuditedResource {
  resourceType: string;
  /** The id the request named (path parameter), or the patient's own id for their record. */
  resourceId?: string;
  action: 'read' | 'create' | 'update' | 'delete';
  /** Further resource types a composite page (the dashboard) reads. */
  includes?: string[];
}

const RECORDS_KEY = 'access-audit-records';

/**
 * Request header that carries the server-made key of a request's open record. server.ts sets it
 * on every request, replacing any value a client sent, because the `X-Request-Id` a client may
 * choose is not unique: two requests sharing one would share, and lose, a record.
 */
export const AUDIT_KEY_HEADER = 'x-portal-audit-key';

/**
 * Open records by request id. server.ts and the React Router build load separate copies of this
 * module, so the map lives in a process-wide singleton.
 */
function openRecords(): Map<string, AccessRecord> {
  return singleton(RECORDS_KEY, () => new Map<string, AccessRecord>());
}

function recordFor(request: Request): AccessRecord | undefined {
  const key = request.headers.get(AUDIT_KEY_HEADER);
  if (!key) return undefined;

  const records = openRecords();
  let record = records.get(key);
  if (!record) {
    record = {};
    records.set(key, record);
  }
  return record;
}

/** Marks the request as one for this patient's data; called once the session is verified. */
export function noteAuthorizedPatient(
  request: Request,
  session: { patientId: string; sessionId: string },
): void {
  const record = recordFor(request);
  if (!record) return;

  record.patientId = session.patientId;
  record.sessionId = session.sessionId;
}

/**
 * Marks the request as a refused attempt on patient data. `patientId` is the patient whose
 * ended session the cookie names, when its signature proved it.
 */
export function noteDeniedAccess(
  request: Request,
  denial: { reason: AccessDenialReason; patientId?: string },
): void {
  const record = recordFor(request);
  if (!record) return;

  record.denial = denial.reason;
  if (denial.patientId) record.patientId = denial.patientId;
}

/**
 * Patient-data routes: path pattern (case-insensitive), with the resource id (if any) as the
 * first group.
 */
const ROUTE_RESOURCES: {
  pattern: RegExp;
  resourceType: string;
  includes?: string[];
  ownRecord?: boolean;
  writeAction?: AuditedResource['action'];
}[] = [
  {
    pattern: /^\/(?:_root)?$/i,
    resourceType: 'Patient',
    ownRecord: true,
    includes: ['MedicationRequest', 'Shipment', 'Appointment', 'Notification'],
  },
  { pattern: /^\/(?:api\/patient\/)?profile$/i, resourceType: 'Patient', ownRecord: true },
  { pattern: /^\/(?:api\/patient\/)?prescriptions$/i, resourceType: 'MedicationRequest' },
  { pattern: /^\/(?:api\/patient\/)?shipments$/i, resourceType: 'Shipment' },
  {
    pattern: /^\/(?:shipments\/track|api\/patient\/tracking)\/([^/]+)$/i,
    resourceType: 'Shipment',
  },
  {
    pattern: /^\/(?:api\/patient\/)?messages$/i,
    resourceType: 'Communication',
    writeAction: 'create',
  },
  { pattern: /^\/scheduling$/i, resourceType: 'Appointment', writeAction: 'create' },
  {
    pattern: /^\/api\/patient\/appointments$/i,
    resourceType: 'Appointment',
    writeAction: 'create',
  },
  { pattern: /^\/api\/patient\/availability$/i, resourceType: 'Slot' },
  {
    pattern: /^\/(?:scheduling|api\/patient)\/appointments\/([^/]+)\/reschedule$/i,
    resourceType: 'Appointment',
  },
  {
    pattern: /^\/(?:scheduling|api\/patient)\/appointments\/([^/]+)\/cancel$/i,
    resourceType: 'Appointment',
  },
  { pattern: /^\/(?:api\/patient\/)?notifications(?:\/read-all)?$/i, resourceType: 'Notification' },
  { pattern: /^\/api\/patient\/notifications\/([^/]+)\/read$/i, resourceType: 'Notification' },
  { pattern: /^\/api\/patient\/session(?:\/keepalive)?$/i, resourceType: 'Session' },
];

/**
 * Names the resource a patient-data path reads or changes. Page data requests
 * (`/messages.data`, `/_root.data`) count as their page. Unknown paths are recorded by path.
 */
export function resourceForPath(
  method: string,
  path: string,
  patientId: string | undefined,
): AuditedResource {
  // React Router matches paths without regard to case or a trailing slash, and so does this.
  const pagePath = path.replace(/\.data$/, '').replace(/(.)\/+$/, '$1');
  const read = method === 'GET' || method === 'HEAD';
  for (const route of ROUTE_RESOURCES) {
    const match = route.pattern.exec(pagePath);
    if (!match) continue;

    const pathId = match[1] === undefined ? undefined : safeDecode(match[1]);
    return {
      resourceType: route.resourceType,
      resourceId: pathId ?? (route.ownRecord ? patientId : undefined),
      action: read ? 'read' : (route.writeAction ?? 'update'),
      ...(route.includes ? { includes: route.includes } : {}),
    };
  }
  return { resourceType: 'unknown', resourceId: pagePath, action: read ? 'read' : 'update' };
}

/** Decodes a path segment for the record. PostgreSQL text cannot hold NUL, so it is replaced. */
function safeDecode(value: string): string {
  let decoded = value;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    // Kept as sent: the record shows what was asked for.
  }
  return decoded.replaceAll('\0', '\uFFFD');
}

/**
 * Returns the outcome of a finished request: denied when the session was missing or ended, or
 * when the status was 401, 403 or 404 (another patient's id gets the same 404 as an unknown one).
 */
export function accessOutcome(status: number, completed: boolean, denied: boolean): AccessOutcome {
  if (denied || status === 401 || status === 403 || status === 404) return 'denied';
  if (!completed || status >= 400) return 'failure';
  return 'success';
}

/**
 * Writes the audit row of a request that touched patient data, once its response is over.
 * Requests that never asked for a patient (sign-in pages, assets) have no record and write
 * nothing. A failed write is logged, not thrown: the response has already gone.
 */
export async function finishAccessRecord(finished: FinishedRequest): Promise<void> {
  const records = openRecords();
  const record = records.get(finished.auditKey);
  if (!record) return;
  records.delete(finished.auditKey);

  const resource = resourceForPath(finished.method, finished.path, record.patientId);
  const outcome = accessOutcome(finished.status, finished.completed, record.denial !== undefined);
  const details: Record<string, string | number | boolean | string[]> = {
    method: finished.method,
    status: finished.status,
  };
  if (record.denial) details.reason = record.denial;
  if (resource.includes) details.includes = resource.includes;
  if (!finished.completed) details.aborted = true;

  try {
    await getPool().query(
      `INSERT INTO audit_events
         (event_type, outcome, patient_id, session_id, request_id, action, resource_type,
          resource_id, client_ip, details)
       VALUES ('patient_data.access', $1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        outcome,
        record.patientId ?? null,
        record.denial ? null : (record.sessionId ?? null),
        finished.requestId,
        resource.action,
        resource.resourceType,
        resource.resourceId ?? null,
        finished.clientIp,
        JSON.stringify(details),
      ],
    );
  } catch (error) {
    getLogger().error(
      { err: { message: (error as Error).message }, requestId: finished.requestId },
      'access audit event could not be written',
    );
  }
}
