import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';

import { getEnv } from '~/config/env.server';
import { singleton } from '~/utils/singleton.server';

import { withCircuitBreaker } from './http.server';
import { UpstreamError } from './upstream-error.server';

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

function getMailService(): MailService {
  return singleton('sendgrid-mail', () => {
    const { sendgrid, upstreamTimeoutMs } = getEnv();
    const client = new Client();
    client.setApiKey(sendgrid.apiKey);
    // The client merges default request options into its axios call; `timeout` is an axios
    // option that @sendgrid/client 8.1.6 does not declare in its types.
    client.setDefaultRequest('timeout' as 'url', upstreamTimeoutMs as unknown as string);
    if (sendgrid.baseUrl) client.setDefaultRequest('baseUrl', sendgrid.baseUrl);

    const mail = new MailService();
    mail.setClient(client);
    return mail;
  });
}

/**
 * Sends one email through SendGrid v3 mail send, under the SendGrid circuit breaker. Not
 * retried, because a repeated send would deliver the message twice.
 */
export function sendEmail(email: OutgoingEmail): Promise<void> {
  return withCircuitBreaker('sendgrid', () => sendThroughClient(email));
}

async function sendThroughClient(email: OutgoingEmail): Promise<void> {
  const { sendgrid } = getEnv();
  try {
    await getMailService().send({ from: sendgrid.from, ...email });
  } catch (error) {
    const status = (error as { code?: unknown }).code;
    throw new UpstreamError(
      'sendgrid',
      typeof status === 'number' ? 'http' : 'network',
      'SendGrid mail send failed',
      typeof status === 'number' ? status : undefined,
      undefined,
      { cause: error },
    );
  }
}
