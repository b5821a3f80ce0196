import { createHash } from 'node:crypto';

/** Path of the portal's Canvas callback, the only path that a redirect_uri may have. */
export const CANVAS_CALLBACK_PATH = '/api/patient/auth/canvas-callback';

/** Hosts that a redirect_uri may name, because the sandbox serves only a portal on this machine. */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Maximum length of `state`, `scope` and `login_hint`, so that a page cannot grow without bound. */
const MAX_PARAMETER_LENGTH = 1024;

/** An S256 code_challenge: BASE64URL(SHA256(verifier)) without padding, always 43 characters. */
const CODE_CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A code_verifier as RFC 7636 section 4.1 defines it: 43 to 128 unreserved characters. */
const CODE_VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;

/** Space-separated scope tokens of printable ASCII without `"` or `\` (RFC 6749 section 3.3). */
const SCOPE_PATTERN = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/;

/** The parameters of an authorization request, which the sign-in form posts back unchanged. */
export const AUTHORIZATION_PARAMETER_NAMES = [
  'response_type',
  'client_id',
  'redirect_uri',
  'state',
  'code_challenge',
  'code_challenge_method',
  'scope',
  'login_hint',
] as const;

/** The parameters of an authorization request that passed every check. */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  /** The requested scope, undefined if the client sent none. */
  scope: string | undefined;
  /** Patient id that the client suggests, undefined if none. */
  loginHint: string | undefined;
}

export type AuthorizationRequestParseResult =
  | { ok: true; request: AuthorizationRequest }
  | { ok: false; problems: string[] };

/**
 * Checks the parameters of `GET /authorize` or of its form post and returns every problem found,
 * in plain sentences for the error page. Problems are collected instead of stopping at the first,
 * so that a developer can fix a broken request in one pass.
 */
export function parseAuthorizationRequest(
  params: URLSearchParams,
  expectedClientId: string,
): AuthorizationRequestParseResult {
  const repeatedProblems = findRepeatedParameters(params);
  if (repeatedProblems.length > 0) {
    return { ok: false, problems: repeatedProblems };
  }

  const problems: string[] = [];
  const read = (name: string): string | undefined => params.get(name) ?? undefined;

  const responseType = read('response_type');
  if (responseType !== 'code') {
    problems.push(
      `response_type is ${describeValue(responseType)}. Send response_type=code, the only type this server supports.`,
    );
  }

  const clientId = read('client_id');
  if (clientId !== expectedClientId) {
    problems.push(
      `client_id is ${describeValue(clientId)}, which is not a registered client. Send the client id that the portal is configured with.`,
    );
  }

  const redirectUri = read('redirect_uri');
  const redirectUriProblem = checkRedirectUri(redirectUri);
  if (redirectUriProblem) {
    problems.push(redirectUriProblem);
  }

  const state = read('state');
  if (!state) {
    problems.push('state is missing. Send a random value and check it at the callback.');
  } else if (state.length > MAX_PARAMETER_LENGTH) {
    problems.push(`state is longer than ${MAX_PARAMETER_LENGTH} characters.`);
  }

  const codeChallengeMethod = read('code_challenge_method');
  if (codeChallengeMethod !== 'S256') {
    problems.push(
      `code_challenge_method is ${describeValue(codeChallengeMethod)}. Send code_challenge_method=S256, the only PKCE method this server accepts.`,
    );
  }

  const codeChallenge = read('code_challenge');
  if (!codeChallenge) {
    problems.push('code_challenge is missing. Send BASE64URL(SHA256(code_verifier)).');
  } else if (!CODE_CHALLENGE_PATTERN.test(codeChallenge)) {
    problems.push(
      'code_challenge is invalid. An S256 challenge is 43 base64url characters without padding.',
    );
  }

  const scope = read('scope') || undefined;
  if (scope !== undefined && (scope.length > MAX_PARAMETER_LENGTH || !SCOPE_PATTERN.test(scope))) {
    problems.push('scope is invalid. Send scope tokens separated by single spaces.');
  }

  const loginHint = read('login_hint') || undefined;
  if (loginHint !== undefined && loginHint.length > MAX_PARAMETER_LENGTH) {
    problems.push(`login_hint is longer than ${MAX_PARAMETER_LENGTH} characters.`);
  }

  if (problems.length > 0 || !clientId || !redirectUri || !state || !codeChallenge) {
    return { ok: false, problems };
  }
  return { ok: true, request: { clientId, redirectUri, state, codeChallenge, scope, loginHint } };
}

/**
 * Returns why `redirectUri` is not acceptable, or undefined if it is an absolute http or https
 * URL on a loopback host whose path is the portal's Canvas callback, without a fragment or
 * user info.
 */
export function checkRedirectUri(redirectUri: string | undefined): string | undefined {
  if (!redirectUri) {
    return 'redirect_uri is missing. Send the absolute URL of the portal callback.';
  }

  const expected = `an http or https URL on 127.0.0.1, localhost or [::1] whose path is ${CANVAS_CALLBACK_PATH}`;
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return `redirect_uri is not an absolute URL. Send ${expected}.`;
  }

  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `redirect_uri uses the scheme ${url.protocol}. Send ${expected}.`;
  }
  if (!LOOPBACK_HOSTS.has(url.hostname)) {
    return `redirect_uri names the host ${url.hostname}, which is not a loopback host. Send ${expected}.`;
  }
  if (url.pathname !== CANVAS_CALLBACK_PATH) {
    return `redirect_uri has the path ${url.pathname}. Send ${expected}.`;
  }
  if (url.username || url.password) {
    return `redirect_uri contains user info. Send ${expected}.`;
  }
  // RFC 6749 section 3.1.2: the redirection endpoint URI must not include a fragment.
  if (redirectUri.includes('#')) {
    return `redirect_uri contains a fragment. Send ${expected}, without a fragment.`;
  }
  return undefined;
}

/** Returns whether `verifier` has the form that RFC 7636 section 4.1 requires. */
export function isValidCodeVerifier(verifier: string): boolean {
  return CODE_VERIFIER_PATTERN.test(verifier);
}

/** Computes the S256 code_challenge of a verifier: BASE64URL(SHA256(ASCII(verifier))). */
export function computeS256Challenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/**
 * Returns a problem for each authorization parameter sent more than once. RFC 6749 section 3.1
 * forbids repeats, because two servers could read the two values differently.
 */
function findRepeatedParameters(params: URLSearchParams): string[] {
  const problems: string[] = [];
  for (const name of AUTHORIZATION_PARAMETER_NAMES) {
    const count = params.getAll(name).length;
    if (count > 1) {
      problems.push(`${name} is sent ${count} times. Send it once.`);
    }
  }
  return problems;
}

function describeValue(value: string | undefined): string {
  if (value === undefined || value === '') {
    return 'missing';
  }
  return `"${value.length > 80 ? `${value.slice(0, 80)}…` : value}"`;
}
