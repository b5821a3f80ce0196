/** Node socket error codes of a database that cannot be reached or dropped the connection. */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server that cannot serve now: 57P01 to 57P03 (shutting down or starting up) and
 * 53300 (too many connections). Class 08, connection exceptions, is matched by its prefix.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/**
 * Messages of pg 8.16 and pg-pool 3 for a connection that could not be opened in time, ended
 * under a query, or timed out waiting for a result (`query_timeout`).
 */
const CONNECTION_ERROR_MESSAGES = [
  /^timeout exceeded when trying to connect$/,
  /^Connection terminated/,
  /^Query read timeout$/,
  /is not queryable$/,
];

/**
 * Returns whether `error` means the database is unreachable or dropped the connection, as
 * opposed to a query the database rejected. The portal responds to such a request with 503.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;

  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (CONNECTION_ERROR_CODES.has(code)) return true;
    if (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code)) return true;
  }
  if (CONNECTION_ERROR_MESSAGES.some((pattern) => pattern.test(error.message))) return true;

  // Node reports a refused connect to every address of a host name as one AggregateError.
  if (error instanceof AggregateError) return error.errors.some(isDatabaseUnavailable);
  return false;
}
