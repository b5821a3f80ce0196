import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startMigratedDatabase, type MigratedDatabase } from '../tests/support/migrated-database';

let database: MigratedDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await startMigratedDatabase(2);
  pool = database.pool;
});

afterAll(async () => {
  await database?.stop();
});

async function insertShipment(status = 'label_created'): Promise<string> {
  const result = await pool.query<{ id: string }>(
    `INSERT INTO shipments (patient_id, status) VALUES ('transition-patient', $1) RETURNING id`,
    [status],
  );
  const id = result.rows[0]?.id;
  if (!id) throw new Error('The shipment insert returned no id.');
  return id;
}

function setStatus(id: string, status: string) {
  return pool.query('UPDATE shipments SET status = $2 WHERE id = $1', [id, status]);
}

describe('shipment status transitions', () => {
  it('follows the path to delivered with timestamps', async () => {
    const id = await insertShipment();
    for (const status of ['packed', 'shipped', 'delivered']) await setStatus(id, status);

    const events = await pool.query<{
      from_status: string | null;
      to_status: string;
      occurred_at: Date;
    }>(
      'SELECT from_status, to_status, occurred_at FROM shipment_status_events WHERE shipment_id = $1 ORDER BY id',
      [id],
    );
    expect(events.rows.map((row) => [row.from_status, row.to_status])).toEqual([
      [null, 'label_created'],
      ['label_created', 'packed'],
      ['packed', 'shipped'],
      ['shipped', 'delivered'],
    ]);
    for (const row of events.rows) expect(row.occurred_at).toBeInstanceOf(Date);
  });

  it.each([
    ['label_created', 'voided'],
    ['packed', 'voided'],
  ])('allows %s to %s', async (from, to) => {
    const id = await insertShipment(from);
    await expect(setStatus(id, to)).resolves.toBeDefined();
  });

  it.each([
    ['label_created', 'shipped'],
    ['label_created', 'delivered'],
    ['packed', 'delivered'],
    ['shipped', 'voided'],
    ['shipped', 'packed'],
    ['delivered', 'shipped'],
    ['voided', 'packed'],
  ])('rejects %s to %s naming both', async (from, to) => {
    const id = await insertShipment(from);
    const failure = await setStatus(id, to).catch(
      (error: unknown) => error as Error & { code?: string },
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as { code?: string }).code).toBe('23514');
    expect((failure as Error).message).toContain(`from ${from} to ${to}`);
  });

  it('rejects an unknown status', async () => {
    const id = await insertShipment();
    await expect(setStatus(id, 'lost')).rejects.toThrow();
  });
});
