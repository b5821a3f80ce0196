import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';

import { toBodyParserError } from './body-parsing.js';
import {
  faultRulesSchema,
  findUnsupportedFilter,
  upstreamNameSchema,
  UPSTREAM_NAMES,
  type FaultRegistry,
} from './faults.js';
import type { CallCounters } from './stats.js';

export interface ControlOptions {
  faults: FaultRegistry;
  counters: CallCounters;
  logger: Logger;
}

/**
 * Creates the routes that tests and benchmarks use to steer the stand-ins:
 * `GET|DELETE /faults`, `PUT|DELETE /faults/:upstream` and `GET|DELETE /stats`.
 */
export function createControlRouter(options: ControlOptions): Router {
  const { faults, counters, logger } = options;
  const router = express.Router();

  router.get('/faults', (_req: Request, res: Response) => {
    res.json(faults.toJSON());
  });

  router.delete('/faults', (_req: Request, res: Response) => {
    faults.clear();
    logger.info('sandbox faults cleared');
    res.status(204).end();
  });

  router.put('/faults/:upstream', express.json(), (req: Request, res: Response) => {
    const upstream = upstreamNameSchema.safeParse(req.params.upstream);
    if (!upstream.success) {
      res.status(400).json({ error: unknownUpstreamMessage(req.params.upstream) });
      return;
    }

    const settings = faultRulesSchema.safeParse(req.body);
    if (!settings.success) {
      res.status(400).json({
        error: 'Invalid fault settings. sandbox/README.md lists the fields.',
        issues: z.flattenError(settings.error),
      });
      return;
    }
    const unsupported = findUnsupportedFilter(upstream.data, settings.data);
    if (unsupported) {
      res.status(400).json({ error: unsupported });
      return;
    }

    faults.set(upstream.data, settings.data);
    logger.info({ upstream: upstream.data, faults: settings.data }, 'sandbox faults set');
    res.json(faults.get(upstream.data));
  });

  router.delete('/faults/:upstream', (req: Request, res: Response) => {
    const upstream = upstreamNameSchema.safeParse(req.params.upstream);
    if (!upstream.success) {
      res.status(400).json({ error: unknownUpstreamMessage(req.params.upstream) });
      return;
    }

    faults.delete(upstream.data);
    logger.info({ upstream: upstream.data }, 'sandbox faults cleared');
    res.status(204).end();
  });

  router.get('/stats', (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store').json(counters.toJSON());
  });

  router.delete('/stats', (_req: Request, res: Response) => {
    counters.reset();
    res.status(204).end();
  });

  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const clientError = toBodyParserError(error);
    if (!clientError || res.headersSent) {
      next(error);
      return;
    }
    logger.info({ status: clientError.status }, 'sandbox control request body rejected');
    res.status(clientError.status).json({ error: clientError.message });
  });

  return router;
}

function unknownUpstreamMessage(name: unknown): string {
  return `No stand-in is named "${String(name)}". Use one of: ${UPSTREAM_NAMES.join(', ')}.`;
}
