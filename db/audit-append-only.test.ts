import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startMigratedDatabase, type MigratedDatabase } from '../tests/support/migrated-database';

let database: MigratedDatabase;

beforeAll(async () => {
  database = await startMigratedDatabase();
});

afterAll(async () => {
  await database?.stop();
});

describe('audit_events', () => {
  it('accepts new events and refuses to change or remove any', async () => {
    const { pool } = database;
    await pool.query(
      `INSERT INTO audit_events (event_type, outcome, patient_id, details)
       VALUES ('session.logout', 'success', 'p-audit', '{}')`,
    );

    await expect(pool.query(`UPDATE audit_events SET outcome = 'failure'`)).rejects.toThrow(
      /append-only: UPDATE/,
    );
    await expect(pool.query('DELETE FROM audit_events')).rejects.toThrow(/append-only: DELETE/);
    await expect(pool.query('TRUNCATE audit_events')).rejects.toThrow(/append-only: TRUNCATE/);

    const count = await pool.query<{ total: number }>(
      `SELECT count(*)::int AS total FROM audit_events WHERE patient_id = 'p-audit'`,
    );
    expect(count.rows[0]?.total).toBe(1);
  });
});
