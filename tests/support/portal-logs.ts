import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Folder that test portals write their output to and test helpers record sensitive values in, so
 * a check after the suite can look for those values in the logs. Tests set it through the
 * environment (see tests/setup/portal-log-directory.ts). Without it, nothing is captured.
 */
export const PORTAL_LOG_DIRECTORY_ENV = 'PORTAL_TEST_LOG_DIR';

const RECORDED_VALUES_FILE = 'sensitive-values.jsonl';

/** File the log scan writes its findings to. A folder that contains it is kept after the run. */
export const FINDINGS_FILE = 'findings.txt';

/**
 * How the log scan matches a value:
 * - word: exactly, with no letter or digit next to it (names, dates, phone numbers, codes).
 * - email: anywhere, ignoring case.
 * - text: the start of the text, anywhere (message text, which a log might cut short).
 * - token: anywhere (session cookies, OAuth states and codes).
 */
export type SensitiveValueKind = 'word' | 'email' | 'text' | 'token';

/** A value that must never appear in a portal's log, with a label that names it without it. */
export interface SensitiveValue {
  label: string;
  kind: SensitiveValueKind;
  value: string;
}

export function portalLogDirectory(): string | undefined {
  return process.env[PORTAL_LOG_DIRECTORY_ENV] || undefined;
}

/**
 * Appends a chunk of a portal's stdout or stderr to `fileName` in the log folder. Writes
 * synchronously, so nothing is lost when the test worker exits right after.
 */
export function appendPortalLog(fileName: string, chunk: string): void {
  const directory = portalLogDirectory();
  if (directory) appendFileSync(path.join(directory, fileName), chunk);
}

/** Keys of the values this worker recorded already. */
const recordedKeys = new Set<string>();

/**
 * Records a value a test typed or received (a sign-in code, message text, token) so the log scan
 * looks for it. Does nothing when no log folder is set or the value is empty.
 */
export function recordSensitiveValue(
  label: string,
  kind: SensitiveValueKind,
  value: string | null | undefined,
): void {
  const directory = portalLogDirectory();
  if (!directory || !value?.trim()) return;

  // A browser sends the same cookie with every request, so one entry per value is enough.
  const key = `${kind}:${value}`;
  if (recordedKeys.has(key)) return;
  recordedKeys.add(key);

  const entry: SensitiveValue = { label, kind, value };
  appendFileSync(path.join(directory, RECORDED_VALUES_FILE), `${JSON.stringify(entry)}\n`);
}

/** Form, query and JSON fields whose values the log scan looks for, and how it matches each. */
const SENSITIVE_FIELDS: Record<string, SensitiveValueKind> = {
  text: 'text',
  reason: 'text',
  email: 'email',
  code: 'token',
  state: 'token',
};

/**
 * Records the message text, emails, codes and OAuth states among the fields a test client sent,
 * for the log scan. `sender` names the client in the labels.
 */
export function recordSentFields(sender: string, fields: Iterable<[string, unknown]>): void {
  for (const [name, value] of fields) {
    const kind = SENSITIVE_FIELDS[name];
    if (kind === undefined || typeof value !== 'string') continue;
    if (kind === 'email' && !value.includes('@')) continue;

    // A 6-digit sign-in code must stand alone, or it would match inside longer numbers.
    const matchedAs = name === 'code' && /^\d{6}$/.test(value) ? 'word' : kind;
    recordSensitiveValue(`${name} field sent by ${sender}`, matchedAs, value);
  }
}

/** Returns every value recorded in `directory`. */
export function readRecordedValues(directory: string): SensitiveValue[] {
  const file = path.join(directory, RECORDED_VALUES_FILE);
  if (!existsSync(file)) return [];

  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as SensitiveValue);
}

/** A captured log file with its lines. */
export interface PortalLog {
  file: string;
  lines: string[];
}

/** Reads every `*.log` file in `directory`. */
export function readPortalLogs(directory: string): PortalLog[] {
  return readdirSync(directory)
    .filter((name) => name.endsWith('.log'))
    .sort()
    .map((name) => ({
      file: name,
      lines: readFileSync(path.join(directory, name), 'utf8').split('\n'),
    }));
}
