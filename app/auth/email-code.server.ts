import { createHmac, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';

import { z } from 'zod';

import { searchResources } from '~/clients/fhir.server';
import { isCircuitOpen } from '~/clients/http.server';
import { runWithUpstreamBudget } from '~/clients/upstream-deadline.server';
import { sendEmail } from '~/clients/sendgrid.server';
import { UpstreamError } from '~/clients/upstream-error.server';
import { getEnv } from '~/config/env.server';
import { getPool, withTransaction } from '~/db/pool.server';
import { recordAuditEvent } from '~/security/audit.server';
import { consumeRateLimit, type RateLimitRule } from '~/security/rate-limit.server';
import { getLogger } from '~/utils/logger.server';

import { SignInError } from './sign-in-errors.server';

/** The wrong entry with this number ends the challenge. */
export const MAX_FAILED_ATTEMPTS = 5;

/** Window of the send and verify rate limits. */
const LIMIT_WINDOW_SECONDS = 15 * 60;

export const EMAIL_UNAVAILABLE_MESSAGE =
  'Sign-in codes cannot be emailed right now. Sign in with Canvas, or try again in a few minutes.';

/**
 * Returns whether sign-in codes can be emailed now: false while SendGrid's circuit is open after
 * repeated failed sends. The circuit is shared by every email, so the result reveals nothing
 * about any one address.
 */
export function canEmailSignInCodes(): boolean {
  return !isCircuitOpen('sendgrid');
}

export const emailSchema = z
  .string({ error: 'Enter your email address.' })
  .trim()
  .toLowerCase()
  .min(1, { error: 'Enter your email address.' })
  .max(254, { error: 'Enter an email address of at most 254 characters.' })
  .pipe(z.email({ error: 'Enter a valid email address, like name@example.com.' }));

/** A pasted code may carry spaces or a hyphen ("123 456"), so they are dropped before the check. */
export const codeSchema = z
  .string({ error: 'Enter the 6-digit code from the email.' })
  .transform((value) => value.replace(/[\s-]/g, ''))
  .pipe(
    z
      .string()
      .min(1, { error: 'Enter the 6-digit code from the email.' })
      .regex(/^\d{6}$/, { error: 'Enter the 6-digit code from the email, digits only.' }),
  );

interface RequestContext {
  clientIp: string;
  requestId?: string;
}

/**
 * Starts an email sign-in: counts the send against the per-IP limit, looks the patient up in
 * FHIR by email, counts it against the per-email limit, stores a new challenge and emails its code.
 * The per-email count comes after the lookup, so requests that fail during an FHIR outage do not
 * lock the patient out once it is over.
 *
 * The response must not reveal whether the email belongs to a patient, so both cases do
 * the same work (FHIR search, challenge insert) and the email itself is sent after the response.
 * While SendGrid's circuit is open, every request fails at once with a 503 SignInError.
 */
export async function requestSignInCode(email: string, context: RequestContext): Promise<void> {
  if (!canEmailSignInCodes()) {
    throw new SignInError(503, 'email_unavailable', EMAIL_UNAVAILABLE_MESSAGE);
  }

  const { signIn } = getEnv();
  const emailHmac = hmac(`email:${email}`);
  await enforceLimit(
    {
      key: `send-code:ip:${context.clientIp}`,
      limit: signIn.sendLimitPerIp,
      windowSeconds: LIMIT_WINDOW_SECONDS,
    },
    'Too many codes were requested. Wait a few minutes, then try again.',
  );

  const patientId = await findPatientIdByEmail(email);
  await enforceLimit(
    {
      key: `send-code:email:${emailHmac}`,
      limit: signIn.sendLimitPerEmail,
      windowSeconds: LIMIT_WINDOW_SECONDS,
    },
    'Too many codes were requested. Wait a few minutes, then try again.',
  );
  const challengeId = randomUUID();
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');

  await withTransaction(async (client) => {
    await client.query(
      `UPDATE login_challenges SET ended_at = now(), ended_reason = 'superseded'
       WHERE email_hmac = $1 AND ended_at IS NULL`,
      [emailHmac],
    );
    await client.query(
      `INSERT INTO login_challenges (id, email_hmac, patient_id, code_hmac, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
      [
        challengeId,
        emailHmac,
        patientId ?? null,
        codeHmac(challengeId, code),
        signIn.codeLifetimeSeconds,
      ],
    );
  });

  await recordAuditEvent({
    type: 'sign_in.code_requested',
    outcome: 'success',
    patientId,
    requestId: context.requestId,
    clientIp: context.clientIp,
    details: { challengeId, knownPatient: patientId !== undefined },
  });

  if (patientId) {
    // The email goes out after the response, so it gets an upstream budget of its own instead
    // of what is left of this request's.
    void runWithUpstreamBudget(() => deliverCode(email, code, { challengeId, patientId }));
  }
}

/**
 * Checks a code against the newest challenge of the email and returns the patient id on a match.
 * The challenge is used once; the MAX_FAILED_ATTEMPTS-th wrong code ends it, counted in Postgres.
 */
export async function verifySignInCode(
  email: string,
  code: string,
  context: Omit<RequestContext, 'clientIp'>,
): Promise<string> {
  const emailHmac = hmac(`email:${email}`);
  const recent = await getPool().query<StoredChallenge>(
    `SELECT id, code_hmac, ended_reason, expires_at <= now() AS expired FROM login_challenges
     WHERE email_hmac = $1 ORDER BY created_at DESC LIMIT $2`,
    [emailHmac, SUPERSEDED_CHALLENGES_CHECKED + 1],
  );
  const [challenge, ...older] = recent.rows;
  if (!challenge) {
    throw new SignInError(401, 'invalid_code', 'That code is not valid. Request a new code.');
  }
  rejectEndedChallenge(challenge.ended_reason, challenge.expired);
  rejectSupersededCode(challenge, older, code);

  // Comparing HMACs inside the UPDATE keeps check-and-count atomic across processes. The
  // comparison is not constant-time, but it compares keyed digests the client cannot predict.
  const attempt = await getPool().query<{
    ended_reason: string | null;
    failed_attempts: number;
    patient_id: string | null;
  }>(
    `UPDATE login_challenges
     SET failed_attempts = failed_attempts + CASE WHEN matched THEN 0 ELSE 1 END,
         ended_at = CASE WHEN matched OR failed_attempts + 1 >= $3 THEN now() END,
         ended_reason = CASE WHEN matched THEN 'verified'
                             WHEN failed_attempts + 1 >= $3 THEN 'too_many_attempts' END
     FROM (SELECT code_hmac = $2 AND patient_id IS NOT NULL AS matched
           FROM login_challenges WHERE id = $1) AS check_result
     WHERE id = $1 AND ended_at IS NULL AND expires_at > now()
     RETURNING ended_reason, failed_attempts, patient_id`,
    [challenge.id, codeHmac(challenge.id, code), MAX_FAILED_ATTEMPTS],
  );
  const outcome = attempt.rows[0];
  if (!outcome) {
    // Another request ended or the clock expired the challenge since it was read.
    await rejectChallengeAsItIsNow(challenge.id);
    throw new SignInError(401, 'invalid_code', 'That code is not valid. Request a new code.');
  }

  if (outcome.ended_reason === 'verified' && outcome.patient_id) {
    await recordAuditEvent({
      type: 'sign_in.code_verified',
      outcome: 'success',
      patientId: outcome.patient_id,
      requestId: context.requestId,
      details: { challengeId: challenge.id },
    });
    return outcome.patient_id;
  }

  await recordAuditEvent({
    type: 'sign_in.code_rejected',
    outcome: 'failure',
    patientId: outcome.patient_id,
    requestId: context.requestId,
    details: { challengeId: challenge.id, failedAttempts: outcome.failed_attempts },
  });
  if (outcome.ended_reason === 'too_many_attempts') {
    throw new SignInError(
      401,
      'too_many_attempts',
      'Too many incorrect codes. Request a new code.',
    );
  }
  const attemptsLeft = MAX_FAILED_ATTEMPTS - outcome.failed_attempts;
  throw new SignInError(
    401,
    'incorrect_code',
    `That code is not correct. You have ${attemptsLeft} ${attemptsLeft === 1 ? 'try' : 'tries'} left.`,
  );
}

type EndedReason = 'verified' | 'too_many_attempts' | 'superseded' | null;

interface StoredChallenge {
  id: string;
  code_hmac: string;
  ended_reason: EndedReason;
  expired: boolean;
}

/** Earlier challenges checked for a code from an older email. */
const SUPERSEDED_CHALLENGES_CHECKED = 3;

/**
 * Tells the patient who typed the code from an older email to use the newest one, without
 * counting a failed attempt: the code was theirs, only outdated. A code that matches the newest
 * challenge, or none, goes on to the counted check.
 */
function rejectSupersededCode(
  newest: StoredChallenge,
  older: StoredChallenge[],
  code: string,
): void {
  if (digestsEqual(newest.code_hmac, codeHmac(newest.id, code))) return;

  const fromOlderEmail = older.some(
    (challenge) =>
      challenge.ended_reason === 'superseded' &&
      digestsEqual(challenge.code_hmac, codeHmac(challenge.id, code)),
  );
  if (fromOlderEmail) {
    throw new SignInError(
      401,
      'code_superseded',
      'A newer code was sent. Use the code from the latest email.',
    );
  }
}

async function rejectChallengeAsItIsNow(challengeId: string): Promise<void> {
  const current = await getPool().query<StoredChallenge>(
    `SELECT id, code_hmac, ended_reason, expires_at <= now() AS expired FROM login_challenges WHERE id = $1`,
    [challengeId],
  );
  const challenge = current.rows[0];
  if (challenge) rejectEndedChallenge(challenge.ended_reason, challenge.expired);
}

function digestsEqual(left: string, right: string): boolean {
  const leftBytes = Buffer.from(left, 'hex');
  const rightBytes = Buffer.from(right, 'hex');
  return leftBytes.length === rightBytes.length && timingSafeEqual(leftBytes, rightBytes);
}

function rejectEndedChallenge(endedReason: EndedReason, expired: boolean): void {
  switch (endedReason) {
    case 'verified':
      throw new SignInError(
        401,
        'code_used',
        'That code has already been used. Request a new code.',
      );
    case 'too_many_attempts':
      throw new SignInError(
        401,
        'too_many_attempts',
        'Too many incorrect codes. Request a new code.',
      );
    case 'superseded':
      throw new SignInError(
        401,
        'code_superseded',
        'A newer code was sent. Use the code from the latest email.',
      );
    case null:
      if (expired) {
        throw new SignInError(401, 'code_expired', 'That code has expired. Request a new code.');
      }
  }
}

async function enforceLimit(rule: RateLimitRule, message: string): Promise<void> {
  const result = await consumeRateLimit(rule);
  if (!result.allowed) {
    throw new SignInError(429, 'rate_limited', message, result.retryAfterSeconds);
  }
}

/**
 * Counts one code entry from `clientIp`. Together with the attempt limit of each challenge this
 * bounds how fast one client can guess codes or end other patients' challenges.
 */
export async function enforceVerifyLimit(clientIp: string): Promise<void> {
  await enforceLimit(
    {
      key: `verify:ip:${clientIp}`,
      limit: getEnv().signIn.verifyLimitPerIp,
      windowSeconds: LIMIT_WINDOW_SECONDS,
    },
    'Too many codes were entered. Wait a few minutes, then try again.',
  );
}

/** Returns "10 minutes" or "1 minute" for the configured code lifetime, rounded up to minutes. */
export function describeCodeLifetime(): string {
  const minutes = Math.ceil(getEnv().signIn.codeLifetimeSeconds / 60);
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

/** Returns the id of the one Patient with this email, or undefined when none or several match. */
async function findPatientIdByEmail(email: string): Promise<string | undefined> {
  const patients = await searchResources('Patient', { email, _count: '2' });
  if (patients.length !== 1) {
    if (patients.length > 1)
      getLogger().warn({ matches: patients.length }, 'several patients share one email');
    return undefined;
  }
  return patients[0]?.id;
}

async function deliverCode(
  email: string,
  code: string,
  ids: { challengeId: string; patientId: string },
): Promise<void> {
  const lifetime = describeCodeLifetime();
  try {
    await sendEmail({
      to: email,
      subject: 'Your sign-in code',
      text: `Your sign-in code is ${code}. It expires in ${lifetime}. If you did not ask for it, you can ignore this email.`,
      html: `<p>Your sign-in code is <strong>${code}</strong>.</p><p>It expires in ${lifetime}. If you did not ask for it, you can ignore this email.</p>`,
    });
  } catch (error) {
    const upstreamError = error instanceof UpstreamError ? error : undefined;
    getLogger().error(
      {
        ...ids,
        failure: upstreamError?.failure,
        status: upstreamError?.status,
        err: { message: (error as Error).message },
      },
      'sign-in code email failed',
    );
  }
}

function hmac(value: string): string {
  return createHmac('sha256', getEnv().session.secret).update(value).digest('hex');
}

/** Binds the code to its challenge, so a digest from one challenge never matches another. */
function codeHmac(challengeId: string, code: string): string {
  return hmac(`code:${challengeId}:${code}`);
}
