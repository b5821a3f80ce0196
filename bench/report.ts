/**
 * What each benchmark section returns, and how `npm run bench` prints the sections and writes
 * them into docs/benchmarks.md.
 */
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { format, resolveConfig } from 'prettier';

export interface BenchSection {
  /** Heading in docs/benchmarks.md, such as "Bundle budget". */
  title: string;
  /** How the figures were measured, in Markdown, written above the table. */
  method: string;
  /** One row per measured thing; every row has the same keys, which become the columns. */
  rows: Record<string, string | number>[];
  /** Markdown written below the table: targets met or missed, and why a figure is what it is. */
  notes?: string;
  /** Budgets the figures exceed. `npm run bench` exits with 1 when any section has one. */
  failures: string[];
  /**
   * Targets of timed figures that this run missed. They vary with the machine's load, so they
   * are reported, not enforced.
   */
  missedTargets?: string[];
}

/** Cell value of a figure against its target, e.g. "yes" or "no: 143 KB > 130 KB". */
export function verdict(met: boolean, detail = ''): string {
  return met ? 'yes' : `no${detail ? `: ${detail}` : ''}`;
}

/** Kilobytes (1000 bytes) with one decimal, as bundlers and Lighthouse print them. */
export function kilobytes(bytes: number): number {
  return Number((bytes / 1000).toFixed(1));
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export function markdownTable(rows: Record<string, string | number>[]): string {
  const first = rows[0];
  if (!first) return '_No rows._';
  const columns = Object.keys(first);
  const escape = (value: string | number | undefined) => String(value ?? '').replaceAll('|', '\\|');
  const numeric = columns.map((column) => rows.every((row) => typeof row[column] === 'number'));
  return [
    `| ${columns.map(escape).join(' | ')} |`,
    `| ${numeric.map((isNumber) => (isNumber ? '--: ' : '---')).join(' | ')} |`,
    ...rows.map((row) => `| ${columns.map((column) => escape(row[column])).join(' | ')} |`),
  ].join('\n');
}

export function printSection(section: BenchSection): void {
  console.log(`\n${section.title}`);
  console.table(section.rows);
  for (const failure of section.failures) console.error(`Over budget: ${failure}`);
  for (const missed of section.missedTargets ?? []) console.log(`Target missed: ${missed}`);
}

/** The machine a run measured, for the report. */
export function describeMachine(): string {
  const cpus = os.cpus();
  const gib = (os.totalmem() / 1024 ** 3).toFixed(0);
  return (
    `${cpus.length} vCPUs (${cpus[0]?.model.trim() ?? 'model unknown'}), ${gib} GB RAM, ` +
    `${os.arch()}, ${os.type()} ${os.release()}, Node ${process.version}; ` +
    `1-minute load average ${os.loadavg()[0]?.toFixed(1) ?? 'unknown'} at the end`
  );
}

/**
 * Writes each section into `file` between marks of its own, replacing that section's earlier
 * text and keeping everything else, such as the load test's section or sections this run did
 * not measure. A new section goes in before the "## Load" heading, or at the end.
 */
export async function writeReport(
  file: string,
  command: string,
  sections: BenchSection[],
): Promise<void> {
  const absolute = path.resolve(file);
  let text = await readFile(absolute, 'utf8').catch(() => '# Benchmarks\n');
  const machine = describeMachine();
  const date = new Date().toISOString().slice(0, 10);
  for (const section of sections) {
    const slug = section.title.toLowerCase().replaceAll(/[^a-z0-9]+/g, '-');
    const start = `<!-- bench section ${slug} -->`;
    const end = `<!-- bench section ${slug} end -->`;
    const body = [
      start,
      `## ${section.title}`,
      '',
      section.method.trim(),
      '',
      `Measured by \`${command}\` on ${date}. Machine: ${machine}.`,
      '',
      markdownTable(section.rows),
      '',
      ...(section.notes ? [section.notes.trim(), ''] : []),
      ...(section.failures.length > 0 ? [`Over budget: ${section.failures.join('; ')}.`, ''] : []),
      end,
    ].join('\n');
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from >= 0 && to > from) {
      text = text.slice(0, from) + body + text.slice(to + end.length);
    } else {
      const load = text.indexOf('\n## Load');
      text =
        load >= 0
          ? `${text.slice(0, load + 1)}${body}\n\n${text.slice(load + 1)}`
          : `${text.trimEnd()}\n\n${body}\n`;
    }
  }
  // CI runs `npm run format:check`, which checks this file too.
  const prettierOptions = (await resolveConfig(absolute)) ?? {};
  await writeFile(absolute, await format(text, { ...prettierOptions, filepath: absolute }));
}
