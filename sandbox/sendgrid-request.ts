import { z } from 'zod';

/** One entry of a SendGrid v3 error response body, `{ errors: SendGridError[] }`. */
export interface SendGridError {
  message: string;
  field: string | null;
  help: string | null;
}

const emailAddressSchema = z.looseObject({
  email: z.email({ error: 'must be a valid email address.' }),
  name: z.string().optional(),
});

const personalizationSchema = z.looseObject({
  to: z
    .array(emailAddressSchema, { error: 'is required: a list of recipients.' })
    .min(1, 'must name at least one recipient.'),
  cc: z.array(emailAddressSchema).optional(),
  bcc: z.array(emailAddressSchema).optional(),
  subject: z.string().min(1, 'must not be empty.').optional(),
});

const contentSchema = z.looseObject({
  type: z.string().min(1, 'must be a MIME type such as text/plain.'),
  value: z.string().min(1, 'must not be empty.'),
});

/** A SendGrid v3 attachment: base64 `content`, a `filename`, and an optional MIME `type`. */
const attachmentSchema = z.looseObject({
  content: z.base64('must be base64.'),
  filename: z.string().min(1, 'must not be empty.'),
  type: z.string().min(1, 'must be a MIME type such as text/calendar.').optional(),
  disposition: z.enum(['attachment', 'inline']).optional(),
});

/**
 * The part of the SendGrid v3 mail/send body that the stand-in checks. Other fields, such as
 * `mail_settings` or `categories`, are accepted and ignored.
 */
const mailSendSchema = z.looseObject(
  {
    personalizations: z
      .array(personalizationSchema, { error: 'is required: a list of personalizations.' })
      .min(1, 'must contain at least one personalization.'),
    from: emailAddressSchema.optional(),
    subject: z.string().min(1, 'must not be empty.').optional(),
    content: z.array(contentSchema).min(1, 'must contain at least one content item.').optional(),
    template_id: z.string().optional(),
    attachments: z.array(attachmentSchema).optional(),
  },
  { error: 'The request body must be a JSON object.' },
);

export type MailSendRequest = z.infer<typeof mailSendSchema> & { from: { email: string } };

export type MailSendValidation =
  | { success: true; mail: MailSendRequest }
  | { success: false; errors: SendGridError[] };

/**
 * Validates a mail/send body and returns every problem at once, as SendGrid does, each naming its
 * field as a dotted path such as `personalizations.0.to.0.email`.
 */
export function validateMailSendRequest(body: unknown): MailSendValidation {
  const parsed = mailSendSchema.safeParse(body);
  const errors: SendGridError[] = parsed.success ? [] : parsed.error.issues.map(toSendGridError);

  // The required fields below are checked here instead of in the schema, so that they are
  // reported even when another field is invalid.
  const input: Record<string, unknown> =
    typeof body === 'object' && body !== null ? { ...body } : {};
  if (input.from === undefined) {
    errors.push(fieldError('from', 'is required: an object with an email address.'));
  }
  if (input.template_id === undefined) {
    if (
      !isNonEmptyString(input.subject) &&
      !everyPersonalizationHasSubject(input.personalizations)
    ) {
      errors.push(
        fieldError(
          'subject',
          'is required unless every personalization has one or template_id is set.',
        ),
      );
    }
    if (input.content === undefined) {
      errors.push(fieldError('content', 'is required unless template_id is set.'));
    }
  }
  if (
    parsed.success &&
    (parsed.data.content?.findIndex((item) => item.type === 'text/plain') ?? -1) > 0
  ) {
    errors.push(fieldError('content', 'must list text/plain first.'));
  }

  if (!parsed.success || errors.length > 0 || !parsed.data.from) {
    return { success: false, errors };
  }
  return { success: true, mail: { ...parsed.data, from: parsed.data.from } };
}

function everyPersonalizationHasSubject(personalizations: unknown): boolean {
  return (
    Array.isArray(personalizations) &&
    personalizations.length > 0 &&
    personalizations.every(
      (personalization: unknown) =>
        typeof personalization === 'object' &&
        personalization !== null &&
        isNonEmptyString((personalization as Record<string, unknown>).subject),
    )
  );
}

function isNonEmptyString(value: unknown): boolean {
  return typeof value === 'string' && value !== '';
}

function toSendGridError(issue: z.core.$ZodIssue): SendGridError {
  const field = issue.path.map(String).join('.');
  return field
    ? fieldError(field, issue.message)
    : { message: issue.message, field: null, help: null };
}

function fieldError(field: string, message: string): SendGridError {
  return { message: `${field} ${message}`, field, help: null };
}
