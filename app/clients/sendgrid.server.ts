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
  attachments?: EmailAttachment[];
}

export interface EmailAttachment {
  filename: string;
  /** MIME type, e.g. `text/calendar; method=REQUEST`. */
  type: string;
  /** The file's text; it is sent base64-encoded. */
  content: string;
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
    const { attachments, ...message } = email;
    await getMailService().send({
      from: sendgrid.from,
      ...message,
      ...(attachments
        ? {
            attachments: attachments.map((attachment) => ({
              filename: attachment.filename,
              type: attachment.type,
              disposition: 'attachment',
              content: Buffer.from(attachment.content, 'utf8').toString('base64'),
            })),
          }
        : {}),
    });
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
