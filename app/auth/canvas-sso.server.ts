import { OAuth2Tokens } from 'arctic';
import { OAuth2RequestError, OAuth2Strategy } from 'remix-auth-oauth2';

import { fetchUpstream } from '~/clients/http.server';
import { readResource } from '~/clients/fhir.server';
import { UpstreamError } from '~/clients/upstream-error.server';
import { getEnv } from '~/config/env.server';
import { parseReference } from '~/prescriptions/reference-cache.server';

import type { SignedIn } from './authenticator.server';

/** Path Canvas sends the browser back to, on the portal's own origin. */
export const CANVAS_CALLBACK_PATH = '/api/patient/auth/canvas-callback';

/** Seconds the state and PKCE verifier cookie lives: long enough to pick a patient at Canvas. */
const STATE_COOKIE_SECONDS = 10 * 60;

/** Reason a Canvas sign-in failed, as the error page explains it to the patient. */
export type CanvasSignInFailure =
  | 'denied'
  | 'state_mismatch'
  | 'missing_state'
  | 'code_rejected'
  | 'unknown_patient'
  | 'unavailable';

export class CanvasSignInError extends Error {
  override name = 'CanvasSignInError';

  constructor(
    readonly reason: CanvasSignInFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Name of the cookie that keeps the state and PKCE verifier between start and callback. */
export function canvasStateCookieName(): string {
  return getEnv().session.cookieSecure ? '__Host-canvas_sso' : 'canvas_sso';
}

/**
 * The remix-auth OAuth2 strategy for Canvas: authorization code with PKCE (S256), the state
 * and verifier in a short-lived HttpOnly SameSite=Lax cookie, and the token request sent
 * through the portal's HTTP layer. The Canvas token is used only to find the patient and then
 * dropped.
 */
class CanvasStrategy extends OAuth2Strategy<SignedIn> {
  override name = 'canvas';

  constructor(redirectUri: string) {
    const { canvasOauth, session } = getEnv();
    super(
      {
        clientId: canvasOauth.clientId,
        clientSecret: canvasOauth.clientSecret,
        authorizationEndpoint: canvasOauth.authorizeUrl,
        tokenEndpoint: canvasOauth.tokenUrl,
        redirectURI: redirectUri,
        scopes: ['openid', 'fhirUser', 'launch/patient'],
        cookie: {
          name: canvasStateCookieName(),
          httpOnly: true,
          sameSite: 'Lax',
          ...(session.cookieSecure ? { secure: true as const } : {}),
          path: '/',
          maxAge: STATE_COOKIE_SECONDS,
        },
      },
      ({ tokens }) => findSignedInPatient(tokens),
    );
  }

  /** Passes the magic link's `login_hint` on, so Canvas can offer the right account. */
  protected override authorizationParams(params: URLSearchParams, request: Request) {
    const hint = new URL(request.url).searchParams.get('login_hint');
    const next = new URLSearchParams(params);
    if (hint && /^[A-Za-z0-9\-.]{1,64}$/.test(hint)) next.set('login_hint', hint);
    return next;
  }

  /**
   * Exchanges the code with a form-encoded POST (client credentials in the body), once: a code
   * is single-use, so the request is never retried.
   */
  protected override async validateAuthorizationCode(
    code: string,
    codeVerifier: string,
  ): Promise<OAuth2Tokens> {
    const { canvasOauth } = getEnv();
    const response = await fetchUpstream('canvas-oauth', canvasOauth.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        code_verifier: codeVerifier,
        redirect_uri: String(this.options.redirectURI),
        client_id: canvasOauth.clientId,
        client_secret: canvasOauth.clientSecret,
      }),
    });
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const error = (body as { error?: unknown } | undefined)?.error;
      // Only invalid_grant means the code itself is bad; any other error is on Canvas's side.
      throw new CanvasSignInError(
        error === 'invalid_grant' ? 'code_rejected' : 'unavailable',
        `Canvas token request failed with ${response.status}${typeof error === 'string' ? ` (${error.slice(0, 64)})` : ''}`,
      );
    }
    if (typeof body !== 'object' || body === null) {
      throw new UpstreamError('canvas-oauth', 'malformed', 'Canvas token response is not JSON');
    }
    return new OAuth2Tokens(body);
  }
}

/**
 * Finds the patient of a Canvas sign-in: the token response's `patient` launch context, else
 * the `fhirUser` it names when that is a Patient. The patient must exist in FHIR.
 */
async function findSignedInPatient(tokens: OAuth2Tokens): Promise<SignedIn> {
  const data = tokens.data as { patient?: unknown; fhirUser?: unknown };
  let patientId = typeof data.patient === 'string' ? data.patient : undefined;
  if (!patientId && typeof data.fhirUser === 'string') {
    const parsed = parseReference(data.fhirUser);
    if (parsed?.type === 'Patient') patientId = parsed.id;
  }
  if (!patientId || !/^[A-Za-z0-9\-.]{1,64}$/.test(patientId)) {
    throw new CanvasSignInError('unknown_patient', 'Canvas named no patient for this sign-in');
  }

  const patient = await readResource('Patient', patientId);
  if (!patient) {
    throw new CanvasSignInError('unknown_patient', `Patient ${patientId} was not found in FHIR`);
  }
  return { patientId };
}

/** Returns the redirect URI: the public origin when set, else the request's own origin. */
export function canvasRedirectUri(request: Request): string {
  const origin = getEnv().publicOrigin ?? new URL(request.url).origin;
  return `${origin}${CANVAS_CALLBACK_PATH}`;
}

/**
 * Runs the strategy for one request. At the start it throws the redirect to Canvas; at the
 * callback it returns the patient, or throws CanvasSignInError with the reason. The state is
 * checked against the cookie before the code is exchanged, so a link opened without the cookie
 * (an email scanner) uses up nothing.
 */
export async function authenticateWithCanvas(request: Request): Promise<SignedIn> {
  try {
    return await new CanvasStrategy(canvasRedirectUri(request)).authenticate(request);
  } catch (error) {
    if (error instanceof Response || error instanceof CanvasSignInError) throw error;
    throw toSignInError(error);
  }
}

function toSignInError(error: unknown): unknown {
  if (error instanceof OAuth2RequestError) {
    return new CanvasSignInError(
      error.code === 'access_denied' ? 'denied' : 'unavailable',
      `Canvas returned ${error.code.slice(0, 64)}`,
    );
  }
  if (error instanceof ReferenceError && /state/i.test(error.message)) {
    return new CanvasSignInError('missing_state', error.message);
  }
  if (error instanceof ReferenceError) {
    return new CanvasSignInError('code_rejected', error.message);
  }
  if (error instanceof RangeError) return new CanvasSignInError('state_mismatch', error.message);
  if (error instanceof UpstreamError) {
    return new CanvasSignInError('unavailable', `${error.upstream} ${error.failure}`);
  }
  return error;
}

/**
 * Returns Set-Cookie headers that remove every state cookie the request carries. remix-auth-oauth2
 * names each one `<name>:<random id>`, one per sign-in started. The callback removes them all, so
 * a state works once; a new start removes the older ones, so they cannot pile up.
 */
export function clearCanvasStateCookies(request: Request): string[] {
  const prefix = `${canvasStateCookieName()}:`;
  const secure = getEnv().session.cookieSecure ? '; Secure' : '';
  const names = (request.headers.get('cookie') ?? '')
    .split(';')
    .map((part) => part.split('=')[0]?.trim() ?? '')
    .filter((name) => name.startsWith(prefix) && /^[\w:.-]+$/.test(name));
  return names.map((name) => `${name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${secure}`);
}
