import type { Bundle, OperationOutcome, Resource, ResourceType } from '@medplum/fhirtypes';

import { getEnv } from '~/config/env.server';

import { getFhirAccessToken, invalidateFhirAccessToken } from './fhir-token.server';
import { fetchUpstream, type UpstreamRequest, type UpstreamResponse } from './http.server';
import { UpstreamError } from './upstream-error.server';

/** A guard against a server that links pages in a loop. */
const MAX_SEARCH_PAGES = 50;

type ResourceOfType<T extends ResourceType> = Extract<Resource, { resourceType: T }>;

export type SearchParams = Record<string, string | readonly string[]>;

/**
 * Searches `type` with `params` and returns the matching resources of that type from every page,
 * following `Bundle.link` `next` (Canvas sends relative URLs) until there is none.
 * Included resources of other types are dropped. With `maxResults`, no further page is read
 * once that many resources have arrived.
 */
export async function searchResources<T extends ResourceType>(
  type: T,
  params: SearchParams,
  options: { maxResults?: number } = {},
): Promise<ResourceOfType<T>[]> {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const item of typeof value === 'string' ? [value] : value) query.append(name, item);
  }
  // Canvas sends 10 entries a page unless asked for more, and accepts at most 100.
  if (!query.has('_count')) query.set('_count', String(getEnv().fhir.searchPageSize));

  const resources: ResourceOfType<T>[] = [];
  let nextUrl: string | undefined = `${fhirBaseUrl()}/${type}?${query.toString()}`;
  for (let page = 0; nextUrl !== undefined; page += 1) {
    if (page >= MAX_SEARCH_PAGES) {
      throw new UpstreamError(
        'fhir',
        'malformed',
        `FHIR search for ${type} exceeded ${MAX_SEARCH_PAGES} pages`,
      );
    }
    const bundle: Bundle = await requestFhir<Bundle>(nextUrl, { method: 'GET' });
    for (const entry of bundle.entry ?? []) {
      if (entry.resource?.resourceType === type)
        resources.push(entry.resource as ResourceOfType<T>);
    }
    if (options.maxResults !== undefined && resources.length >= options.maxResults) {
      return resources.slice(0, options.maxResults);
    }
    nextUrl = resolveNextLink(bundle, nextUrl);
  }
  return resources;
}

/** Reads one resource by id; returns undefined when the server responds 404 or 410. */
export async function readResource<T extends ResourceType>(
  type: T,
  id: string,
): Promise<ResourceOfType<T> | undefined> {
  try {
    return await requestFhir<ResourceOfType<T>>(
      `${fhirBaseUrl()}/${type}/${encodeURIComponent(id)}`,
      {
        method: 'GET',
      },
    );
  } catch (error) {
    if (error instanceof UpstreamError && (error.status === 404 || error.status === 410))
      return undefined;
    throw error;
  }
}

/**
 * Creates a resource and returns it with its new id. Canvas responds 201 with an empty body,
 * so the id comes from the `Location` header (`.../Type/{id}/_history/{version}`) when the body has none.
 */
export async function createResource<T extends Resource>(resource: T): Promise<T & { id: string }> {
  const url = `${fhirBaseUrl()}/${resource.resourceType}`;
  const response = await sendFhir(url, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify(resource),
  });

  const text = await response.text();
  if (text.trim() !== '') {
    const created = parseJson<T>(text);
    if (created.id) return created as T & { id: string };
  }
  const id = parseIdFromLocation(response.headers.get('location'), resource.resourceType);
  if (!id) {
    throw new UpstreamError(
      'fhir',
      'malformed',
      `FHIR create of ${resource.resourceType} returned no id`,
    );
  }
  return { ...resource, id };
}

/**
 * Replaces a resource (PUT `Type/{id}`). An update sets the whole resource, so a retry after a
 * lost response is safe and is retried like a GET.
 */
export async function updateResource<T extends Resource & { id?: string }>(
  resource: T,
): Promise<void> {
  if (!resource.id) throw new Error(`Cannot update a ${resource.resourceType} without an id`);
  const url = `${fhirBaseUrl()}/${resource.resourceType}/${encodeURIComponent(resource.id)}`;
  const response = await sendFhir(url, {
    method: 'PUT',
    idempotent: true,
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify(resource),
  });
  await response.discard();
}

/** Takes `{id}` from `[base/]Type/{id}[/_history/{version}]`. */
export function parseIdFromLocation(
  location: string | null,
  resourceType: string,
): string | undefined {
  if (!location) return undefined;

  const path = location.split('?')[0] ?? '';
  const segments = path.split('/').filter((segment) => segment !== '');
  const typeIndex = segments.lastIndexOf(resourceType);
  const id = typeIndex >= 0 ? segments[typeIndex + 1] : undefined;
  return id ? decodeURIComponent(id) : undefined;
}

/** Resolves the `next` link, relative or absolute, against the URL of the page that carried it. */
export function resolveNextLink(bundle: Bundle, currentUrl: string): string | undefined {
  const next = bundle.link?.find((link) => link.relation === 'next')?.url;
  return next ? new URL(next, currentUrl).toString() : undefined;
}

function fhirBaseUrl(): string {
  return getEnv().fhir.baseUrl.replace(/\/+$/, '');
}

async function requestFhir<T>(url: string, init: UpstreamRequest): Promise<T> {
  const response = await sendFhir(url, init);
  return parseJson<T>(await response.text());
}

/** Sends an authorised request, renewing the token once on 401; throws UpstreamError for non-2xx. */
async function sendFhir(url: string, init: UpstreamRequest): Promise<UpstreamResponse> {
  let response = await fetchUpstream(
    'fhir',
    url,
    withAuthorization(init, await getFhirAccessToken()),
  );
  if (response.status === 401) {
    await response.discard();
    invalidateFhirAccessToken();
    response = await fetchUpstream(
      'fhir',
      url,
      withAuthorization(init, await getFhirAccessToken()),
    );
  }
  if (response.ok) return response;

  const outcome = await readOperationOutcome(response);
  const method = init.method ?? 'GET';
  throw new UpstreamError(
    'fhir',
    'http',
    `FHIR ${method} answered ${response.status}`,
    response.status,
    outcome,
  );
}

function withAuthorization(init: UpstreamRequest, accessToken: string): UpstreamRequest {
  return {
    ...init,
    headers: {
      accept: 'application/fhir+json',
      ...init.headers,
      authorization: `Bearer ${accessToken}`,
    },
  };
}

async function readOperationOutcome(
  response: UpstreamResponse,
): Promise<OperationOutcome | undefined> {
  const body: unknown = await response.json().catch(() => undefined);
  const isOutcome =
    typeof body === 'object' &&
    body !== null &&
    (body as Resource).resourceType === 'OperationOutcome';
  return isOutcome ? (body as OperationOutcome) : undefined;
}

function parseJson<T>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new UpstreamError(
      'fhir',
      'malformed',
      'FHIR answered with invalid JSON',
      undefined,
      undefined,
      {
        cause: error,
      },
    );
  }
}
