/**
 * The patients seeded into the sandbox FHIR server, for sign-in hints, tests and server.ts.
 * Every person here is made up. The app must never import this module.
 */

/** A patient who can sign in to the portal on the sandbox. */
export interface SandboxPatient {
  /** Patient.id on the sandbox FHIR server, e.g. `demo-ava` for `Patient/demo-ava`. */
  id: string;
  /** The email telecom, which the sign-in code is sent to. */
  email: string;
  givenName: string;
}

/** A synthetic demo patient. */
export interface DemoPatient extends SandboxPatient {
  /**
   * IANA time zone of the patient's home city, also stored on the Patient in the extension
   * `http://hl7.org/fhir/StructureDefinition/timezone`.
   */
  timeZone: string;
}

export const DEMO_PATIENTS: readonly DemoPatient[] = [
  {
    id: 'demo-ava',
    email: 'ava.reyes@example.com',
    givenName: 'Ava',
    timeZone: 'America/Chicago',
  },
  {
    id: 'demo-marcus',
    email: 'marcus.chen@example.com',
    givenName: 'Marcus',
    timeZone: 'America/Los_Angeles',
  },
  {
    id: 'demo-priya',
    email: 'priya.nair@example.com',
    givenName: 'Priya',
    timeZone: 'America/Chicago',
  },
];

/**
 * The official FHIR R4 example patient `pat1` ("Donald Duck"), which owns the 40 example
 * MedicationRequests. The example records the name as family "Donald", given "Duck", and has no
 * email, so the sandbox adds this one. It has no generalPractitioner, no CareTeam and no messages.
 */
export const FIXTURE_PATIENT: SandboxPatient = {
  id: 'pat1',
  email: 'donald.duck@example.com',
  givenName: 'Duck',
};

/**
 * The official FHIR R4 example patient `example` ("Peter James Chalmers"), the subject of the three
 * official example Communications and of the example CareTeam. The example has no email, so the
 * sandbox adds this one.
 */
export const FIXTURE_MESSAGING_PATIENT: SandboxPatient = {
  id: 'example',
  email: 'peter.chalmers@example.com',
  givenName: 'Peter',
};

/** Priya's CareTeam, her only link to a practitioner, because her Patient has no generalPractitioner. */
export const DEMO_CARE_TEAM_ID = 'demo-priya-care-team';

/** Priya's conversation with Dr. Okafor, long enough that `_count=100` needs two pages. */
export const DEMO_LONG_CONVERSATION = {
  patientId: 'demo-priya',
  practitionerId: 'demo-dr-okafor',
  messageCount: 130,
} as const;

/**
 * A practitioner message in Ava's thread whose HTML the portal must sanitize: it contains a
 * `<script>` element, an `<img>` with an `onerror` handler and a `javascript:` link. `safeText` is
 * text of the message that must still be shown after sanitizing.
 */
export const UNSAFE_HTML_MESSAGE = {
  id: 'demo-ava-message-005',
  patientId: 'demo-ava',
  safeText: 'Your thyroid results are in and look good.',
} as const;

/**
 * A practitioner message in Ava's thread with simple HTML of the kind Canvas stores: paragraphs,
 * a list and `<strong>`. `safeText` is a part of its text.
 */
export const SIMPLE_HTML_MESSAGE = {
  id: 'demo-ava-message-004',
  patientId: 'demo-ava',
  safeText: 'take it on an empty stomach',
} as const;
