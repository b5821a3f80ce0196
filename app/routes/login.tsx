import {
  Form,
  redirect,
  useActionData,
  useLoaderData,
  useNavigation,
  useSearchParams,
} from 'react-router';
import { z } from 'zod';

import { ErrorSummary, pageTitle } from '~/components/error-summary';
import { TextField } from '~/components/text-field';
import {
  canEmailSignInCodes,
  EMAIL_UNAVAILABLE_MESSAGE,
  emailSchema,
  requestSignInCode,
} from '~/auth/email-code.server';
import { storeLoginEmail } from '~/auth/login-email-cookie.server';
import { signInFormError } from '~/auth/page-sign-in.server';
import { getPatientSession } from '~/auth/session.server';
import { readFormFields, validate } from '~/http/api.server';
import { forwardRetryAfter } from '~/http/request-failure.server';
import { safeRedirectPath } from '~/http/safe-redirect';

import type { Route } from './+types/login';

/** A sign-in limit's Retry-After reaches the page's response. */
export const headers: Route.HeadersFunction = forwardRetryAfter;

const sendCodeFormSchema = z.object({ email: emailSchema, redirectTo: z.string().optional() });

export async function loader({ request }: Route.LoaderArgs) {
  if (await getPatientSession(request)) throw redirect('/');
  return { emailUnavailable: canEmailSignInCodes() ? null : EMAIL_UNAVAILABLE_MESSAGE };
}

export async function action({ request, context }: Route.ActionArgs) {
  const fields = await readFormFields(request);
  const values = { email: fields.email ?? '' };

  try {
    const form = validate(sendCodeFormSchema, fields);
    await requestSignInCode(form.email, {
      clientIp: context.clientIp,
      requestId: context.requestId,
    });

    const redirectTo = safeRedirectPath(form.redirectTo);
    const verifyUrl =
      redirectTo === '/' ? '/login/verify' : `/login/verify?${new URLSearchParams({ redirectTo })}`;
    return redirect(verifyUrl, { headers: { 'set-cookie': await storeLoginEmail(form.email) } });
  } catch (error) {
    return signInFormError(error, values);
  }
}

export default function Login() {
  const { emailUnavailable } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const [searchParams] = useSearchParams();
  const errors = actionData?.errors;
  const emailError = errors?.fields?.email;
  const sending = navigation.state === 'submitting';

  return (
    <section className="narrow" aria-labelledby="login-heading">
      <title>{pageTitle('Sign in', errors !== undefined)}</title>
      <h1 id="login-heading">Sign in</h1>
      {searchParams.get('signedOut') ? (
        <p role="status" className="notice">
          You have signed out.
        </p>
      ) : null}
      <p>Enter the email address your care team has on file. We will email you a 6-digit code.</p>
      {emailUnavailable && !errors ? (
        <p role="status" className="notice">
          {emailUnavailable}
        </p>
      ) : null}

      <ErrorSummary message={errors?.formError} fields={errors?.fields} />

      <Form method="post" noValidate>
        <input type="hidden" name="redirectTo" value={searchParams.get('redirectTo') ?? ''} />
        <TextField
          name="email"
          label="Email address"
          type="email"
          autoComplete="email"
          inputMode="email"
          required
          defaultValue={actionData?.values.email}
          error={emailError}
        />
        <button type="submit" disabled={sending}>
          {sending ? 'Sending code…' : 'Email me a code'}
        </button>
      </Form>
      <p>
        Have a Canvas account from your care team? <a href="/auth/canvas">Sign in with Canvas</a>
      </p>
    </section>
  );
}
