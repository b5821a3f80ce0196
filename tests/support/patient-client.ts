import {
  DEMO_PATIENTS,
  FIXTURE_MESSAGING_PATIENT,
  FIXTURE_PATIENT,
  type DemoPatient,
  type SandboxPatient,
} from '../../sandbox/demo-data';

import { recordSensitiveValue, recordSentFields } from './portal-logs';

/**
 * A minimal HTTP client for one patient: it keeps cookies between requests like a browser
 * would and sends same-origin headers.
 */
export class PatientClient {
  constructor(
    readonly baseUrl: string,
    private readonly cookies = new Map<string, string>(),
  ) {}

  /**
   * Returns a client for another portal process that shares this client's cookies, as one
   * browser sends to whichever process a load balancer picks.
   */
  sharingCookiesWith(baseUrl: string): PatientClient {
    return new PatientClient(baseUrl, this.cookies);
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    recordSentFields('a test', new URL(path, this.baseUrl).searchParams);
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) {
      headers.set('cookie', this.cookieHeader());
    }
    const response = await fetch(`${this.baseUrl}${path}`, {
      ...init,
      headers,
      redirect: 'manual',
    });
    this.storeCookies(response);
    return response;
  }

  postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    if (typeof body === 'object' && body !== null) recordSentFields('a test', Object.entries(body));
    return this.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  }

  postForm(path: string, fields: Record<string, string>): Promise<Response> {
    recordSentFields('a test', Object.entries(fields));
    return this.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** Returns the Cookie header this client sends, to replay it from another client. */
  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  setCookie(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  private storeCookies(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';');
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      const expired = attributes.some(
        (attribute) => attribute.trim().toLowerCase() === 'max-age=0',
      );
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

interface CapturedMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  sentAt: string;
}

/**
 * Waits for a sign-in email to `email` newer than `since` in the sandbox mailbox and returns
 * its 6-digit code. The portal sends the email after it responds, so this polls.
 */
export async function readSignInCode(baseUrl: string, email: string, since: Date): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const response = await fetch(
      `${baseUrl}/sandbox/mail/messages?${new URLSearchParams({ to: email })}`,
    );
    const messages = (await response.json()) as CapturedMail[];
    const fresh = messages.find((message) => new Date(message.sentAt) >= since);
    const code = fresh?.text.match(/\b(\d{6})\b/)?.[1];
    if (code) {
      recordSensitiveValue('sign-in code', 'word', code);
      return code;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('No sign-in email arrived in the sandbox mailbox within 10 s.');
}

/** Returns a 6-digit code that differs from `code`. */
export function wrongCode(code: string): string {
  return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
}

/** Returns the page's HTML without the `<!-- -->` markers React puts between adjacent text parts. */
export async function readPageHtml(response: Response): Promise<string> {
  return (await response.text()).replaceAll('<!-- -->', '');
}

/** Every seeded patient who can sign in by email: the demo patients, then the FHIR examples. */
export const SIGN_IN_PATIENTS: readonly SandboxPatient[] = [
  ...DEMO_PATIENTS,
  FIXTURE_PATIENT,
  FIXTURE_MESSAGING_PATIENT,
];

/** Returns the sandbox's demo patient at `index`, failing clearly when the seed has fewer. */
export function demoPatient(index: number): DemoPatient {
  const patient = DEMO_PATIENTS[index];
  if (!patient) throw new Error(`The sandbox has no demo patient number ${index}.`);
  return patient;
}

/**
 * Signs `email` in through the JSON API with the code from the sandbox mailbox and returns the
 * client holding the session. Fails the test when verification does not succeed.
 */
export async function signInByEmail(baseUrl: string, email: string): Promise<PatientClient> {
  const client = new PatientClient(baseUrl);
  const since = new Date();
  await client.postJson('/api/patient/auth/send-code', { email });
  const code = await readSignInCode(baseUrl, email, since);
  const verify = await client.postJson('/api/patient/auth/verify', { email, code });
  if (verify.status !== 200) throw new Error(`Sign-in failed with status ${verify.status}.`);
  return client;
}

/**
 * Returns a sign-in function that signs each email in once and then reuses its session, as the
 * per-email code limit expects of a test file that signs in many times.
 */
export function signInOncePerEmail(baseUrl: string): (email: string) => Promise<PatientClient> {
  const clients = new Map<string, Promise<PatientClient>>();
  return (email) => {
    let client = clients.get(email);
    if (!client) {
      client = signInByEmail(baseUrl, email);
      clients.set(email, client);
    }
    return client;
  };
}
