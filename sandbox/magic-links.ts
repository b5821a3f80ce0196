import { randomBytes } from 'node:crypto';

import type { SandboxPatient } from './demo-data.js';
import { escapeHtml } from './mail-page.js';
import type { CapturedMessage, Mailbox } from './mailbox.js';

export const MAGIC_LINK_SUBJECT = 'Your patient portal sign-in link';

/** Sender of the magic-link emails, which Canvas sends in production, not the portal. */
export const MAGIC_LINK_SENDER = 'Canvas Medical (sandbox) <no-reply@canvas-sandbox.example.com>';

/** Path of the portal page that starts a Canvas sign-in. */
export const PORTAL_CANVAS_SIGN_IN_PATH = '/auth/canvas';

/** Returns the magic link of a patient: `<portalOrigin>/auth/canvas?login_hint=<patient id>`. */
export function buildMagicLink(portalOrigin: string, patientId: string): string {
  const link = new URL(PORTAL_CANVAS_SIGN_IN_PATH, portalOrigin);
  link.searchParams.set('login_hint', patientId);
  return link.href;
}

/**
 * Puts one magic-link email per patient into the mailbox, as the EHR would send it, and returns
 * the messages. The emails contain no 6-digit number, so a reader of the newest sign-in code
 * email cannot mistake one for a code, provided the port of `portalOrigin` has at most 5 digits,
 * which every valid port has.
 */
export function deliverMagicLinks(
  mailbox: Mailbox,
  portalOrigin: string,
  patients: readonly SandboxPatient[],
  now: Date,
): CapturedMessage[] {
  return patients.map((patient) => {
    const message = buildMagicLinkMessage(patient, buildMagicLink(portalOrigin, patient.id), now);
    mailbox.add(message);
    return message;
  });
}

/**
 * Checks that `portalOrigin` is an http or https origin without a path, such as
 * `http://localhost:3000`, and throws an Error that names the expected form otherwise.
 */
export function assertPortalOrigin(portalOrigin: string): void {
  let url: URL | undefined;
  try {
    url = new URL(portalOrigin);
  } catch {
    url = undefined;
  }

  const isOrigin =
    url !== undefined && /^https?:$/.test(url.protocol) && url.origin === portalOrigin;
  if (!isOrigin) {
    throw new Error(
      `createSandbox: portalOrigin "${portalOrigin}" is not an http or https origin. Pass the portal's origin without a path or trailing slash, such as http://localhost:3000.`,
    );
  }
}

function buildMagicLinkMessage(patient: SandboxPatient, link: string, now: Date): CapturedMessage {
  const text = [
    `Hello ${patient.givenName},`,
    '',
    'Your care team invites you to the patient portal. Open this link to sign in with your Canvas account:',
    '',
    link,
    '',
    'The portal sandbox created this email. It was not delivered.',
  ].join('\n');
  const html = `<p>Hello ${escapeHtml(patient.givenName)},</p>
<p>Your care team invites you to the patient portal.</p>
<p><a href="${escapeHtml(link)}">Sign in with your Canvas account</a></p>
<p>If the link does not open, copy this address into your browser: ${escapeHtml(link)}</p>
<p>The portal sandbox created this email. It was not delivered.</p>`;

  return {
    messageId: randomBytes(16).toString('base64url'),
    from: MAGIC_LINK_SENDER,
    to: patient.email,
    subject: MAGIC_LINK_SUBJECT,
    text,
    html,
    attachments: [],
    sentAt: now.toISOString(),
  };
}
