import type { Bundle, Resource } from '@medplum/fhirtypes';

import { SANDBOX_CREDENTIALS } from '../../app/config/env.server';

import { sensitiveValuesOf } from './log-scan';
import { recordSensitiveValue } from './portal-logs';

/**
 * Writes resources into a test portal's sandbox FHIR server with ordinary FHIR REST, the way a
 * developer would load their own data.
 */
export class SandboxFhir {
  private accessToken: string | undefined;

  constructor(private readonly portalBaseUrl: string) {}

  /** Creates or replaces a resource with its own id (PUT) and returns the stored resource. */
  async put<T extends Resource & { id: string }>(resource: T): Promise<T> {
    recordValuesOf(resource);
    const response = await fetch(`${this.fhirBase()}/${resource.resourceType}/${resource.id}`, {
      method: 'PUT',
      headers: await this.headers(),
      body: JSON.stringify(resource),
    });
    if (!response.ok) {
      throw new Error(
        `PUT ${resource.resourceType}/${resource.id} failed with ${response.status}: ${await response.text()}`,
      );
    }
    return (await response.json()) as T;
  }

  /** Creates a resource (POST) and returns its new id, read from `Location` as Canvas sends it. */
  async create(resource: Resource): Promise<string> {
    recordValuesOf(resource);
    const response = await fetch(`${this.fhirBase()}/${resource.resourceType}`, {
      method: 'POST',
      headers: await this.headers(),
      body: JSON.stringify(resource),
    });
    if (response.status !== 201) {
      throw new Error(
        `POST ${resource.resourceType} failed with ${response.status}: ${await response.text()}`,
      );
    }
    const location = response.headers.get('location') ?? '';
    const id = new RegExp(`/${resource.resourceType}/([^/]+)`).exec(location)?.[1];
    if (!id)
      throw new Error(`POST ${resource.resourceType} answered no id in Location: ${location}`);
    return id;
  }

  /** Runs a search such as `Communication?sender=Patient/x` and returns the Bundle. */
  async search<T extends Bundle>(query: string): Promise<T> {
    const response = await fetch(`${this.fhirBase()}/${query}`, { headers: await this.headers() });
    if (!response.ok) throw new Error(`GET ${query} failed with ${response.status}`);
    return (await response.json()) as T;
  }

  private fhirBase(): string {
    return `${this.portalBaseUrl}/sandbox/fhir`;
  }

  private async headers(): Promise<Record<string, string>> {
    this.accessToken ??= await this.requestToken();
    return { authorization: `Bearer ${this.accessToken}`, 'content-type': 'application/fhir+json' };
  }

  private async requestToken(): Promise<string> {
    const response = await fetch(`${this.fhirBase()}/auth/token/`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: SANDBOX_CREDENTIALS.fhirClientId,
        client_secret: SANDBOX_CREDENTIALS.fhirClientSecret,
      }),
    });
    if (!response.ok) throw new Error(`The sandbox token request failed with ${response.status}.`);
    return ((await response.json()) as { access_token: string }).access_token;
  }
}

/** Records the names, contact details and message text a test loads, for the log scan. */
function recordValuesOf(resource: Resource): void {
  for (const { label, kind, value } of sensitiveValuesOf(resource)) {
    recordSensitiveValue(label, kind, value);
  }
}
