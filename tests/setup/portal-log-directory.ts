import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';

import { FINDINGS_FILE, PORTAL_LOG_DIRECTORY_ENV } from '../support/portal-logs';

const LOG_ROOT = path.resolve(import.meta.dirname, '../../test-results/portal-logs');

/**
 * Creates the run's own folder for portal logs and recorded values, and points test workers at
 * it through the environment they inherit.
 */
export async function createPortalLogDirectory(): Promise<string> {
  await mkdir(LOG_ROOT, { recursive: true });
  const directory = await mkdtemp(path.join(LOG_ROOT, 'run-'));
  process.env[PORTAL_LOG_DIRECTORY_ENV] = directory;
  return directory;
}

/** Removes the folder unless the log scan wrote findings into it, which are kept to read. */
export async function removePortalLogDirectory(directory: string): Promise<void> {
  if (existsSync(path.join(directory, FINDINGS_FILE))) return;
  await rm(directory, { recursive: true, force: true });
}

/**
 * Vitest global setup of the browser suite, whose last test file scans the logs (see
 * vitest.browser.config.ts).
 */
export async function setup(): Promise<() => Promise<void>> {
  const directory = await createPortalLogDirectory();
  return () => removePortalLogDirectory(directory);
}
