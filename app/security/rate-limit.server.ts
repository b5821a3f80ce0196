import { getPool } from '~/db/pool.server';

export interface RateLimitRule {
  /** Counter name plus the subject it limits, e.g. `send-code:ip:203.0.113.9`. Never a raw email. */
  key: string;
  limit: number;
  windowSeconds: number;
}

export interface RateLimitResult {
  allowed: boolean;
  /** Hits counted in the current window, this one included. */
  hits: number;
  /** Seconds until the current window ends; meaningful when `allowed` is false. */
  retryAfterSeconds: number;
}

/**
 * Counts one hit against a fixed-window limit kept in Postgres, so every portal process shares
 * the same counters. The hit is counted even when it exceeds the limit.
 */
// NOTE: nothing deletes rows whose window has ended (`expires_at` is past), so the table grows by
// one row per key and window in use until a cleanup job is added.
export async function consumeRateLimit(rule: RateLimitRule): Promise<RateLimitResult> {
  const windowMs = rule.windowSeconds * 1000;
  const windowStartMs = Math.floor(Date.now() / windowMs) * windowMs;
  const windowEndMs = windowStartMs + windowMs;

  const result = await getPool().query<{ hits: number }>(
    `INSERT INTO rate_limits (key, window_start, hits, expires_at)
     VALUES ($1, $2, 1, $3)
     ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + 1
     RETURNING hits`,
    [rule.key, new Date(windowStartMs), new Date(windowEndMs)],
  );
  const hits = result.rows[0]?.hits ?? 1;

  return {
    allowed: hits <= rule.limit,
    hits,
    retryAfterSeconds: Math.max(1, Math.ceil((windowEndMs - Date.now()) / 1000)),
  };
}
