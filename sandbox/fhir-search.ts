import {
  badRequest,
  evalFhirPath,
  getExpressionForResourceType,
  getSearchParameter,
  isReference,
  OperationOutcomeError,
} from '@medplum/core';
import type { BundleLink, Reference, Resource } from '@medplum/fhirtypes';

/** Page size when a search has no `_count`, as on Canvas. */
export const DEFAULT_PAGE_SIZE = 10;

/** Largest page size, as on Canvas. A larger `_count` is clamped to it. */
export const MAX_PAGE_SIZE = 100;

/**
 * Result parameters that the sandbox accepts. `_total` is ignored because Bundle.total is always
 * set, and `_format` is ignored because the sandbox only speaks JSON.
 */
const RESULT_PARAMETERS = new Set([
  '_count',
  '_offset',
  '_sort',
  '_include',
  '_summary',
  '_total',
  '_format',
]);

/** A search with its paging parameters resolved and written back into `params`. */
export interface NormalizedSearch {
  resourceType: string;
  params: URLSearchParams;
  count: number;
  offset: number;
}

/**
 * One `_include` value, e.g. `MedicationRequest:medication` or `Appointment:actor:Practitioner`.
 */
export interface IncludeTarget {
  searchParameter: string;
  targetType?: string;
}

/**
 * Validates the search parameters and sets `_count` (default 10, at most 100) and `_offset`.
 * Throws an OperationOutcomeError with status 400 for an unknown or unsupported parameter, because
 * the in-memory repository would otherwise match nothing and hide the mistake.
 */
export function normalizeSearch(resourceType: string, input: URLSearchParams): NormalizedSearch {
  for (const key of new Set(input.keys())) {
    validateParameterName(resourceType, key);
  }
  for (const sort of input.getAll('_sort')) {
    validateSortRules(resourceType, sort);
  }

  const summary = input.get('_summary');
  if (summary !== null && summary !== 'count' && summary !== 'false') {
    throw invalidSearch(
      `_summary=${summary} is not supported by the sandbox; use _summary=count or leave it out.`,
    );
  }

  const requestedCount = parseNonNegativeInteger(input, '_count') ?? DEFAULT_PAGE_SIZE;
  const count = summary === 'count' ? 0 : Math.min(requestedCount, MAX_PAGE_SIZE);
  const offset = parseNonNegativeInteger(input, '_offset') ?? 0;

  const params = new URLSearchParams(input);
  params.set('_count', String(count));
  params.set('_offset', String(offset));
  return { resourceType, params, count, offset };
}

/**
 * Builds Bundle.link for one page: `self`, plus `next` while more results remain and `previous`
 * after the first page. URLs are relative to the server root, as Canvas sends them.
 */
export function buildPageLinks(
  linkBase: string,
  search: NormalizedSearch,
  total: number,
): BundleLink[] {
  const pageUrl = (offset: number): string => {
    const params = new URLSearchParams(search.params);
    params.set('_offset', String(offset));
    return `${linkBase}/${search.resourceType}?${params.toString()}`;
  };

  const links: BundleLink[] = [{ relation: 'self', url: pageUrl(search.offset) }];
  if (search.count === 0) {
    return links;
  }

  const nextOffset = search.offset + search.count;
  if (nextOffset < total) {
    links.push({ relation: 'next', url: pageUrl(nextOffset) });
  }
  if (search.offset > 0) {
    links.push({ relation: 'previous', url: pageUrl(Math.max(0, search.offset - search.count)) });
  }
  return links;
}

/** Parses and validates the `_include` values of a search on `resourceType`. */
export function parseIncludeTargets(
  resourceType: string,
  params: URLSearchParams,
): IncludeTarget[] {
  return params.getAll('_include').map((value) => {
    const [sourceType, searchParameter = '', targetType, ...rest] = value.split(':');
    const definition = getSearchParameter(resourceType, searchParameter);

    if (sourceType !== resourceType || !definition || rest.length > 0) {
      throw invalidSearch(
        `_include=${value} is invalid: use ${resourceType}:<reference search parameter>[:<target type>].`,
      );
    }
    if (definition.type !== 'reference') {
      throw invalidSearch(
        `_include=${value} is invalid: ${searchParameter} is not a reference search parameter.`,
      );
    }
    return { searchParameter, targetType };
  });
}

/**
 * Returns the local references (`Type/id`) that `resource` holds in the elements of an
 * `_include` target, without duplicates. Contained (`#id`) and absolute references are skipped.
 */
export function collectIncludeReferences(resource: Resource, target: IncludeTarget): string[] {
  const definition = getSearchParameter(resource.resourceType, target.searchParameter);
  const expression = definition?.expression
    ? getExpressionForResourceType(resource.resourceType, definition.expression)
    : undefined;
  if (!expression) {
    return [];
  }

  const references = new Set<string>();
  for (const value of evalFhirPath(expression, resource)) {
    const reference = isReference(value) ? (value as Reference).reference : undefined;
    if (!reference || !/^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(reference)) {
      continue;
    }
    if (target.targetType && !reference.startsWith(`${target.targetType}/`)) {
      continue;
    }
    references.add(reference);
  }
  return [...references];
}

function validateParameterName(resourceType: string, key: string): void {
  const [code = '', modifier] = key.split(':');

  if (key.includes('.')) {
    throw invalidSearch(`Chained search parameter "${key}" is not supported by the sandbox.`);
  }
  if (RESULT_PARAMETERS.has(code)) {
    if (modifier !== undefined) {
      throw invalidSearch(`Modifier "${key}" is not supported by the sandbox.`);
    }
    return;
  }
  if (!getSearchParameter(resourceType, code)) {
    throw invalidSearch(
      `Search parameter "${code}" is unknown for ${resourceType} or not supported by the sandbox.`,
    );
  }
}

/**
 * Checks a `_sort` value such as `-sent,_id`: each field must be a search parameter of the type.
 */
function validateSortRules(resourceType: string, sort: string): void {
  for (const rule of sort.split(',')) {
    const code = rule.startsWith('-') ? rule.slice(1) : rule;
    if (!code || !getSearchParameter(resourceType, code)) {
      throw invalidSearch(
        `_sort=${sort} is invalid: "${code}" is not a search parameter of ${resourceType}.`,
      );
    }
  }
}

function parseNonNegativeInteger(params: URLSearchParams, name: string): number | undefined {
  const value = params.get(name);
  if (value === null) {
    return undefined;
  }
  if (!/^\d{1,9}$/.test(value)) {
    throw invalidSearch(`${name} must be a non-negative integer, got "${value}".`);
  }
  return Number(value);
}

function invalidSearch(message: string): OperationOutcomeError {
  return new OperationOutcomeError(badRequest(message));
}
