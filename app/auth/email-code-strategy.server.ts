import { Strategy } from 'remix-auth/strategy';
import { z } from 'zod';

import { readFormFields, readJsonBody, validate } from '~/http/api.server';

import { codeSchema, emailSchema, verifySignInCode } from './email-code.server';

export const verifyCodeSchema = z.strictObject({ email: emailSchema, code: codeSchema });

export interface EmailCodeVerifyParams {
  patientId: string;
  request: Request;
}

/**
 * remix-auth strategy for the second step of email sign-in: it reads `{ email, code }` from a
 * JSON or form body and checks the code against the challenge table. Attempts are counted in
 * Postgres; a cookie-held counter (as in remix-auth-totp) could be replayed to reset it.
 */
export class EmailCodeStrategy<User> extends Strategy<User, EmailCodeVerifyParams> {
  name = 'email-code';

  override async authenticate(request: Request): Promise<User> {
    const isJson = (request.headers.get('content-type') ?? '')
      .toLowerCase()
      .startsWith('application/json');
    const input = isJson
      ? await readJsonBody(request, verifyCodeSchema)
      : validate(verifyCodeSchema.strip(), await readFormFields(request));

    const patientId = await verifySignInCode(input.email, input.code, {
      requestId: request.headers.get('x-request-id') ?? undefined,
    });
    return this.verify({ patientId, request });
  }
}
