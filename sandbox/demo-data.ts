/**
 * The patients seeded into the sandbox FHIR server, for sign-in hints, tests and server.ts.
 * Every person here is made up. The app must never import this module.
 */

export interface DemoPatient {
  /** Patient.id on the sandbox FHIR server, e.g. `demo-ava` for `Patient/demo-ava`. */
  id: string;
  /** The email telecom, which the sign-in code is sent to. */
  email: string;
  givenName: string;
}

export const DEMO_PATIENTS: readonly DemoPatient[] = [
  { id: 'demo-ava', email: 'ava.reyes@example.com', givenName: 'Ava' },
  { id: 'demo-marcus', email: 'marcus.chen@example.com', givenName: 'Marcus' },
  { id: 'demo-priya', email: 'priya.nair@example.com', givenName: 'Priya' },
];

/**
 * The official FHIR R4 example patient `pat1` ("Donald Duck"), which owns the 40 example
 * MedicationRequests. The example records the name as family "Donald", given "Duck", and has no
 * email, so the sandbox adds this one.
 */
export const FIXTURE_PATIENT: DemoPatient = {
  id: 'pat1',
  email: 'donald.duck@example.com',
  givenName: 'Duck',
};
