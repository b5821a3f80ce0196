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
