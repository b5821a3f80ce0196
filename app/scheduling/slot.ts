/**
 * Open slots and appointments as the portal's pages and JSON API return them. Client-safe: the
 * page components import these types.
 */

/** A bookable time, exactly as `GET /api/patient/availability` returns it and booking takes it. */
export interface OpenSlot {
  /** FHIR `Slot.id`. */
  slotId: string;
  /** ISO 8601 with the UTC offset of `timeZone`, e.g. `2027-11-07T01:30:00-05:00`. */
  start: string;
  /** End of the visit (start plus the visit length), in the same form. */
  end: string;
  /** IANA zone the times are written in: the patient's, else the clinic's. */
  timeZone: string;
  practitioner: { id: string; name: string };
}

export interface Availability {
  /** The calendar date asked for, `YYYY-MM-DD` in `timeZone`. */
  date: string;
  timeZone: string;
  practitioner: { id: string; name: string };
  slots: OpenSlot[];
}

export type AppointmentState = 'upcoming' | 'past' | 'cancelled';

export interface PatientAppointment {
  /** FHIR `Appointment.id`. */
  id: string;
  start: string;
  end: string;
  state: AppointmentState;
  /** FHIR `Appointment.status`. */
  status: string;
  description: string;
  practitionerName: string | undefined;
  /** The Zoom join link, for upcoming visits only. */
  joinUrl: string | undefined;
  /** When the join link opens: 15 minutes before the start. */
  joinOpensAt: string;
  /** False from the change cutoff before the start, and for past or cancelled visits. */
  canChange: boolean;
}

/** Minutes before the start from which the page enables the join link. */
export const JOIN_OPENS_MINUTES_BEFORE = 15;
