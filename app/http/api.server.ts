import { z } from 'zod';

/**
 * Largest request body the portal reads, for JSON and forms alike. A 2,000-character message of
 * 4-byte characters is 24,000 bytes once form-encoded, so it fits with room for the other fields.
 */
export const MAX_BODY_BYTES = 32 * 1024;

export interface ApiErrorBody {
  error: { code: string; message: string; fields?: Record<string, string> };
}

/** Builds the JSON error response of the API, for `throw` or `return`. */
export function apiError(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
  fields?: Record<string, string>,
): Response {
  const body: ApiErrorBody = { error: { code, message, ...(fields ? { fields } : {}) } };
  return Response.json(body, { status, headers: { 'cache-control': 'no-store', ...headers } });
}

/** A request the portal rejects before any work, with the status and message the client receives. */
export class BadRequestError extends Error {
  override name = 'BadRequestError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
  }

  toResponse(): Response {
    return apiError(this.status, this.code, this.message, undefined, this.fields);
  }
}

/**
 * Reads the body as text, rejecting one over MAX_BODY_BYTES with 413 whatever its
 * Content-Length claims.
 */
export async function readBodyText(request: Request): Promise<string> {
  const declaredLength = Number(request.headers.get('content-length') ?? '0');
  if (declaredLength > MAX_BODY_BYTES) throw tooLarge();

  const reader = request.body?.getReader();
  if (!reader) return '';

  const chunks: Uint8Array[] = [];
  let totalBytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    totalBytes += value.byteLength;
    if (totalBytes > MAX_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooLarge(): BadRequestError {
  return new BadRequestError(
    413,
    'body_too_large',
    `The request body is larger than ${MAX_BODY_BYTES} bytes.`,
  );
}

/**
 * Reads a JSON body and validates it with `schema`. Rejects a Content-Type other than
 * application/json (415), invalid JSON (400) and fields the schema does not name (400).
 */
export async function readJsonBody<T extends z.ZodType>(
  request: Request,
  schema: T,
): Promise<z.infer<T>> {
  assertJsonContentType(request);

  const text = await readBodyText(request);
  return validate(schema, parseJson(text));
}

const EMPTY_BODY_SCHEMA = z.strictObject({});

/**
 * Reads the body of an endpoint that takes no input. No body, or JSON `{}`, passes. Any field is
 * rejected with 400, so a client that sends `patientId` or `status` learns that it was not used.
 */
export async function readEmptyJsonBody(request: Request): Promise<void> {
  const text = await readBodyText(request);
  if (text.trim() === '') return;

  assertJsonContentType(request);
  validate(EMPTY_BODY_SCHEMA, parseJson(text));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
}

/**
 * Rejects a body that is not application/json with 415. Browsers send form and text bodies
 * cross-site without a preflight, so the JSON API accepts JSON only.
 */
export function assertJsonContentType(request: Request): void {
  const contentType = request.headers.get('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new BadRequestError(
      415,
      'unsupported_media_type',
      'Send the request body as application/json.',
    );
  }
}

/** Reads an application/x-www-form-urlencoded body into plain fields. */
export async function readFormFields(request: Request): Promise<Record<string, string>> {
  const text = await readBodyText(request);
  return Object.fromEntries(new URLSearchParams(text));
}

/** Validates `input`, turning zod issues into a 400 with one message per field. */
export function validate<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;

  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) fields[key] = 'This field is not accepted.';
      continue;
    }
    const name = issue.path.join('.') || 'body';
    fields[name] ??= issue.message;
  }
  throw new BadRequestError(400, 'invalid_request', 'Some fields are missing or invalid.', fields);
}

/** Converts a BadRequestError into its response and rethrows anything else. */
export function handleBadRequest(error: unknown): Response {
  if (error instanceof BadRequestError) return error.toResponse();
  throw error;
}

/** 405 for a method the endpoint does not serve, naming the one it does. */
export function methodNotAllowed(allowed: string): Response {
  return apiError(405, 'method_not_allowed', `Use ${allowed} for this endpoint.`, {
    allow: allowed,
  });
}
