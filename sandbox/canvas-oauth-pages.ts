import type { CanvasAccount } from './canvas-oauth-accounts.js';
import type { AuthorizationRequest } from './canvas-oauth-request.js';
import { escapeHtml } from './mail-page.js';

export const SIGN_IN_PAGE_TITLE = 'Sign in with Canvas (sandbox)';

export interface SignInPageInput {
  request: AuthorizationRequest;
  accounts: readonly CanvasAccount[];
  /** Path that the form posts to, e.g. `/sandbox/canvas-oauth/authorize`. */
  formAction: string;
}

/**
 * Renders the page where a developer picks the Canvas user to sign in as. The form posts the
 * authorization parameters back in hidden fields, with `patient` and `decision` (`allow` or
 * `deny`). The account named by `login_hint` is selected. The page has no scripts or styles, so it
 * works under any Content-Security-Policy and without JavaScript.
 */
export function renderSignInPage(input: SignInPageInput): string {
  const { request, accounts } = input;
  const hinted = accounts.find((account) => account.patientId === request.loginHint);
  const hintNotice =
    request.loginHint && !hinted
      ? `<p>No Canvas user in the sandbox has the patient id "${escapeHtml(request.loginHint)}" from login_hint. Choose a user below.</p>\n`
      : '';
  const options = accounts
    .map((account, index) => renderAccountOption(account, index, account === hinted))
    .join('\n');

  return renderDocument(
    SIGN_IN_PAGE_TITLE,
    `<h1>${SIGN_IN_PAGE_TITLE}</h1>
<p>This page stands in for Canvas Medical's sign-in. Choose the Canvas user to sign in as, and the portal receives an authorization code for that user's patient record. Nothing leaves this machine.</p>
${hintNotice}<form method="post" action="${escapeHtml(input.formAction)}">
${renderHiddenFields(request)}
<fieldset>
<legend>Canvas user</legend>
${options}
</fieldset>
<p>
<button type="submit" name="decision" value="allow">Sign in</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</p>
</form>`,
  );
}

/**
 * Renders the page for an authorization request that the sandbox rejects. The page lists every
 * problem and links nowhere, because an unchecked redirect_uri must never be followed.
 */
export function renderInvalidRequestPage(problems: readonly string[]): string {
  const items = problems.map((problem) => `<li>${escapeHtml(problem)}</li>`).join('\n');
  return renderDocument(
    'Invalid sign-in request (Canvas sandbox)',
    `<h1>Invalid sign-in request</h1>
<p>The Canvas sandbox rejected this authorization request and did not send you back to the portal, because of these problems:</p>
<ul>
${items}
</ul>
<p>Start the sign-in again from the portal. If this page appears again, the portal's Canvas settings are wrong.</p>`,
  );
}

function renderAccountOption(account: CanvasAccount, index: number, selected: boolean): string {
  const id = `account-${index}`;
  const detail = account.email
    ? `${escapeHtml(account.email)}, patient id ${escapeHtml(account.patientId)}`
    : `patient id ${escapeHtml(account.patientId)}, which does not exist in FHIR`;
  return `<div>
<input type="radio" id="${id}" name="patient" value="${escapeHtml(account.patientId)}" required${selected ? ' checked' : ''}>
<label for="${id}">${escapeHtml(account.name)} (${detail})</label>
</div>`;
}

function renderHiddenFields(request: AuthorizationRequest): string {
  const fields: [string, string | undefined][] = [
    ['response_type', 'code'],
    ['client_id', request.clientId],
    ['redirect_uri', request.redirectUri],
    ['state', request.state],
    ['code_challenge', request.codeChallenge],
    ['code_challenge_method', 'S256'],
    ['scope', request.scope],
    ['login_hint', request.loginHint],
  ];
  return fields
    .filter((field): field is [string, string] => field[1] !== undefined)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
    .join('\n');
}

function renderDocument(title: string, mainContent: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
</head>
<body>
<main>
${mainContent}
</main>
</body>
</html>
`;
}
