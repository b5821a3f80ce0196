import { afterEach, vi } from 'vitest';

/** A test that makes code print an unexpected console.error fails, so hidden errors surface. */
const consoleError = vi.spyOn(console, 'error');

afterEach(() => {
  const calls = consoleError.mock.calls;
  consoleError.mockClear();
  if (calls.length > 0) {
    throw new Error(
      `console.error was called during the test:\n${calls.map((args) => args.join(' ')).join('\n')}`,
    );
  }
});
