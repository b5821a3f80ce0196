import { createHmac, randomInt, randomUUID } from 'node:crypto';

import { z } from 'zod';

import { searchResources } from '~/clients/fhir.server';
import { sendEmail } from '~/clients/sendgrid.server';
import { getEnv } from '~/config/env.server';
import { getPool, withTransaction } from '~/db/pool.server';
import { recordAuditEvent } from '~/security/audit.server';
import { consumeRateLimit, type RateLimitRule } from '~/security/rate-limit.server';
import { getLogger } from '~/utils/logger.server';

import { SignInError } from './sign-in-errors.server';

/** The wrong entry with this number ends the challenge. */
export const MAX_FAILED_ATTEMPTS = 5;

const SEND_LIMIT_WINDOW_SECONDS = 15 * 60;

export const emailSchema = z
  .string({ error: 'Enter your email address.' })
  .trim()
  .toLowerCase()
  .max(254, { error: 'Enter an email address of at most 254 characters.' })
  .pipe(z.email({ error: 'Enter a valid email address, like name@example.com.' }));

export const codeSchema = z
  .string({ error: 'Enter the 6-digit code from the email.' })
  .trim()
  .regex(/^\d{6}$/, { error: 'Enter the 6-digit code from the email, digits only.' });

interface RequestContext {
  clientIp: string;
  requestId?: string;
}

/**
 * Starts an email sign-in: counts the send against the per-email and per-IP limits, looks the
 * patient up in FHIR by email, stores a new challenge and emails its code.
 *
 * The caller's answer must not reveal whether the email belongs to a patient, so both cases do
 * the same work (FHIR search, challenge insert) and the email itself is sent after the answer.
 */
export async function requestSignInCode(email: string, context: RequestContext): Promise<void> {
  const { signIn } = getEnv();
  const emailHmac = hmac(`email:${email}`);
  await enforceLimit({
    key: `send-code:ip:${context.clientIp}`,
    limit: signIn.sendLimitPerIp,
    windowSeconds: SEND_LIMIT_WINDOW_SECONDS,
  });
  await enforceLimit({
    key: `send-code:email:${emailHmac}`,
    limit: signIn.sendLimitPerEmail,
    windowSeconds: SEND_LIMIT_WINDOW_SECONDS,
  });

  const patientId = await findPatientIdByEmail(email);
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
    details: { challengeId, knownPatient: patientId !== undefined },
  });

  if (patientId) {
    void deliverCode(email, code, { challengeId, patientId });
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
  const latest = await getPool().query<{
    id: string;
    ended_reason: EndedReason;
    expired: boolean;
  }>(
    `SELECT id, ended_reason, expires_at <= now() AS expired FROM login_challenges
     WHERE email_hmac = $1 ORDER BY created_at DESC LIMIT 1`,
    [emailHmac],
  );
  const challenge = latest.rows[0];
  if (!challenge) {
    throw new SignInError(401, 'invalid_code', 'That code is not valid. Request a new code.');
  }
  rejectEndedChallenge(challenge.ended_reason, challenge.expired);

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

async function enforceLimit(rule: RateLimitRule): Promise<void> {
  const result = await consumeRateLimit(rule);
  if (!result.allowed) {
    throw new SignInError(
      429,
      'rate_limited',
      'Too many codes were requested. Wait a few minutes, then try again.',
      result.retryAfterSeconds,
    );
  }
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
  const minutes = Math.ceil(getEnv().signIn.codeLifetimeSeconds / 60);
  try {
    await sendEmail({
      to: email,
      subject: 'Your sign-in code',
      text: `Your sign-in code is ${code}. It expires in ${minutes} minutes. If you did not ask for it, you can ignore this email.`,
      html: `<p>Your sign-in code is <strong>${code}</strong>.</p><p>It expires in ${minutes} minutes. If you did not ask for it, you can ignore this email.</p>`,
    });
  } catch (error) {
    getLogger().error(
      { ...ids, err: { message: (error as Error).message } },
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
