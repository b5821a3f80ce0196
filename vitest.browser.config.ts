import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const LOG_SCAN_FILE = 'tests/browser/log-scan.test.ts';

/** Runs the log scan after every other test file, so that it reads all of their portal logs. */
class LogScanLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const isLogScan = (file: TestSpecification) => file.moduleId.endsWith(LOG_SCAN_FILE);
    return [...sorted.filter((file) => !isLogScan(file)), ...sorted.filter(isLogScan)];
  }
}

/** Browser tests: Debian's Chromium driven by playwright-core against a real portal process. */
export default defineConfig({
  resolve: {
    alias: { '~': new URL('./app', import.meta.url).pathname },
  },
  test: {
    include: ['tests/browser/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    globalSetup: ['tests/setup/portal-log-directory.ts'],
    sequence: { sequencer: LogScanLastSequencer },
    env: { NODE_ENV: 'test' },
  },
});
