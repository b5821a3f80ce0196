import type { WithId } from '@medplum/core';
import type {
  Appointment,
  CareTeam,
  Communication,
  Location,
  MedicationRequest,
  Patient,
  Practitioner,
  Reference,
  Resource,
  Schedule,
} from '@medplum/fhirtypes';
import { Temporal } from 'temporal-polyfill';

import {
  buildAvaThread,
  buildPriyaThread,
  buildShortThread,
  type DemoMessage,
} from './demo-conversations.js';
import { DEMO_CARE_TEAM_ID, DEMO_PATIENTS, type DemoPatient } from './demo-data.js';
import {
  DEMO_WORKING_HOURS,
  fhirInstant,
  generateWorkingHourSlots,
  scheduleIdFor,
  slotGenerationRange,
  SLOT_MINUTES,
  type PractitionerWorkingHours,
} from './working-hours.js';

export { scheduleIdFor } from './working-hours.js';

const RXNORM_SYSTEM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
const BIRTH_SEX_URL = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex';
const TIME_ZONE_URL = 'http://hl7.org/fhir/StructureDefinition/timezone';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Id of the seeded `Location` that every seeded Schedule and Appointment belongs to. */
export const TELEHEALTH_LOCATION_ID = '1';

/** Days from today, in the practitioner's time zone, to the first possible upcoming visit. */
const UPCOMING_VISIT_MIN_DAYS_AHEAD = 3;

/** Days between a patient's past visit and the upcoming one, a whole number of weeks. */
const PAST_VISIT_DAYS_BEFORE_UPCOMING = 14;

interface DemoPractitioner {
  id: string;
  givenName: string;
  familyName: string;
  /** A made-up NPI with a valid check digit. */
  npi: string;
  workingHours: PractitionerWorkingHours;
}

const DR_OKAFOR: DemoPractitioner = {
  id: 'demo-dr-okafor',
  givenName: 'Nia',
  familyName: 'Okafor',
  npi: '1987654328',
  workingHours: DEMO_WORKING_HOURS['demo-dr-okafor'],
};
const DR_LINDQVIST: DemoPractitioner = {
  id: 'demo-dr-lindqvist',
  givenName: 'Erik',
  familyName: 'Lindqvist',
  npi: '1555555550',
  workingHours: DEMO_WORKING_HOURS['demo-dr-lindqvist'],
};

export const DEMO_PRACTITIONER_IDS: readonly string[] = [DR_OKAFOR.id, DR_LINDQVIST.id];

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
  /**
   * Local start time, `HH:MM` in the practitioner's time zone, of the seeded past and upcoming
   * visits. It lies in the practitioner's weekday working hours, so the upcoming visit starts
   * exactly when one of the practitioner's free Slots does.
   */
  visitLocalTime: string;
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
    visitLocalTime: '10:00',
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
    visitLocalTime: '11:00',
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
    visitLocalTime: '12:00',
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
 * Builds the synthetic demo data, shaped as Canvas returns it. It contains the telehealth
 * Location, and practitioners with their schedules and the free slots of their working hours.
 * Each demo patient gets MedicationRequests with refills, Communications with their practitioner,
 * and one past and one upcoming Appointment. Priya's practitioner is named only by a CareTeam.
 * Dates are relative to `now`, so a fresh process always has upcoming slots.
 */
export function buildDemoResources(now: Date): WithId<Resource>[] {
  const resources: WithId<Resource>[] = [buildTelehealthLocation()];

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

/** Builds the Location that Canvas's schedule ids (`Location.1-Staff.<id>`) and visits name. */
function buildTelehealthLocation(): WithId<Location> {
  return {
    resourceType: 'Location',
    id: TELEHEALTH_LOCATION_ID,
    status: 'active',
    name: 'Telehealth',
    description: 'Video visits',
    mode: 'instance',
  };
}

/**
 * Builds a practitioner's Schedule and the free Slots of their working hours from `now` for 60
 * days, or until 7 days after their time zone's next DST transition if that is later.
 */
function buildScheduleWithSlots(practitioner: DemoPractitioner, now: Date): WithId<Resource>[] {
  const schedule: WithId<Schedule> = {
    resourceType: 'Schedule',
    id: scheduleIdFor(practitioner.id),
    active: true,
    actor: [practitionerReference(practitioner)],
    comment: 'Telehealth visits',
  };

  const { from, to } = slotGenerationRange(
    practitioner.workingHours.timeZone,
    Temporal.Instant.fromEpochMilliseconds(now.getTime()),
  );
  return [schedule, ...generateWorkingHourSlots(practitioner.workingHours, from, to)];
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

/**
 * Builds a patient's upcoming `booked` visit and past `fulfilled` visit, both at the patient's
 * `visitLocalTime` in the practitioner's time zone. The upcoming visit is on the first weekday at
 * least 3 days from today, so it covers one free Slot (Canvas allows double booking), and the past
 * visit is 14 days earlier.
 */
function buildAppointments(details: DemoPatientDetails, now: Date): WithId<Appointment>[] {
  const { timeZone } = details.practitioner.workingHours;
  const today = Temporal.Instant.fromEpochMilliseconds(now.getTime())
    .toZonedDateTimeISO(timeZone)
    .toPlainDate();
  const upcomingDate = nextWeekday(today.add({ days: UPCOMING_VISIT_MIN_DAYS_AHEAD }));
  const pastDate = upcomingDate.subtract({ days: PAST_VISIT_DAYS_BEFORE_UPCOMING });
  const time = Temporal.PlainTime.from(details.visitLocalTime);
  const startOn = (date: Temporal.PlainDate): Temporal.Instant =>
    date.toZonedDateTime({ timeZone, plainTime: time }).toInstant();

  const appointment = (
    suffix: string,
    start: Temporal.Instant,
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
    start: fhirInstant(start),
    end: fhirInstant(start.add({ minutes: SLOT_MINUTES })),
    minutesDuration: SLOT_MINUTES,
    supportingInformation: [{ reference: `Location/${TELEHEALTH_LOCATION_ID}`, type: 'Location' }],
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
    appointment('upcoming', startOn(upcomingDate), 'booked'),
    appointment('past', startOn(pastDate), 'fulfilled'),
  ];
}

/** Returns `date` if it is Monday to Friday, or else the following Monday. */
function nextWeekday(date: Temporal.PlainDate): Temporal.PlainDate {
  const saturday = 6;
  return date.dayOfWeek >= saturday ? date.add({ days: 8 - date.dayOfWeek }) : date;
}

function patientReference(patient: DemoPatient): Reference<Patient> {
  return { reference: `Patient/${patient.id}`, type: 'Patient' };
}

function practitionerReference(practitioner: DemoPractitioner): Reference<Practitioner> {
  return { reference: `Practitioner/${practitioner.id}`, type: 'Practitioner' };
}

function daysAgo(now: Date, days: number): Date {
  return new Date(now.getTime() - days * DAY_MS);
}

/** Formats a date as FHIR instant without milliseconds, e.g. `2025-03-01T14:00:00Z`. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
