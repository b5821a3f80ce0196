import {
  Form,
  Link,
  redirect,
  useActionData,
  useLoaderData,
  useNavigation,
  useSearchParams,
} from 'react-router';

import { ErrorSummary, pageTitle } from '~/components/error-summary';
import { TextField } from '~/components/text-field';
import { getAuthenticator, startSession } from '~/auth/authenticator.server';
import { describeCodeLifetime, enforceVerifyLimit } from '~/auth/email-code.server';
import { clearLoginEmail, readLoginEmail } from '~/auth/login-email-cookie.server';
import { signInFormError } from '~/auth/page-sign-in.server';
import { getPatientSession } from '~/auth/session.server';
import { readFormFields } from '~/http/api.server';
import { safeRedirectPath } from '~/http/safe-redirect';
import { forwardRetryAfter } from '~/http/request-failure.server';

import type { Route } from './+types/login.verify';

/** A sign-in limit's Retry-After reaches the page's response. */
export const headers: Route.HeadersFunction = forwardRetryAfter;

export async function loader({ request }: Route.LoaderArgs) {
  if (await getPatientSession(request)) throw redirect('/');
  return { email: (await readLoginEmail(request)) ?? '', codeLifetime: describeCodeLifetime() };
}

export async function action({ request, context }: Route.ActionArgs) {
  const fields = await readFormFields(request.clone());
  const values = { email: fields.email ?? '' };
  const redirectTo = safeRedirectPath(new URL(request.url).searchParams.get('redirectTo'));

  try {
    await enforceVerifyLimit(context.clientIp);
    const signedIn = await getAuthenticator().authenticate('email-code', request);
    const headers = new Headers();
    headers.append('set-cookie', await startSession(request, signedIn));
    headers.append('set-cookie', await clearLoginEmail());
    return redirect(redirectTo, { headers });
  } catch (error) {
    return signInFormError(error, values);
  }
}

export default function VerifyCode() {
  const { email: rememberedEmail, codeLifetime } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const [searchParams] = useSearchParams();
  const errors = actionData?.errors;
  const email = actionData?.values.email || rememberedEmail;
  const codeError = errors?.fields?.code;
  const emailError = errors?.fields?.email;
  const verifying =
    navigation.state === 'submitting' && navigation.formAction?.startsWith('/login/verify');

  return (
    <section className="narrow" aria-labelledby="verify-heading">
      <title>{pageTitle('Enter your code', errors !== undefined)}</title>
      <h1 id="verify-heading">Enter your code</h1>
      <p>
        {email
          ? 'We sent a 6-digit code to the email address you entered.'
          : 'Enter your email address and the 6-digit code we sent you.'}{' '}
        The code expires {codeLifetime} after it was sent.
      </p>

      <ErrorSummary message={errors?.formError} fields={errors?.fields} />

      <Form method="post" noValidate>
        {rememberedEmail ? (
          <input type="hidden" name="email" value={email} />
        ) : (
          <TextField
            name="email"
            label="Email address"
            type="email"
            autoComplete="email"
            required
            defaultValue={email}
            error={emailError}
          />
        )}
        <TextField
          name="code"
          label="6-digit code"
          type="text"
          inputMode="numeric"
          autoComplete="one-time-code"
          required
          error={codeError}
          hint="Digits only, for example 123456."
        />
        <button type="submit" disabled={verifying}>
          {verifying ? 'Checking…' : 'Sign in'}
        </button>
      </Form>

      <p>
        No email after a few minutes? Check your spam folder, or{' '}
        <Link
          to={
            searchParams.get('redirectTo')
              ? `/login?${new URLSearchParams({ redirectTo: searchParams.get('redirectTo') ?? '/' })}`
              : '/login'
          }
        >
          request a new code
        </Link>
        .
      </p>
    </section>
  );
}
