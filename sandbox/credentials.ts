import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Returns the token of an `Authorization: Bearer <token>` header, or undefined for any other
 * header.
 */
export function parseBearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

/**
 * Compares a secret sent by a client with the expected one in time that does not depend on where
 * they differ. Comparing SHA-256 digests also hides the expected length.
 */
export function secretsEqual(actual: string, expected: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(actual), digest(expected));
}
