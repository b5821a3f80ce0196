/** A sign-in step that failed for a reason the patient can act on; `message` is shown to them. */
export class SignInError extends Error {
  override name = 'SignInError';

  constructor(
    readonly status: 400 | 401 | 429 | 503,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}
