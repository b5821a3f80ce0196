import { describe, expect, it } from 'vitest';

import { scanLogDirectory } from '../support/log-scan';
import { PORTAL_LOG_DIRECTORY_ENV, portalLogDirectory } from '../support/portal-logs';

// vitest.browser.config.ts runs this file after every other browser test file, so it reads the
// logs of every portal the suite started.
describe('portal logs of the browser suite', () => {
  it('contain no patient data, codes or tokens', async () => {
    const directory = portalLogDirectory();
    if (!directory) {
      throw new Error(
        `${PORTAL_LOG_DIRECTORY_ENV} is not set. Run the browser suite with npm run test:browser.`,
      );
    }

    const scan = await scanLogDirectory(directory);

    expect(scan.logLineCount, 'portal log lines captured').toBeGreaterThan(0);
    expect(
      scan.recordedValues.filter((value) => value.label === 'sign-in code').length,
      'sign-in codes recorded',
    ).toBeGreaterThan(0);
    expect(scan.findings, `sensitive values in the portal logs kept in ${directory}`).toEqual([]);
  });
});
