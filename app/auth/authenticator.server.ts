import { Authenticator } from 'remix-auth';

import { recordAuditEvent } from '~/security/audit.server';
import { singleton } from '~/utils/singleton.server';

import { EmailCodeStrategy } from './email-code-strategy.server';
import { createSession, getPatientSession, revokeSession, type AuthMethod } from './session.server';

export interface SignedIn {
  patientId: string;
}

export function getAuthenticator(): Authenticator<SignedIn> {
  return singleton('authenticator', () => {
    const authenticator = new Authenticator<SignedIn>();
    authenticator.use(
      new EmailCodeStrategy<SignedIn>(({ patientId }) => Promise.resolve({ patientId })),
    );
    return authenticator;
  });
}

/**
 * Ends any session the request already carries and starts a new one, so a session id known
 * before sign-in is never valid after it. Returns the Set-Cookie header of the new session.
 */
export async function startSession(
  request: Request,
  signedIn: SignedIn,
  authMethod: AuthMethod = 'email_code',
): Promise<string> {
  const previous = await getPatientSession(request);
  if (previous) await revokeSession(previous.sessionId);

  const { setCookie } = await createSession(signedIn.patientId, authMethod);
  return setCookie;
}

/** Revokes the request's session, if any, and records the logout. */
export async function endSession(request: Request, requestId: string): Promise<void> {
  const session = await getPatientSession(request);
  if (!session) return;

  await revokeSession(session.sessionId);
  await recordAuditEvent({
    type: 'session.logout',
    outcome: 'success',
    patientId: session.patientId,
    sessionId: session.sessionId,
    requestId,
  });
}
