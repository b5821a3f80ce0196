import express, { type Request, type Response, type Router } from 'express';

import { renderMailPage } from './mail-page.js';
import type { Mailbox } from './mailbox.js';

/**
 * Creates the developer view of the mailbox: `GET /` (an HTML page), `GET /messages` (JSON) and
 * `DELETE /messages`. Both GETs take an optional `to` query parameter that filters by recipient.
 * These routes are not part of the SendGrid stand-in, so faults and call counters skip them.
 */
export function createMailViewerRouter(mailbox: Mailbox): Router {
  const router = express.Router();

  router.get('/', (req: Request, res: Response) => {
    const recipient = readRecipient(req);
    res
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(renderMailPage(mailbox.list(recipient), recipient));
  });

  router.get('/messages', (req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store').json(mailbox.list(readRecipient(req)));
  });

  router.delete('/messages', (_req: Request, res: Response) => {
    mailbox.clear();
    res.status(204).end();
  });

  return router;
}

function readRecipient(req: Request): string | undefined {
  const value = req.query.to;
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}
