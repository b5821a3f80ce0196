import { getStatus } from '@medplum/core';
import type {
  BundleEntry,
  OperationOutcome,
  OperationOutcomeIssue,
  Resource,
} from '@medplum/fhirtypes';

/** An HTTP response of the FHIR stand-in, before it is written to Express. */
export interface FhirEngineResponse {
  status: number;
  /** A resource, a Bundle or an OperationOutcome. A create with `return=minimal` has none. */
  body?: Resource;
  headers: Record<string, string>;
}

/** The `return=` preference of a write: no body, the resource, or the OperationOutcome. */
export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';

const RETURN_PREFERENCES: Record<string, ReturnPreference> = {
  minimal: 'minimal',
  representation: 'representation',
  operationoutcome: 'OperationOutcome',
};

/** Reads `return=` from a Prefer header (RFC 7240), e.g. `return=representation`. */
export function parseReturnPreference(prefer: string | undefined): ReturnPreference | undefined {
  const match = /(?:^|[\s,;])return\s*=\s*"?([A-Za-z]+)"?/.exec(prefer ?? '');
  const value = match?.[1]?.toLowerCase();
  return value ? RETURN_PREFERENCES[value] : undefined;
}

/** Builds the response to a successful write, with the body that `preference` requests. */
export function withPreferredBody(
  status: number,
  headers: Record<string, string>,
  resource: Resource,
  outcome: OperationOutcome,
  preference: ReturnPreference,
): FhirEngineResponse {
  switch (preference) {
    case 'minimal':
      return { status, headers };
    case 'representation':
      return { status, headers, body: resource };
    case 'OperationOutcome':
      return { status, headers, body: outcome };
  }
}

/** Returns the absolute URL of a resource version, `<base>/<type>/<id>/_history/<versionId>`. */
export function versionUrl(baseUrl: string, resource: Resource): string {
  return `${baseUrl}/${resource.resourceType}/${resource.id ?? ''}/_history/${resource.meta?.versionId ?? ''}`;
}

/** Returns the ETag and Last-Modified headers of a resource version. */
export function versionHeaders(resource: Resource): Record<string, string> {
  const headers: Record<string, string> = {};
  if (resource.meta?.versionId) {
    headers.ETag = `W/"${resource.meta.versionId}"`;
  }
  if (resource.meta?.lastUpdated) {
    headers['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  }
  return headers;
}

/** Wraps a search result as a Bundle entry with an absolute fullUrl. */
export function searchEntry(
  baseUrl: string,
  resource: Resource,
  mode: 'match' | 'include',
): BundleEntry {
  return {
    fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id ?? ''}`,
    resource,
    search: { mode },
  };
}

/** Wraps an OperationOutcome in a response with the HTTP status that Medplum maps it to. */
export function outcomeResponse(outcome: OperationOutcome): FhirEngineResponse {
  return { status: getStatus(outcome), body: outcome, headers: {} };
}

export function errorResponse(
  status: number,
  code: 'not-found' | 'not-supported',
  message: string,
): FhirEngineResponse {
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, details: { text: message } }],
  };
  return { status, body: outcome, headers: {} };
}

/** Builds a 405 response. `reason` replaces the default message when the rejection has a known cause. */
export function methodNotAllowed(
  method: string,
  path: string,
  reason?: string,
): FhirEngineResponse {
  return errorResponse(
    405,
    'not-supported',
    reason ?? `The sandbox does not support ${method} ${path}.`,
  );
}

/**
 * Builds an issue for a resource that is valid FHIR but breaks a Canvas rule, which Canvas reports
 * with status 422. `expression` is the FHIRPath of the element at fault.
 */
export function processingIssue(
  expression: string | string[],
  text: string,
): OperationOutcomeIssue {
  return {
    severity: 'error',
    code: 'processing',
    details: { text },
    expression: Array.isArray(expression) ? expression : [expression],
  };
}

/** Builds a 422 response with an OperationOutcome of the given issues. */
export function unprocessableResponse(issues: OperationOutcomeIssue[]): FhirEngineResponse {
  return { status: 422, body: { resourceType: 'OperationOutcome', issue: issues }, headers: {} };
}
