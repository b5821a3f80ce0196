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

/**
 * Parses `Authorization: Basic`, whose id and secret are form-urlencoded (RFC 6749 section
 * 2.3.1). Returns undefined for any other header.
 */
export function parseBasicCredentials(
  header: string | undefined,
): { clientId: string; clientSecret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) {
    return undefined;
  }

  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator < 0) {
    return undefined;
  }

  try {
    return {
      clientId: decodeURIComponent(decoded.slice(0, separator).replaceAll('+', ' ')),
      clientSecret: decodeURIComponent(decoded.slice(separator + 1).replaceAll('+', ' ')),
    };
  } catch {
    return undefined;
  }
}
