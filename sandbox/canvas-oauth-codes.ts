import { randomBytes } from 'node:crypto';

/** Lifetime of an authorization code in seconds. */
export const AUTHORIZATION_CODE_LIFETIME_SECONDS = 60;

/** The client, redirect URI, PKCE challenge, patient and scope that a code is bound to. */
export interface AuthorizationGrant {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  patientId: string;
  /** The scope requested at the authorization endpoint, undefined if none. */
  scope: string | undefined;
}

export type CodeRedemption =
  | { status: 'valid'; grant: AuthorizationGrant }
  | { status: 'unknown' | 'used' | 'expired' };

interface StoredCode {
  grant: AuthorizationGrant;
  /** Expiry in ms since the epoch. */
  expiresAt: number;
  used: boolean;
}

/** Single-use authorization codes, kept in memory until they expire. */
export class AuthorizationCodeStore {
  private readonly codes = new Map<string, StoredCode>();

  /** @param now - Clock in ms since the epoch. Tests pass their own to check expiry. */
  constructor(private readonly now: () => number = Date.now) {}

  issue(grant: AuthorizationGrant): string {
    this.deleteExpired();
    const code = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + AUTHORIZATION_CODE_LIFETIME_SECONDS * 1000;
    this.codes.set(code, { grant, expiresAt, used: false });
    return code;
  }

  /**
   * Marks the code used and returns its grant. Every later call for the same code returns `used`,
   * even when the caller then rejects the exchange, so a replayed code always fails
   * (RFC 6749 section 4.1.2). A used code is kept until it expires, so that a replay is reported
   * as one rather than as an unknown code.
   */
  redeem(code: string): CodeRedemption {
    const stored = this.codes.get(code);
    if (!stored) {
      return { status: 'unknown' };
    }
    if (stored.expiresAt <= this.now()) {
      this.codes.delete(code);
      return { status: 'expired' };
    }
    if (stored.used) {
      return { status: 'used' };
    }

    stored.used = true;
    return { status: 'valid', grant: stored.grant };
  }

  private deleteExpired(): void {
    const now = this.now();
    for (const [code, stored] of this.codes) {
      if (stored.expiresAt <= now) {
        this.codes.delete(code);
      }
    }
  }
}
