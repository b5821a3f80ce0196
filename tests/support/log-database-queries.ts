/**
 * Logs each database statement of the process it is loaded into with `--import`: one line on
 * standard error with the statement's text and none of its parameters. A test counts the lines to
 * count the statements a request costs.
 */
import pg from 'pg';

export const QUERY_LINE_PREFIX = 'database statement: ';

const prototype = pg.Client.prototype as unknown as Record<
  'query',
  (...args: unknown[]) => unknown
>;
const query = prototype.query;
prototype.query = function logStatement(this: pg.Client, ...args: unknown[]) {
  const [statement] = args;
  const text =
    typeof statement === 'string' ? statement : (statement as { text?: unknown } | null)?.text;
  if (typeof text === 'string') {
    process.stderr.write(`${QUERY_LINE_PREFIX}${text.replace(/\s+/g, ' ').trim()}\n`);
  }
  return query.apply(this, args);
};
