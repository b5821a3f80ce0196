import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { QUERY_LINE_PREFIX } from '../support/log-database-queries';
import { demoPatient, signInByEmail, type PatientClient } from '../support/patient-client';
import { startPortalServer, type PortalServer } from '../support/portal-server';

const SESSION_LOOKUP = 'FROM sessions WHERE id = $1 AND patient_id = $2';
const UNREAD_NOTIFICATIONS = 'FROM notifications WHERE patient_id = $1 AND read_at IS NULL';

let portal: PortalServer;
let client: PatientClient;

beforeAll(async () => {
  portal = await startPortalServer(
    { NOTIFICATION_WORKER: 'off' },
    {
      nodeArgs: [
        '--import',
        path.resolve(import.meta.dirname, '../support/log-database-queries.ts'),
      ],
    },
  );
  client = await signInByEmail(portal.baseUrl, demoPatient(1).email);
});

afterAll(async () => {
  await portal?.stop();
});

/** Sends one request and returns the statements the portal sent while serving it. */
async function statementsOf(send: () => Promise<Response>, status = 200): Promise<string[]> {
  const start = portal.output().length;
  const response = await send();
  expect(response.status).toBe(status);
  await response.arrayBuffer();
  // The audit row is written once the response has closed.
  await expect
    .poll(() => countIn(portal.output().slice(start), 'INSERT INTO audit_events'))
    .toBe(1);
  return portal
    .output()
    .slice(start)
    .split('\n')
    .filter((line) => line.startsWith(QUERY_LINE_PREFIX));
}

function countIn(output: string, fragment: string): number {
  return output.split('\n').filter((line) => line.includes(fragment)).length;
}

function countOf(statements: string[], fragment: string): number {
  return statements.filter((line) => line.includes(fragment)).length;
}

describe('database statements per request', () => {
  it('reads session and unread count once per page', async () => {
    // The root loader and the page's loader both need both.
    for (const page of ['/', '/notifications', '/prescriptions']) {
      const statements = await statementsOf(() => client.request(page));
      expect(countOf(statements, SESSION_LOOKUP), page).toBe(1);
      expect(countOf(statements, UNREAD_NOTIFICATIONS), page).toBe(1);
    }
  });

  it('reads the session again after an action', async () => {
    // An empty message fails validation, so the page is rendered after the action. The action
    // may have changed what the loaders read, such as the session.
    const statements = await statementsOf(() => client.postForm('/messages', { text: '' }), 400);
    expect(countOf(statements, SESSION_LOOKUP)).toBe(2);
    expect(countOf(statements, UNREAD_NOTIFICATIONS)).toBe(1);
  });
});
