import { hkdfSync } from 'node:crypto';

import { EncryptJWT, jwtDecrypt } from 'jose';

import { getEnv } from '~/config/env.server';
import { readFormFields } from '~/http/api.server';
import { getLogger } from '~/utils/logger.server';

import {
  clearKeptInputCookie,
  keptInputCookieName,
  serializeKeptInputCookie,
} from './kept-input-cookie.server';
import {
  readCookie,
  readEndedSessionPatientId,
  requirePatient,
  type PatientSession,
} from './session.server';

/** How long unsent input is kept after the session ended. */
export const KEPT_INPUT_MAX_AGE_SECONDS = 30 * 60;

/**
 * Largest Set-Cookie header the portal writes for kept input. Browsers keep a cookie of at most
 * 4096 bytes (RFC 6265 section 6.1), so larger input is not kept.
 */
const MAX_COOKIE_BYTES = 4000;

const JWE_ISSUER = 'patient-portal';
const JWE_AUDIENCE = 'patient-portal:kept-form-input';

/**
 * AES-256-GCM key for the cookie, derived from SESSION_SECRET with HKDF so that it differs from
 * the key that signs session JWTs.
 */
function encryptionKey(): Uint8Array {
  const secret = getEnv().session.secret;
  return new Uint8Array(hkdfSync('sha256', secret, '', 'patient-portal kept form input', 32));
}

/**
 * Returns the signed-in patient, like requirePatient. When the session ended by its idle or
 * absolute limit, the form fields named in `fieldNames` go into an encrypted cookie on the
 * redirect, bound to the patient of the ended session. The form shows them again after that
 * patient signs in. Use it in page actions whose form contains typed input.
 */
export async function requirePatientKeepingInput(
  request: Request,
  fieldNames: readonly string[],
): Promise<PatientSession> {
  try {
    return await requirePatient(request);
  } catch (thrown) {
    const isRedirect = thrown instanceof Response && thrown.status >= 300 && thrown.status < 400;
    if (!isRedirect) throw thrown;

    const setCookie = await keepFormInput(request, fieldNames);
    if (setCookie) thrown.headers.append('set-cookie', setCookie);
    throw thrown;
  }
}

/**
 * Returns the Set-Cookie header that keeps the named fields of the posted form, or undefined when
 * the session did not end by a limit, nothing was typed, or the input is too large for a cookie.
 */
async function keepFormInput(
  request: Request,
  fieldNames: readonly string[],
): Promise<string | undefined> {
  const patientId = await readEndedSessionPatientId(request);
  if (!patientId) return undefined;

  const posted = await readFormFields(request).catch(() => undefined);
  if (!posted) return undefined;
  const fields: Record<string, string> = {};
  for (const name of fieldNames) {
    const value = posted[name];
    if (typeof value === 'string' && value !== '') fields[name] = value;
  }
  if (Object.keys(fields).length === 0) return undefined;

  const path = new URL(request.url).pathname;
  const token = await new EncryptJWT({ path, fields })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setSubject(patientId)
    .setIssuer(JWE_ISSUER)
    .setAudience(JWE_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${KEPT_INPUT_MAX_AGE_SECONDS}s`)
    .encrypt(encryptionKey());
  const setCookie = serializeKeptInputCookie(token, KEPT_INPUT_MAX_AGE_SECONDS);

  // NOTE: a long message in a script of 2 or 3 UTF-8 bytes per character can exceed the limit,
  // and such input is still lost when the session ends. Keeping it in the database would lift
  // the limit.
  if (Buffer.byteLength(setCookie) > MAX_COOKIE_BYTES) {
    getLogger().warn(
      { patientId, path, cookieBytes: Buffer.byteLength(setCookie) },
      'unsent form input too large to keep across sign-in',
    );
    return undefined;
  }
  getLogger().info({ patientId, path }, 'unsent form input kept across sign-in');
  return setCookie;
}

interface KeptInput {
  patientId: string;
  path: string;
  fields: Record<string, string>;
}

/**
 * Decrypts the request's kept-input cookie. Returns undefined when it is absent, expired or
 * altered.
 */
async function readKeptInput(request: Request): Promise<KeptInput | undefined> {
  const token = readCookie(request.headers.get('cookie'), keptInputCookieName());
  if (!token) return undefined;

  try {
    const { payload } = await jwtDecrypt(token, encryptionKey(), {
      issuer: JWE_ISSUER,
      audience: JWE_AUDIENCE,
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    const { sub, path, fields } = payload;
    if (typeof sub !== 'string' || typeof path !== 'string') return undefined;
    if (typeof fields !== 'object' || fields === null) return undefined;
    const strings = Object.entries(fields).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    );
    return { patientId: sub, path, fields: Object.fromEntries(strings) };
  } catch {
    return undefined;
  }
}

/** True when the request carries kept input that is still valid, for any patient. */
export async function hasKeptInput(request: Request): Promise<boolean> {
  return (await readKeptInput(request)) !== undefined;
}

/** Result of takeKeptInput, for a page's loader. */
export interface TakenInput {
  /** The kept fields when they belong to this patient and this page, else undefined. */
  fields: Record<string, string> | undefined;
  /** Headers for the loader's response: the cookie's removal, when there is one to remove. */
  headers: HeadersInit;
}

/**
 * Returns the input kept for this page (the request's path) and this patient, and removes the
 * cookie, so the input is shown once. Input of another patient is removed unseen. Input of
 * another page is left for that page until it expires.
 */
export async function takeKeptInput(
  request: Request,
  session: PatientSession,
): Promise<TakenInput> {
  const hasCookie = readCookie(request.headers.get('cookie'), keptInputCookieName()) !== undefined;
  if (!hasCookie) return { fields: undefined, headers: {} };

  const keptInput = await readKeptInput(request);
  const clear = { 'set-cookie': clearKeptInputCookie() };
  if (!keptInput) return { fields: undefined, headers: clear };
  if (keptInput.patientId !== session.patientId) {
    getLogger().info(
      { patientId: session.patientId, keptForPatientId: keptInput.patientId },
      'unsent form input of another patient discarded',
    );
    return { fields: undefined, headers: clear };
  }
  if (keptInput.path !== new URL(request.url).pathname) return { fields: undefined, headers: {} };
  return { fields: keptInput.fields, headers: clear };
}
