import { z } from 'zod';

import { isKnownTimeZone } from '~/patients/time-zone';

const FHIR_ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

const instantSchema = z
  .string()
  .regex(
    ISO_WITH_OFFSET,
    'Use an ISO 8601 time with its offset, as the availability list gives it.',
  )
  .refine((value) => !Number.isNaN(Date.parse(value)), 'This time does not exist.');

/**
 * A slot object as the availability endpoint returned it. Booking trusts none of it: the
 * slot is read again from FHIR and its times must match.
 */
export const slotInputSchema = z.strictObject({
  slotId: z.string().regex(FHIR_ID_PATTERN, 'Choose a time from the list of open slots.'),
  start: instantSchema,
  end: instantSchema,
  timeZone: z.string().min(1).max(64).refine(isKnownTimeZone, 'Unknown time zone.'),
  practitioner: z.strictObject({
    id: z.string().regex(FHIR_ID_PATTERN, 'Choose a time from the list of open slots.'),
    name: z.string().max(200),
  }),
});

export type SlotInput = z.infer<typeof slotInputSchema>;

/** Names of the form fields that carry a slot object flattened, as slotFromFormFields reads them. */
export const SLOT_FORM_FIELDS = [
  'slotId',
  'start',
  'end',
  'timeZone',
  'practitionerId',
  'practitionerName',
] as const;

/** Reads a slot from the page's form fields, which carry the slot object flattened. */
export function slotFromFormFields(fields: Record<string, string>): unknown {
  return {
    slotId: fields.slotId,
    start: fields.start,
    end: fields.end,
    timeZone: fields.timeZone,
    practitioner: { id: fields.practitionerId, name: fields.practitionerName ?? '' },
  };
}

export const cancelInputSchema = z.strictObject({
  reason: z
    .string()
    .trim()
    .max(500, 'Keep the reason under 500 characters.')
    .optional()
    .transform((value) => (value === '' ? undefined : value)),
});

/**
 * Returns a chosen slot fit to show on a confirm step: valid, for the patient's practitioner,
 * and with the practitioner's name and time zone from the server instead of the request.
 * Returns null for anything else, which the page treats as no choice.
 */
export function slotToConfirm(
  candidate: unknown,
  context: { timeZone: string; practitioner: { id: string; name: string } },
): SlotInput | null {
  const parsed = slotInputSchema.safeParse(candidate);
  if (!parsed.success || parsed.data.practitioner.id !== context.practitioner.id) return null;
  return { ...parsed.data, timeZone: context.timeZone, practitioner: context.practitioner };
}
