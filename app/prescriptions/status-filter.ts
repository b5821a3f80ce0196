/** Status filters of the prescription list, in the order the page shows them. */
export const PRESCRIPTION_STATUS_FILTERS = [
  'all',
  'active',
  'on-hold',
  'completed',
  'stopped',
  'cancelled',
] as const;
export type PrescriptionStatusFilter = (typeof PRESCRIPTION_STATUS_FILTERS)[number];

/** Reads the `status` filter of a URL: absent means all; undefined for a value that is not a filter. */
export function parseStatusFilter(value: string | null): PrescriptionStatusFilter | undefined {
  if (value === null || value === '') return 'all';
  return PRESCRIPTION_STATUS_FILTERS.find((filter) => filter === value);
}
