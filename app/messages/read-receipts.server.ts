import { getPool } from '~/db/pool.server';

/**
 * Read receipts for care-team messages. Canvas cannot update a Communication, so the portal
 * keeps them in Postgres, one row per patient and Communication id.
 */

/** Returns the ids among `communicationIds` that the patient has read. */
export async function selectReadMessageIds(
  patientId: string,
  communicationIds: string[],
): Promise<Set<string>> {
  if (communicationIds.length === 0) return new Set();

  const result = await getPool().query<{ communication_id: string }>(
    `SELECT communication_id FROM message_read_receipts
     WHERE patient_id = $1 AND communication_id = ANY($2::text[])`,
    [patientId, communicationIds],
  );
  return new Set(result.rows.map((row) => row.communication_id));
}

/** Records that the patient has read these messages; ones already read keep their first time. */
export async function markMessagesRead(
  patientId: string,
  communicationIds: string[],
): Promise<void> {
  if (communicationIds.length === 0) return;

  await getPool().query(
    `INSERT INTO message_read_receipts (patient_id, communication_id)
     SELECT $1, unnest($2::text[])
     ON CONFLICT (patient_id, communication_id) DO NOTHING`,
    [patientId, communicationIds],
  );
  // The feed's "new message" notices for these messages are read too.
  await getPool().query(
    `UPDATE notifications SET read_at = now()
     WHERE patient_id = $1 AND read_at IS NULL
       AND dedupe_key = ANY(SELECT 'message-received:' || unnest($2::text[]))`,
    [patientId, communicationIds],
  );
}
