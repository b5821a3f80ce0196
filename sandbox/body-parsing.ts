import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';

const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/**
 * Creates middleware that parses an `application/x-www-form-urlencoded` body into a
 * URLSearchParams on `req.body`, which keeps repeated fields in order. Other bodies are left alone.
 */
export function parseFormBody(): RequestHandler[] {
  const readText = express.text({ type: FORM_CONTENT_TYPE, limit: '100kb' });
  const toSearchParams = (req: Request, _res: Response, next: NextFunction): void => {
    if (typeof req.body === 'string' && req.is(FORM_CONTENT_TYPE)) {
      req.body = new URLSearchParams(req.body);
    }
    next();
  };
  return [readText, toSearchParams];
}

/**
 * Creates middleware that runs `parsers` in order and keeps a parser's error on `res.locals`
 * instead of passing it on, until `raiseDeferredBodyError` raises it. Middleware between the two
 * receives every request, even one with a bad body. Reading the body first also lets a request that a
 * fault delays be handled after its client has disconnected, because by then the whole body has
 * been received.
 */
export function parseBodyDeferringErrors(parsers: RequestHandler[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const runParser = (index: number): void => {
      const parser = parsers[index];
      if (!parser) {
        next();
        return;
      }
      void parser(req, res, (error?: unknown) => {
        if (error) {
          res.locals.deferredBodyError = error;
          next();
          return;
        }
        runParser(index + 1);
      });
    };
    runParser(0);
  };
}

/** Creates middleware that raises the error kept by `parseBodyDeferringErrors`, if any. */
export function raiseDeferredBodyError(): RequestHandler {
  return (_req: Request, res: Response, next: NextFunction): void => {
    next(res.locals.deferredBodyError);
  };
}

/**
 * Returns the status and message of an error that a body parser raised for a bad request, such as
 * invalid JSON (400) or a body that is too large (413). Returns undefined for any other error.
 */
export function toBodyParserError(error: unknown): { status: number; message: string } | undefined {
  if (typeof error !== 'object' || error === null) {
    return undefined;
  }

  const { status, expose, message } = error as {
    status?: unknown;
    expose?: unknown;
    message?: unknown;
  };
  if (typeof status !== 'number' || status < 400 || status >= 500 || expose !== true) {
    return undefined;
  }
  return { status, message: typeof message === 'string' ? message : 'Invalid request body.' };
}
