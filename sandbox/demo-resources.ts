import type { WithId } from '@medplum/core';
import type {
  Appointment,
  CareTeam,
  Communication,
  MedicationRequest,
  Patient,
  Practitioner,
  Reference,
  Resource,
  Schedule,
  Slot,
} from '@medplum/fhirtypes';

import {
  buildAvaThread,
  buildPriyaThread,
  buildShortThread,
  type DemoMessage,
} from './demo-conversations.js';
import { DEMO_CARE_TEAM_ID, DEMO_PATIENTS, type DemoPatient } from './demo-data.js';

const RXNORM_SYSTEM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
const BIRTH_SEX_URL = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex';
const TIME_ZONE_URL = 'http://hl7.org/fhir/StructureDefinition/timezone';

const DAY_MS = 24 * 60 * 60 * 1000;
const MINUTE_MS = 60 * 1000;

/** Length of a seeded Slot and Appointment in minutes. */
const VISIT_MINUTES = 30;

interface DemoPractitioner {
  id: string;
  givenName: string;
  familyName: string;
  /** A made-up NPI with a valid check digit. */
  npi: string;
}

const DR_OKAFOR: DemoPractitioner = {
  id: 'demo-dr-okafor',
  givenName: 'Nia',
  familyName: 'Okafor',
  npi: '1987654328',
};
const DR_LINDQVIST: DemoPractitioner = {
  id: 'demo-dr-lindqvist',
  givenName: 'Erik',
  familyName: 'Lindqvist',
  npi: '1555555550',
};

export const DEMO_PRACTITIONER_IDS: readonly string[] = [DR_OKAFOR.id, DR_LINDQVIST.id];

/** Returns the id of a practitioner's Schedule, in Canvas's `Location.<id>-Staff.<id>` form. */
export function scheduleIdFor(practitionerId: string): string {
  return `Location.1-Staff.${practitionerId}`;
}

interface Medication {
  rxnorm: string;
  display: string;
  dosage: string;
}

// NOTE: RxNorm codes of common generics, not checked against a current RxNorm release.
const LEVOTHYROXINE: Medication = {
  rxnorm: '966222',
  display: 'Levothyroxine Sodium 0.05 MG Oral Tablet',
  dosage: 'Take 1 tablet by mouth every morning on an empty stomach.',
};
const LISINOPRIL: Medication = {
  rxnorm: '314076',
  display: 'lisinopril 10 MG Oral Tablet',
  dosage: 'Take 1 tablet by mouth once daily.',
};
const AMLODIPINE: Medication = {
  rxnorm: '197361',
  display: 'amlodipine 5 MG Oral Tablet',
  dosage: 'Take 1 tablet by mouth once daily.',
};
const METFORMIN: Medication = {
  rxnorm: '861007',
  display: 'metformin hydrochloride 500 MG Oral Tablet',
  dosage: 'Take 1 tablet by mouth twice daily with meals.',
};

/** Demographics of a demo patient beyond DemoPatient. All of it is made up. */
interface DemoPatientDetails {
  patient: DemoPatient;
  familyName: string;
  gender: 'female' | 'male';
  birthSex: 'F' | 'M';
  birthDate: string;
  /** A US number in the 555-0100 to 555-0199 range reserved for fiction. */
  phone: string;
  address: { line: string[]; city: string; state: string; postalCode: string };
  practitioner: DemoPractitioner;
  /**
   * The link from the Patient to its practitioner: `Patient.generalPractitioner`, or only an
   * active CareTeam whose member is the practitioner.
   */
  practitionerLink: 'generalPractitioner' | 'careTeam';
  prescriptions: PrescriptionPlan[];
  /** Messages with the practitioner, dated relative to `now`. */
  buildThread: (now: Date) => DemoMessage[];
}

/** An original order and its refills, with dates in days before now. */
interface PrescriptionPlan {
  medication: Medication;
  status: MedicationRequest['status'];
  authoredDaysAgo: number;
  refillsAllowed: number;
  /**
   * Days before now of each refill (`intent=filler-order`). The newest is active, older ones
   * completed.
   */
  refillDaysAgo: number[];
}

function patientDetails(id: string): DemoPatient {
  const patient = DEMO_PATIENTS.find((candidate) => candidate.id === id);
  if (!patient) {
    throw new Error(`Internal error: DEMO_PATIENTS has no patient with id ${id}.`);
  }
  return patient;
}

const DEMO_PATIENT_DETAILS: DemoPatientDetails[] = [
  {
    patient: patientDetails('demo-ava'),
    familyName: 'Reyes',
    gender: 'female',
    birthSex: 'F',
    birthDate: '1988-04-12',
    phone: '312-555-0142',
    address: {
      line: ['1200 Example Avenue', 'Apt 4B'],
      city: 'Chicago',
      state: 'IL',
      postalCode: '60601',
    },
    practitioner: DR_OKAFOR,
    practitionerLink: 'generalPractitioner',
    prescriptions: [
      {
        medication: LEVOTHYROXINE,
        status: 'active',
        authoredDaysAgo: 90,
        refillsAllowed: 5,
        refillDaysAgo: [60, 30, 2],
      },
    ],
    buildThread: buildAvaThread,
  },
  {
    patient: patientDetails('demo-marcus'),
    familyName: 'Chen',
    gender: 'male',
    birthSex: 'M',
    birthDate: '1975-09-30',
    phone: '206-555-0177',
    address: { line: ['48 Sample Street'], city: 'Seattle', state: 'WA', postalCode: '98101' },
    practitioner: DR_LINDQVIST,
    practitionerLink: 'generalPractitioner',
    prescriptions: [
      {
        medication: LISINOPRIL,
        status: 'active',
        authoredDaysAgo: 120,
        refillsAllowed: 3,
        refillDaysAgo: [90, 60],
      },
      {
        medication: AMLODIPINE,
        status: 'stopped',
        authoredDaysAgo: 200,
        refillsAllowed: 2,
        refillDaysAgo: [170],
      },
    ],
    buildThread: (now) => buildShortThread('Marcus', now),
  },
  {
    patient: patientDetails('demo-priya'),
    familyName: 'Nair',
    gender: 'female',
    birthSex: 'F',
    birthDate: '1992-01-23',
    phone: '512-555-0119',
    address: { line: ['7 Placeholder Lane'], city: 'Austin', state: 'TX', postalCode: '78701' },
    practitioner: DR_OKAFOR,
    practitionerLink: 'careTeam',
    prescriptions: [
      {
        medication: METFORMIN,
        status: 'active',
        authoredDaysAgo: 45,
        refillsAllowed: 2,
        refillDaysAgo: [15],
      },
    ],
    buildThread: buildPriyaThread,
  },
];

/**
 * Builds the synthetic demo data, shaped as Canvas returns it: practitioners, their schedules and
 * free slots in the coming days, and for each demo patient MedicationRequests with refills,
 * Communications with their practitioner, and one past and one upcoming Appointment. Priya's
 * practitioner is named only by a CareTeam. Dates are relative to `now`, so a fresh process
 * always has upcoming slots.
 */
export function buildDemoResources(now: Date): WithId<Resource>[] {
  const resources: WithId<Resource>[] = [];

  for (const practitioner of [DR_OKAFOR, DR_LINDQVIST]) {
    resources.push(buildPractitioner(practitioner));
    resources.push(...buildScheduleWithSlots(practitioner, now));
  }

  for (const details of DEMO_PATIENT_DETAILS) {
    resources.push(buildPatient(details));
    if (details.practitionerLink === 'careTeam') {
      resources.push(buildCareTeam(details, now));
    }
    for (const plan of details.prescriptions) {
      resources.push(...buildPrescription(details, plan, now));
    }
    resources.push(...buildCommunications(details, now));
    resources.push(...buildAppointments(details, now));
  }

  return resources;
}

function buildPractitioner(practitioner: DemoPractitioner): WithId<Practitioner> {
  return {
    resourceType: 'Practitioner',
    id: practitioner.id,
    identifier: [{ system: NPI_SYSTEM, value: practitioner.npi }],
    active: true,
    name: [
      {
        use: 'official',
        family: practitioner.familyName,
        given: [practitioner.givenName],
        prefix: ['Dr.'],
      },
    ],
  };
}

function buildScheduleWithSlots(practitioner: DemoPractitioner, now: Date): WithId<Resource>[] {
  const scheduleId = scheduleIdFor(practitioner.id);
  const schedule: WithId<Schedule> = {
    resourceType: 'Schedule',
    id: scheduleId,
    active: true,
    actor: [practitionerReference(practitioner)],
    comment: 'Telehealth visits',
  };

  // Four free 30-minute slots, 14:00 to 16:00 UTC, on each of the next five days.
  const slots: WithId<Slot>[] = [];
  for (let day = 1; day <= 5; day++) {
    for (const minutesAfter14 of [0, 30, 60, 90]) {
      const start = new Date(
        startOfUtcDay(now) + day * DAY_MS + (14 * 60 + minutesAfter14) * MINUTE_MS,
      );
      slots.push({
        resourceType: 'Slot',
        id: `${practitioner.id}-slot-${day}-${minutesAfter14}`,
        schedule: { reference: `Schedule/${scheduleId}`, type: 'Schedule' },
        status: 'free',
        start: isoSeconds(start),
        end: isoSeconds(new Date(start.getTime() + VISIT_MINUTES * MINUTE_MS)),
      });
    }
  }

  return [schedule, ...slots];
}

function buildPatient(details: DemoPatientDetails): WithId<Patient> {
  return {
    resourceType: 'Patient',
    id: details.patient.id,
    extension: [
      { url: BIRTH_SEX_URL, valueCode: details.birthSex },
      { url: TIME_ZONE_URL, valueCode: details.patient.timeZone },
    ],
    active: true,
    name: [{ use: 'official', family: details.familyName, given: [details.patient.givenName] }],
    telecom: [
      { system: 'phone', value: details.phone, use: 'mobile', rank: 1 },
      { system: 'email', value: details.patient.email, use: 'home', rank: 1 },
    ],
    gender: details.gender,
    birthDate: details.birthDate,
    address: [{ use: 'home', type: 'both', ...details.address, country: 'United States' }],
    ...(details.practitionerLink === 'generalPractitioner'
      ? { generalPractitioner: [practitionerReference(details.practitioner)] }
      : {}),
  };
}

/** Builds the active CareTeam that links a patient without generalPractitioner to a practitioner. */
function buildCareTeam(details: DemoPatientDetails, now: Date): WithId<CareTeam> {
  return {
    resourceType: 'CareTeam',
    id: DEMO_CARE_TEAM_ID,
    status: 'active',
    name: `Care team of ${details.patient.givenName} ${details.familyName}`,
    subject: patientReference(details.patient),
    period: { start: daysAgo(now, 365).toISOString().slice(0, 10) },
    participant: [
      {
        role: [{ text: 'Prescribing clinician' }],
        member: practitionerReference(details.practitioner),
      },
    ],
  };
}

/**
 * Builds an original order and its refills. Canvas sends the medication as RxNorm codings with a
 * display and no `text`, and links each refill to its original through `basedOn`.
 */
function buildPrescription(
  details: DemoPatientDetails,
  plan: PrescriptionPlan,
  now: Date,
): WithId<MedicationRequest>[] {
  const originalId = `${details.patient.id}-rx-${plan.medication.rxnorm}`;
  const base = (authoredDaysAgo: number): Omit<MedicationRequest, 'status' | 'intent'> => ({
    resourceType: 'MedicationRequest',
    medicationCodeableConcept: {
      coding: [
        { system: RXNORM_SYSTEM, code: plan.medication.rxnorm, display: plan.medication.display },
      ],
    },
    subject: patientReference(details.patient),
    authoredOn: isoSeconds(daysAgo(now, authoredDaysAgo)),
    requester: practitionerReference(details.practitioner),
    dosageInstruction: [{ text: plan.medication.dosage }],
  });
  const supply = (
    refillsAllowed: number,
    authoredDaysAgo: number,
  ): MedicationRequest['dispenseRequest'] => ({
    validityPeriod: { start: isoSeconds(daysAgo(now, authoredDaysAgo)) },
    numberOfRepeatsAllowed: refillsAllowed,
    quantity: { value: 30, unit: 'tablet' },
    expectedSupplyDuration: {
      value: 30,
      unit: 'days',
      system: 'http://unitsofmeasure.org',
      code: 'd',
    },
  });

  const original: WithId<MedicationRequest> = {
    ...base(plan.authoredDaysAgo),
    id: originalId,
    status: plan.status,
    intent: 'order',
    dispenseRequest: supply(plan.refillsAllowed, plan.authoredDaysAgo),
  };

  const newestRefill = Math.min(...plan.refillDaysAgo);
  const refills = plan.refillDaysAgo.map(
    (refillDaysAgo, index): WithId<MedicationRequest> => ({
      ...base(refillDaysAgo),
      id: `${originalId}-refill-${index + 1}`,
      status: plan.status === 'active' && refillDaysAgo === newestRefill ? 'active' : 'completed',
      intent: 'filler-order',
      basedOn: [{ reference: `MedicationRequest/${originalId}`, type: 'MedicationRequest' }],
      dispenseRequest: supply(0, refillDaysAgo),
    }),
  );

  return [original, ...refills];
}

/**
 * Builds a patient's thread as Communications with ids numbered in order of `sent`, e.g.
 * `demo-priya-message-001` for the oldest.
 */
function buildCommunications(details: DemoPatientDetails, now: Date): WithId<Communication>[] {
  const patient = patientReference(details.patient);
  const practitioner = practitionerReference(details.practitioner);
  const messages = details
    .buildThread(now)
    .sort((first, second) => first.sent.getTime() - second.sent.getTime());

  return messages.map((message, index) => ({
    resourceType: 'Communication',
    id: `${details.patient.id}-message-${String(index + 1).padStart(3, '0')}`,
    status: 'completed',
    subject: patient,
    sender: message.from === 'patient' ? patient : practitioner,
    recipient: [message.from === 'patient' ? practitioner : patient],
    sent: isoSeconds(message.sent),
    payload: [{ contentString: message.text }],
  }));
}

function buildAppointments(details: DemoPatientDetails, now: Date): WithId<Appointment>[] {
  const index = DEMO_PATIENT_DETAILS.indexOf(details);
  // Upcoming visits start at 17:00, 18:00, ... UTC, after the free slots, so they never overlap
  // one.
  const upcomingStart = new Date(startOfUtcDay(now) + 3 * DAY_MS + (17 + index) * 60 * MINUTE_MS);
  const pastStart = new Date(upcomingStart.getTime() - 17 * DAY_MS);

  const appointment = (
    suffix: string,
    start: Date,
    status: Appointment['status'],
  ): WithId<Appointment> => ({
    resourceType: 'Appointment',
    id: `${details.patient.id}-appointment-${suffix}`,
    status,
    appointmentType: {
      coding: [
        {
          system: 'http://snomed.info/sct',
          code: '448337001',
          display: 'Telemedicine consultation with patient',
        },
      ],
    },
    description: 'Medication follow-up (video visit)',
    start: isoSeconds(start),
    end: isoSeconds(new Date(start.getTime() + VISIT_MINUTES * MINUTE_MS)),
    minutesDuration: VISIT_MINUTES,
    participant: [
      { actor: patientReference(details.patient), required: 'required', status: 'accepted' },
      {
        actor: practitionerReference(details.practitioner),
        required: 'required',
        status: 'accepted',
      },
    ],
  });

  return [
    appointment('upcoming', upcomingStart, 'booked'),
    appointment('past', pastStart, 'fulfilled'),
  ];
}

function patientReference(patient: DemoPatient): Reference<Patient> {
  return { reference: `Patient/${patient.id}`, type: 'Patient' };
}

function practitionerReference(practitioner: DemoPractitioner): Reference<Practitioner> {
  return { reference: `Practitioner/${practitioner.id}`, type: 'Practitioner' };
}

function startOfUtcDay(date: Date): number {
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
}

function daysAgo(now: Date, days: number): Date {
  return new Date(now.getTime() - days * DAY_MS);
}

/** Formats a date as FHIR instant without milliseconds, e.g. `2025-03-01T14:00:00Z`. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
