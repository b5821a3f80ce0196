import { z } from 'zod';

import { describeCodeLifetime, emailSchema, requestSignInCode } from '~/auth/email-code.server';
import { signInErrorResponse } from '~/auth/sign-in-response.server';
import { methodNotAllowed, readJsonBody } from '~/http/api.server';

import type { Route } from './+types/api.patient.auth.send-code';

const sendCodeSchema = z.strictObject({ email: emailSchema });

export function loader() {
  return methodNotAllowed('POST');
}

export async function action({ request, context }: Route.ActionArgs) {
  if (request.method !== 'POST') return methodNotAllowed('POST');

  try {
    const { email } = await readJsonBody(request, sendCodeSchema);
    await requestSignInCode(email, { clientIp: context.clientIp, requestId: context.requestId });
    return Response.json(
      {
        status: 'sent',
        message: `If this email belongs to a patient, a 6-digit code is on its way. It expires in ${describeCodeLifetime()}.`,
      },
      { status: 202, headers: { 'cache-control': 'no-store' } },
    );
  } catch (error) {
    return signInErrorResponse(error);
  }
}
