import { scanLogDirectory } from '../support/log-scan';

import { createPortalLogDirectory, removePortalLogDirectory } from './portal-log-directory';

/**
 * Vitest global setup of the main suite: captures the logs of every test portal and scans them
 * after the run. Test files run in parallel, so no test file can run after all the others. An
 * error thrown in a teardown does not fail a Vitest 4 run, so a finding sets the exit code.
 */
export async function setup(): Promise<() => Promise<void>> {
  const directory = await createPortalLogDirectory();

  return async () => {
    const { findings } = await scanLogDirectory(directory);
    if (findings.length > 0) {
      console.error(
        `Sensitive values in the test portals' logs, kept in ${directory}:\n${findings.join('\n')}`,
      );
      process.exitCode = 1;
    }
    await removePortalLogDirectory(directory);
  };
}
