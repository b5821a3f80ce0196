import {
  badRequest,
  isNotFound,
  isOk,
  isResourceType,
  normalizeOperationOutcome,
  OperationOutcomeError,
  validateResource,
  type WithId,
} from '@medplum/core';
import {
  FhirRouter,
  MemoryRepository,
  type FhirRequest,
  type HttpMethod,
} from '@medplum/fhir-router';
import type { Bundle, BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';

import { rejectInvalidAppointment } from './canvas-appointment.js';
import {
  COMMUNICATION_UPDATE_REJECTION,
  prepareCommunicationCreate,
  rejectInvalidCommunication,
} from './canvas-communication.js';
import { requireSlotSchedule } from './canvas-slot.js';
import { indexFhirDefinitions } from './fhir-definitions.js';
import {
  errorResponse,
  methodNotAllowed,
  outcomeResponse,
  parseReturnPreference,
  searchEntry,
  versionHeaders,
  versionUrl,
  withPreferredBody,
  type FhirEngineResponse,
} from './fhir-responses.js';
import {
  buildPageLinks,
  collectIncludeReferences,
  normalizeSearch,
  parseIncludeTargets,
  type IncludeTarget,
} from './fhir-search.js';

/** A FHIR REST request, already separated from HTTP. */
export interface FhirEngineRequest {
  method: string;
  /** Path below the FHIR base, percent-encoded as received, e.g. `/Patient/demo-ava`. */
  path: string;
  query: URLSearchParams;
  /** Parsed JSON body, a URLSearchParams for a form-encoded body, or undefined. */
  body: unknown;
  /** Value of the Prefer header, if any. */
  prefer?: string;
  /**
   * Absolute FHIR base URL for Location and Bundle.entry.fullUrl, e.g.
   * `http://127.0.0.1:3000/sandbox/fhir`.
   */
  baseUrl: string;
  /** FHIR base path for relative paging links, e.g. `/sandbox/fhir`. */
  linkBase: string;
}

const RESOURCE_ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * A FHIR R4 server in memory that behaves like Canvas Medical's FHIR API. Creates return 201 with
 * an empty body and the new version in `Location`. Searches page with relative links, and
 * `_count` defaults to 10 and is clamped to 100.
 *
 * Medplum's FhirRouter and MemoryRepository do the storage, search matching and sorting. This
 * class adds what they lack: resource validation, paging links, `_include`, and rejection of
 * search parameters that the repository cannot match.
 *
 * Only read, vread, search (GET and POST `_search`), create and update are supported. Other
 * interactions return 405, or 404 for paths such as `/metadata` or `/Patient/1/_history`.
 * Communication creates follow Canvas's rules in `canvas-communication.ts`, and a Communication
 * cannot be updated over HTTP. Appointment creates and updates follow `canvas-appointment.ts`,
 * and a Slot search needs `schedule` (`canvas-slot.ts`).
 */
export class FhirEngine {
  private readonly router = new FhirRouter();
  private readonly repo = new MemoryRepository();

  constructor() {
    indexFhirDefinitions();
  }

  /**
   * Handles one request. FHIR errors become OperationOutcome responses, and other errors are
   * thrown.
   */
  async handle(request: FhirEngineRequest): Promise<FhirEngineResponse> {
    try {
      return await this.dispatch(request);
    } catch (error) {
      if (error instanceof OperationOutcomeError) {
        return outcomeResponse(error.outcome);
      }
      throw error;
    }
  }

  /**
   * Creates or replaces a resource under its own id, with the same validation as a PUT.
   * Throws an Error that names the resource and the validation issues if it is rejected.
   */
  async upsert(resource: WithId<Resource>): Promise<void> {
    let response: FhirEngineResponse;
    try {
      response = await this.update(
        resource.resourceType,
        resource.id,
        resource,
        'return=minimal',
        '',
      );
    } catch (error) {
      response = outcomeResponse(normalizeOperationOutcome(error));
    }

    if (response.status >= 300) {
      const outcome =
        response.body?.resourceType === 'OperationOutcome' ? response.body : undefined;
      const issues = (outcome?.issue ?? [])
        .map((issue) => issue.details?.text ?? issue.code)
        .join('; ');
      throw new Error(
        `The sandbox FHIR server rejected ${resource.resourceType}/${resource.id} with status ${response.status}: ${issues}`,
      );
    }
  }

  private async dispatch(request: FhirEngineRequest): Promise<FhirEngineResponse> {
    const segments = decodePathSegments(request.path);
    const [resourceType, second, third, fourth] = segments;

    if (!resourceType) {
      return errorResponse(
        404,
        'not-supported',
        'System-level interactions are not supported by the sandbox.',
      );
    }
    if (!isResourceType(resourceType)) {
      return errorResponse(404, 'not-found', `Unknown resource type "${resourceType}".`);
    }

    if (segments.length === 1) {
      switch (request.method) {
        case 'GET':
          return this.search(resourceType, request.query, request);
        case 'POST':
          return this.create(resourceType, request.body, request);
        default:
          return methodNotAllowed(request.method, request.path);
      }
    }

    if (segments.length === 2 && second === '_search') {
      if (request.method !== 'POST') {
        return methodNotAllowed(request.method, request.path);
      }
      return this.search(resourceType, mergeSearchParameters(request.query, request.body), request);
    }

    const id = second ?? '';
    if (!RESOURCE_ID_PATTERN.test(id)) {
      return outcomeResponse(
        badRequest(`Invalid resource id "${id}": use 1 to 64 letters, digits, "-" or ".".`),
      );
    }

    if (segments.length === 2) {
      switch (request.method) {
        case 'GET':
          return this.read(`/${resourceType}/${id}`);
        case 'PUT':
          if (resourceType === 'Communication') {
            return methodNotAllowed(request.method, request.path, COMMUNICATION_UPDATE_REJECTION);
          }
          return this.update(resourceType, id, request.body, request.prefer, request.baseUrl, {
            applyCanvasRules: true,
          });
        default:
          return methodNotAllowed(request.method, request.path);
      }
    }

    if (
      segments.length === 4 &&
      third === '_history' &&
      fourth &&
      RESOURCE_ID_PATTERN.test(fourth)
    ) {
      if (request.method !== 'GET') {
        return methodNotAllowed(request.method, request.path);
      }
      return this.read(`/${resourceType}/${id}/_history/${fourth}`);
    }

    return errorResponse(
      404,
      'not-supported',
      `The sandbox does not support ${request.method} ${request.path}.`,
    );
  }

  private async search(
    resourceType: string,
    query: URLSearchParams,
    request: FhirEngineRequest,
  ): Promise<FhirEngineResponse> {
    const search = normalizeSearch(
      resourceType,
      resourceType === 'Slot' ? requireSlotSchedule(query) : query,
    );
    const includeTargets = parseIncludeTargets(resourceType, search.params);

    const [outcome, result] = await this.execute(
      'GET',
      `/${resourceType}?${search.params.toString()}`,
    );
    if (!isOk(outcome) || result?.resourceType !== 'Bundle') {
      return outcomeResponse(outcome);
    }

    const matches = (result.entry ?? []).flatMap((entry) =>
      entry.resource ? [entry.resource] : [],
    );
    const included = await this.readIncludedResources(matches, includeTargets);
    const total = result.total ?? matches.length;

    const entry: BundleEntry[] = [
      ...matches.map((resource) => searchEntry(request.baseUrl, resource, 'match')),
      ...included.map((resource) => searchEntry(request.baseUrl, resource, 'include')),
    ];
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      total,
      link: buildPageLinks(request.linkBase, search, total),
      ...(entry.length > 0 ? { entry } : {}),
    };
    return { status: 200, body: bundle, headers: {} };
  }

  private async create(
    resourceType: string,
    body: unknown,
    request: FhirEngineRequest,
  ): Promise<FhirEngineResponse> {
    const resource = requireResourceBody(body);

    // A server assigns the id and version of a new resource, so any sent by the client are dropped.
    delete resource.id;
    if (resource.meta) {
      delete resource.meta.versionId;
      delete resource.meta.lastUpdated;
    }
    const isCommunication =
      resourceType === 'Communication' && resource.resourceType === 'Communication';
    if (isCommunication) {
      prepareCommunicationCreate(resource, new Date());
    }
    const appointmentRejection = await this.rejectByAppointmentRules(resourceType, resource);
    if (appointmentRejection) {
      return appointmentRejection;
    }
    validate(resource);

    const rejection = isCommunication ? rejectInvalidCommunication(resource) : undefined;
    if (rejection) {
      return rejection;
    }

    const [outcome, created] = await this.execute('POST', `/${resourceType}`, resource);
    if (!isOk(outcome) || !created) {
      return outcomeResponse(outcome);
    }

    const headers = {
      Location: versionUrl(request.baseUrl, created),
      ...versionHeaders(created),
    };
    return withPreferredBody(
      201,
      headers,
      created,
      outcome,
      parseReturnPreference(request.prefer) ?? 'minimal',
    );
  }

  private async update(
    resourceType: string,
    id: string,
    body: unknown,
    prefer: string | undefined,
    baseUrl: string,
    options: { applyCanvasRules: boolean } = { applyCanvasRules: false },
  ): Promise<FhirEngineResponse> {
    const resource = requireResourceBody(body);
    if (options.applyCanvasRules) {
      const rejection = await this.rejectByAppointmentRules(resourceType, resource);
      if (rejection) {
        return rejection;
      }
    }
    validate(resource);
    const existed = await this.exists(resourceType, id);

    const [outcome, updated] = await this.execute('PUT', `/${resourceType}/${id}`, resource);
    if (!isOk(outcome) || !updated) {
      return outcomeResponse(outcome);
    }

    const status = existed ? 200 : 201;
    const headers: Record<string, string> = versionHeaders(updated);
    if (!existed) {
      headers.Location = versionUrl(baseUrl, updated);
    }
    return withPreferredBody(
      status,
      headers,
      updated,
      outcome,
      parseReturnPreference(prefer) ?? 'representation',
    );
  }

  private async read(url: string): Promise<FhirEngineResponse> {
    const [outcome, resource] = await this.execute('GET', url);
    if (!isOk(outcome) || !resource) {
      return outcomeResponse(outcome);
    }
    return { status: 200, body: resource, headers: versionHeaders(resource) };
  }

  /**
   * Applies Canvas's Appointment rules to an Appointment write. They run before the structural
   * validation so that a booked Appointment without `start` gets Canvas's 422, not the 400 of
   * FHIR's invariant app-3.
   */
  private async rejectByAppointmentRules(
    resourceType: string,
    resource: Resource,
  ): Promise<FhirEngineResponse | undefined> {
    if (resourceType !== 'Appointment' || resource.resourceType !== 'Appointment') {
      return undefined;
    }
    return rejectInvalidAppointment(resource, (type, id) => this.readStored(type, id));
  }

  private async exists(resourceType: string, id: string): Promise<boolean> {
    return (await this.readStored(resourceType, id)) !== undefined;
  }

  /** Reads a stored resource, or returns undefined when none has that id. */
  private async readStored(resourceType: string, id: string): Promise<Resource | undefined> {
    try {
      return await this.repo.readResource(resourceType, id);
    } catch (error) {
      if (error instanceof OperationOutcomeError && isNotFound(error.outcome)) {
        return undefined;
      }
      throw error;
    }
  }

  private async readIncludedResources(
    matches: Resource[],
    targets: IncludeTarget[],
  ): Promise<Resource[]> {
    const seen = new Set(
      matches.map((resource) => `${resource.resourceType}/${resource.id ?? ''}`),
    );
    const included: Resource[] = [];

    for (const target of targets) {
      for (const resource of matches) {
        for (const reference of collectIncludeReferences(resource, target)) {
          if (seen.has(reference)) {
            continue;
          }
          seen.add(reference);

          const [outcome, found] = await this.execute('GET', `/${reference}`);
          // A reference to a missing resource is left out, as FHIR servers do for _include.
          if (isOk(outcome) && found) {
            included.push(found);
          }
        }
      }
    }
    return included;
  }

  private async execute(
    method: HttpMethod,
    url: string,
    body?: Resource,
  ): Promise<[OperationOutcome, Resource | undefined]> {
    // FhirRouter fills pathname, params and query from url, and rejects a request that sets
    // pathname.
    const request: FhirRequest = { method, url, pathname: '', params: {}, query: {}, body };
    const [outcome, resource] = await this.router.handleRequest(request, this.repo);
    return [outcome, resource];
  }
}

function decodePathSegments(path: string): string[] {
  try {
    return path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new OperationOutcomeError(badRequest(`Invalid percent-encoding in path "${path}".`));
  }
}

/** Combines the URL query with a form-encoded POST `_search` body, as FHIR allows both. */
function mergeSearchParameters(query: URLSearchParams, body: unknown): URLSearchParams {
  const merged = new URLSearchParams(query);
  if (body === undefined) {
    return merged;
  }
  if (!(body instanceof URLSearchParams)) {
    throw new OperationOutcomeError(
      badRequest('POST _search needs a body of type application/x-www-form-urlencoded.'),
    );
  }
  for (const [name, value] of body) {
    merged.append(name, value);
  }
  return merged;
}

function requireResourceBody(body: unknown): Resource {
  if (
    typeof body !== 'object' ||
    body === null ||
    Array.isArray(body) ||
    body instanceof URLSearchParams
  ) {
    throw new OperationOutcomeError(
      badRequest('The request body must be a FHIR resource in JSON (application/fhir+json).'),
    );
  }
  return structuredClone(body) as Resource;
}

/**
 * Validates a resource against the FHIR R4 StructureDefinitions, as a real server does on write.
 */
function validate(resource: Resource): void {
  // validateResource throws an OperationOutcomeError (status 400) for errors and returns warnings.
  validateResource(resource);
}
