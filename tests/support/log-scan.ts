import { writeFileSync } from 'node:fs';
import path from 'node:path';

import type { Resource } from '@medplum/fhirtypes';

import { buildDemoResources } from '../../sandbox/demo-resources';
import { loadFixtureResources } from '../../sandbox/fixture-resources';

import {
  FINDINGS_FILE,
  readPortalLogs,
  readRecordedValues,
  type PortalLog,
  type SensitiveValue,
} from './portal-logs';

/** A log line that contains a sensitive value, named by the value's label and not the value. */
export interface LogFinding {
  file: string;
  line: number;
  label: string;
}

/** Three letters is the shortest name of a demo patient ("Ava"). */
const MIN_WORD_LENGTH = 3;

/** Shorter cookie values and OAuth parameters are no secret and too likely to match by chance. */
const MIN_TOKEN_LENGTH = 16;

/**
 * Message text is matched by its first characters, so a log that cut the text short is still
 * found. Shorter texts ("Thanks!") are too common to search for.
 */
const TEXT_PREFIX_LENGTH = 40;
const MIN_TEXT_LENGTH = 12;

/** A signed JWT: base64url JSON header and payload, then a signature. */
const JWT_PATTERN = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}/;

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

interface Needle {
  label: string;
  text: string;
  wholeWord: boolean;
  ignoreCase: boolean;
}

/**
 * Returns every line of `logs` that contains one of `values` or a JWT. The cost is lines times
 * values: about 0.1 s for 4,000 lines and 300 values on a 2-core Xeon VM.
 */
export function scanLogs(logs: PortalLog[], values: SensitiveValue[]): LogFinding[] {
  const needles = buildNeedles(values);
  const findings: LogFinding[] = [];

  for (const log of logs) {
    log.lines.forEach((line, index) => {
      const lowerCaseLine = line.toLowerCase();
      const labels = new Set<string>();
      for (const needle of needles) {
        if (containsNeedle(needle.ignoreCase ? lowerCaseLine : line, needle)) {
          labels.add(needle.label);
        }
      }
      if (JWT_PATTERN.test(line)) labels.add('a JWT');
      for (const label of labels) findings.push({ file: log.file, line: index + 1, label });
    });
  }
  return findings;
}

export function formatFinding(finding: LogFinding): string {
  return `${finding.file}:${finding.line}: ${finding.label}`;
}

/** Result of scanning a log folder, with counts that show the scan had something to read. */
export interface LogFolderScan {
  findings: string[];
  logLineCount: number;
  recordedValues: SensitiveValue[];
}

/**
 * Scans the portal logs in `directory` for the seeded patients' data and the values tests
 * recorded there, and writes any findings to FINDINGS_FILE in the same folder.
 */
export async function scanLogDirectory(directory: string): Promise<LogFolderScan> {
  const logs = readPortalLogs(directory);
  const recordedValues = readRecordedValues(directory);

  const findings = scanLogs(logs, [...(await seededSensitiveValues()), ...recordedValues]).map(
    formatFinding,
  );
  if (findings.length > 0) {
    writeFileSync(path.join(directory, FINDINGS_FILE), `${findings.join('\n')}\n`);
  }
  return {
    findings,
    logLineCount: logs.reduce((count, log) => count + log.lines.length, 0),
    recordedValues,
  };
}

/**
 * Returns the personal data of the patients the sandbox seeds (names, emails, phone numbers,
 * dates of birth, address lines) and the text of their conversations.
 */
export async function seededSensitiveValues(now = new Date()): Promise<SensitiveValue[]> {
  const resources = [...buildDemoResources(now), ...(await loadFixtureResources())];
  return resources.flatMap(sensitiveValuesOf);
}

/** Returns the personal data of a Patient or the text of a Communication, and nothing for others. */
export function sensitiveValuesOf(resource: Resource): SensitiveValue[] {
  const owner = `${resource.resourceType}/${resource.id ?? 'new'}`;
  const values: SensitiveValue[] = [];
  const add = (label: string, kind: SensitiveValue['kind'], value: string | undefined) => {
    if (value) values.push({ label: `${label} of ${owner}`, kind, value });
  };

  if (resource.resourceType === 'Patient') {
    // Some tests name a patient by its id, and logs carry patient ids by design.
    const notId = (name: string | undefined) => (name === resource.id ? undefined : name);
    for (const name of resource.name ?? []) {
      for (const given of name.given ?? []) add('given name', 'word', notId(given));
      add('family name', 'word', notId(name.family));
      add('name', 'word', notId(name.text));
    }
    for (const telecom of resource.telecom ?? []) {
      if (telecom.system === 'email') add('email', 'email', telecom.value);
      else add('telecom', 'word', telecom.value);
    }
    add('birth date', 'word', resource.birthDate);
    for (const formatted of formatDate(resource.birthDate)) add('birth date', 'word', formatted);
    for (const address of resource.address ?? []) {
      for (const line of address.line ?? []) add('address line', 'word', line);
    }
  }
  if (resource.resourceType === 'Communication') {
    for (const payload of resource.payload ?? []) {
      for (const segment of textSegments(payload.contentString)) {
        add('message text', 'text', segment);
      }
    }
  }
  return values;
}

/** Splits HTML as Canvas stores it into its text runs, and plain text into one run. */
function textSegments(content: string | undefined): string[] {
  return (content ?? '')
    .split(/<[^>]*>/)
    .map((segment) => segment.trim())
    .filter(Boolean);
}

/**
 * Formats a FHIR date `YYYY-MM-DD` as the pages show it ("Apr 12, 1988") and spelled out
 * ("April 12, 1988").
 */
function formatDate(date: string | undefined): string[] {
  if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return [];
  const instant = new Date(`${date}T00:00:00Z`);
  return (['medium', 'long'] as const).map((dateStyle) =>
    new Intl.DateTimeFormat('en-US', { dateStyle, timeZone: 'UTC' }).format(instant),
  );
}

function buildNeedles(values: SensitiveValue[]): Needle[] {
  const needles = new Map<string, Needle>();
  const add = (needle: Needle) => {
    const key = `${needle.ignoreCase}:${needle.wholeWord}:${needle.text}`;
    if (!needles.has(key)) needles.set(key, needle);
  };

  for (const { label, kind, value } of values) {
    const trimmed = value.trim().replace(/\s+/g, ' ');
    if (kind === 'text') {
      if (trimmed.length < MIN_TEXT_LENGTH) continue;
      const prefix = trimmed.slice(0, TEXT_PREFIX_LENGTH);
      add({ label, text: prefix, wholeWord: false, ignoreCase: false });
      // A JSON log line escapes quotes, backslashes and control characters.
      const escaped = JSON.stringify(prefix).slice(1, -1);
      if (escaped !== prefix) add({ label, text: escaped, wholeWord: false, ignoreCase: false });
      continue;
    }
    if (trimmed.length < (kind === 'token' ? MIN_TOKEN_LENGTH : MIN_WORD_LENGTH)) continue;
    if (kind === 'email')
      add({ label, text: trimmed.toLowerCase(), wholeWord: false, ignoreCase: true });
    else add({ label, text: trimmed, wholeWord: kind === 'word', ignoreCase: false });
  }
  return [...needles.values()];
}

function containsNeedle(line: string, needle: Needle): boolean {
  let start = line.indexOf(needle.text);
  while (start !== -1) {
    if (!needle.wholeWord) return true;
    const before = line[start - 1] ?? '';
    const after = line[start + needle.text.length] ?? '';
    if (!LETTER_OR_DIGIT.test(before) && !LETTER_OR_DIGIT.test(after)) return true;
    start = line.indexOf(needle.text, start + 1);
  }
  return false;
}
