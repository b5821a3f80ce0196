import type { OperationOutcome } from '@medplum/fhirtypes';

export type UpstreamName = 'fhir' | 'sendgrid' | 'fedex' | 'zoom' | 'canvas-oauth';

export type UpstreamFailure = 'timeout' | 'network' | 'http' | 'circuit_open' | 'malformed';

/** The one error shape of every upstream call: which upstream, what kind of failure, and the status. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';

  constructor(
    readonly upstream: UpstreamName,
    readonly failure: UpstreamFailure,
    message: string,
    readonly status?: number,
    readonly outcome?: OperationOutcome,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
