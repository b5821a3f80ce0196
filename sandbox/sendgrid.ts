import { randomBytes } from 'node:crypto';

import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';

import { toBodyParserError } from './body-parsing.js';
import { parseBearerToken, secretsEqual } from './credentials.js';
import { createFaultInjector, type FaultRegistry } from './faults.js';
import type { Mailbox } from './mailbox.js';
import {
  validateMailSendRequest,
  type MailSendRequest,
  type SendGridError,
} from './sendgrid-request.js';
import type { CallCounters } from './stats.js';

/** Largest request body accepted. SendGrid allows 30 MB, but the portal sends no attachments. */
const MAX_BODY_SIZE = '1mb';

export interface SendGridStandInOptions {
  apiKey: string;
  mailbox: Mailbox;
  faults: FaultRegistry;
  counters: CallCounters;
  logger: Logger;
}

/**
 * Creates the SendGrid v3 stand-in. It serves `POST /v3/mail/send` as `@sendgrid/mail` 8 calls it
 * (the client joins its `baseUrl` and `/v3/mail/send`), requires `Authorization: Bearer <apiKey>`,
 * validates the body, responds with 202, an empty body and `X-Message-Id`, and captures one message
 * per recipient in the mailbox.
 */
export function createSendGridRouter(options: SendGridStandInOptions): Router {
  const { mailbox, logger } = options;
  const router = express.Router();

  router.use(
    createFaultInjector({
      upstream: 'sendgrid',
      faults: options.faults,
      counters: options.counters,
      buildErrorResponse: (status) => ({
        contentType: 'application/json',
        body: errorBody([{ message: `Injected fault ${status}.`, field: null, help: null }]),
      }),
      truncatedResponse: {
        contentType: 'application/json',
        body: '{"errors":[{"message":"Bad Req',
      },
    }),
  );

  router.use((req: Request, res: Response, next: NextFunction) => {
    if (!hasApiKey(req.get('authorization'), options.apiKey)) {
      logger.info({ status: 401 }, 'sandbox SendGrid request has no valid API key');
      const message = 'The API key is missing or invalid. Send Authorization: Bearer <API key>.';
      res.status(401).json(errorBody([{ message, field: null, help: null }]));
      return;
    }
    next();
  });

  router.post(
    '/v3/mail/send',
    express.json({ limit: MAX_BODY_SIZE }),
    (req: Request, res: Response) => {
      const validation = validateMailSendRequest(req.body);
      if (!validation.success) {
        const fields = validation.errors.map((error) => error.field);
        logger.info({ status: 400, fields }, 'sandbox SendGrid request rejected');
        res.status(400).json(errorBody(validation.errors));
        return;
      }

      const messageId = randomBytes(16).toString('base64url');
      captureMessages(mailbox, validation.mail, messageId, new Date());
      res.status(202).set('X-Message-Id', messageId).end();
    },
  );

  router.use((_req: Request, res: Response) => {
    res.status(404).json(
      errorBody([
        {
          message: 'Not found: the stand-in serves only POST /v3/mail/send.',
          field: null,
          help: null,
        },
      ]),
    );
  });

  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }

    const clientError = toBodyParserError(error);
    if (clientError) {
      logger.info({ status: clientError.status }, 'sandbox SendGrid request body rejected');
      res
        .status(clientError.status)
        .json(errorBody([{ message: clientError.message, field: null, help: null }]));
      return;
    }

    logger.error({ err: error }, 'sandbox SendGrid request failed');
    res.status(500).json(
      errorBody([
        {
          message: 'Internal error in the SendGrid stand-in. See the server log.',
          field: null,
          help: null,
        },
      ]),
    );
  });

  return router;
}

/** Stores one message per recipient (to, cc and bcc) of each personalization. */
function captureMessages(
  mailbox: Mailbox,
  mail: MailSendRequest,
  messageId: string,
  sentAt: Date,
): void {
  const text = mail.content?.find((item) => item.type === 'text/plain')?.value ?? null;
  const html = mail.content?.find((item) => item.type === 'text/html')?.value ?? null;
  const attachments = (mail.attachments ?? []).map((attachment) => ({
    filename: attachment.filename,
    type: attachment.type ?? null,
    content: Buffer.from(attachment.content, 'base64').toString('utf8'),
  }));

  for (const personalization of mail.personalizations) {
    const recipients = [
      ...personalization.to,
      ...(personalization.cc ?? []),
      ...(personalization.bcc ?? []),
    ];
    for (const recipient of recipients) {
      mailbox.add({
        messageId,
        from: mail.from.email,
        to: recipient.email,
        subject: personalization.subject ?? mail.subject ?? '',
        text,
        html,
        attachments,
        sentAt: sentAt.toISOString(),
      });
    }
  }
}

function errorBody(errors: SendGridError[]): { errors: SendGridError[] } {
  return { errors };
}

function hasApiKey(authorization: string | undefined, apiKey: string): boolean {
  const token = parseBearerToken(authorization);
  return token !== undefined && secretsEqual(token, apiKey);
}
