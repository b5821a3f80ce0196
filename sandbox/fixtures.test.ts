import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { FIXTURE_DIRECTORY } from './fixture-resources.js';

const REPOSITORY_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The shared fixture folder that sits beside the repository clone, in CI and in development. */
const SHARED_FIXTURE_DIRECTORY = path.resolve(REPOSITORY_ROOT, '../shared/fixtures/fhir-r4');

describe('sandbox/fixtures/fhir-r4', () => {
  it('is a byte-for-byte copy of the shared FHIR R4 fixtures', async () => {
    expect(
      existsSync(SHARED_FIXTURE_DIRECTORY),
      `Expected the shared fixtures at ${SHARED_FIXTURE_DIRECTORY}, beside the repository root.`,
    ).toBe(true);

    const sharedFiles = (await readdir(SHARED_FIXTURE_DIRECTORY)).sort();
    const copiedFiles = (await readdir(FIXTURE_DIRECTORY)).sort();
    expect(copiedFiles).toEqual(sharedFiles);
    expect(copiedFiles).toContain('README.md');

    for (const fileName of sharedFiles) {
      const shared = await readFile(path.join(SHARED_FIXTURE_DIRECTORY, fileName));
      const copied = await readFile(path.join(FIXTURE_DIRECTORY, fileName));
      expect(copied.equals(shared), `${fileName} differs from its shared original`).toBe(true);
    }
  });
});
