import type { WithId } from '@medplum/core';
import type { Bundle, OperationOutcome, Slot } from '@medplum/fhirtypes';
import { Temporal } from 'temporal-polyfill';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  fetchAccessToken,
  sendFhirRequest,
  startSandbox,
  type RunningSandbox,
} from './test-support.js';
import { DEMO_WORKING_HOURS, generateWorkingHourSlots, scheduleIdFor } from './working-hours.js';

const OKAFOR = DEMO_WORKING_HOURS['demo-dr-okafor'];
const OKAFOR_SCHEDULE = `Schedule/${scheduleIdFor(OKAFOR.practitionerId)}`;

let sandbox: RunningSandbox;
let token: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  token = await fetchAccessToken(sandbox.sandboxUrl);
});

afterAll(async () => {
  await sandbox.close();
});

function fhir(path: string, init: RequestInit = {}): Promise<Response> {
  return sendFhirRequest(sandbox, token, path, init);
}

/** Follows `next` links from `path` and returns every page. */
async function readAllPages(path: string): Promise<Bundle<WithId<Slot>>[]> {
  const pages: Bundle<WithId<Slot>>[] = [];
  let next: string | undefined = path;
  while (next) {
    const response = await fhir(next);
    expect(response.status, await response.clone().text()).toBe(200);
    const bundle = (await response.json()) as Bundle<WithId<Slot>>;
    pages.push(bundle);
    next = bundle.link?.find((link) => link.relation === 'next')?.url;
  }
  return pages;
}

/** Returns the start of local day `daysAhead` days after today in Dr. Okafor's time zone. */
function localMidnight(daysAhead: number): Temporal.Instant {
  return Temporal.Now.zonedDateTimeISO(OKAFOR.timeZone)
    .toPlainDate()
    .add({ days: daysAhead })
    .toZonedDateTime(OKAFOR.timeZone)
    .toInstant();
}

describe('Slot search', () => {
  it('requires the schedule parameter', async () => {
    for (const path of ['/Slot', '/Slot?status=free', '/Slot?schedule=']) {
      const response = await fhir(path);
      const outcome = (await response.json()) as OperationOutcome;

      expect(response.status, path).toBe(400);
      expect(outcome.resourceType).toBe('OperationOutcome');
      expect(outcome.issue?.[0]?.details?.text).toContain('requires the schedule parameter');
    }
  });

  it('requires schedule in POST _search too', async () => {
    const response = await fhir('/Slot/_search', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'status=free',
    });

    expect(response.status).toBe(400);
  });

  it('accepts schedule in a POST _search body', async () => {
    const response = await fhir('/Slot/_search', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ schedule: OKAFOR_SCHEDULE, _count: '1' }).toString(),
    });

    expect(response.status).toBe(200);
    expect(((await response.json()) as Bundle).total).toBeGreaterThan(0);
  });

  it('accepts the bare Schedule id as Canvas does', async () => {
    const bare = await fhir(`/Slot?schedule=${scheduleIdFor(OKAFOR.practitionerId)}&_count=1`);
    const full = await fhir(`/Slot?schedule=${OKAFOR_SCHEDULE}&_count=1`);

    expect(bare.status).toBe(200);
    const bareTotal = ((await bare.json()) as Bundle).total;
    expect(bareTotal).toBeGreaterThan(0);
    expect(bareTotal).toBe(((await full.json()) as Bundle).total);
  });

  it('returns only the slots of that schedule', async () => {
    const [page] = await readAllPages(`/Slot?schedule=${OKAFOR_SCHEDULE}&_count=100`);

    for (const entry of page?.entry ?? []) {
      expect(entry.resource?.schedule.reference).toBe(OKAFOR_SCHEDULE);
    }
  });

  it('pages a date range of free slots', async () => {
    const from = localMidnight(7);
    const to = localMidnight(21);
    const query = new URLSearchParams([
      ['schedule', OKAFOR_SCHEDULE],
      ['start', `ge${from.toString()}`],
      ['start', `lt${to.toString()}`],
      ['status', 'free'],
      ['_count', '50'],
      ['_sort', 'start'],
    ]);

    const pages = await readAllPages(`/Slot?${query.toString()}`);

    const expected = generateWorkingHourSlots(OKAFOR, from, to).map((slot) => slot.id);
    const ids = pages.flatMap((page) => (page.entry ?? []).map((entry) => entry.resource?.id));
    expect(expected.length).toBeGreaterThan(100);
    expect(pages.length).toBe(Math.ceil(expected.length / 50));
    expect(pages[0]?.total).toBe(expected.length);
    expect(ids).toEqual(expected);
  });
});
