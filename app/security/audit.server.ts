import { getPool } from '~/db/pool.server';
import { getLogger } from '~/utils/logger.server';

export type AuditEventType =
  | 'sign_in.code_requested'
  | 'sign_in.code_verified'
  | 'sign_in.code_rejected'
  | 'sign_in.canvas_sso'
  | 'session.logout'
  | 'session.logout_everywhere';

export interface AuditEvent {
  type: AuditEventType;
  outcome: 'success' | 'failure';
  patientId?: string | null;
  sessionId?: string;
  requestId?: string;
  clientIp?: string;
  /** Ids and reasons only: never names, emails, codes or tokens. */
  details?: Record<string, string | number | boolean>;
}

/**
 * Appends one row to `audit_events`. A failure to write is logged, not thrown, so auditing never
 * turns a patient's successful request into an error.
 */
export async function recordAuditEvent(event: AuditEvent): Promise<void> {
  try {
    await getPool().query(
      `INSERT INTO audit_events
         (event_type, outcome, patient_id, session_id, request_id, client_ip, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        event.type,
        event.outcome,
        event.patientId ?? null,
        event.sessionId ?? null,
        event.requestId ?? null,
        event.clientIp ?? null,
        JSON.stringify(event.details ?? {}),
      ],
    );
  } catch (error) {
    getLogger().error(
      { err: { message: (error as Error).message }, eventType: event.type },
      'audit event could not be written',
    );
  }
}
