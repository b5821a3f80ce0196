/** Upstreams whose sandbox stand-ins take faults and count calls. */
export type SandboxUpstream = 'fhir' | 'sendgrid' | 'fedex' | 'zoom';

/**
 * Sets the faults of one stand-in of a test portal (see sandbox/README.md, "Faults"), or clears
 * them when `settings` is null. Throws when the sandbox rejects the settings.
 */
export async function setSandboxFault(
  portalBaseUrl: string,
  upstream: SandboxUpstream,
  settings: Record<string, unknown> | null,
): Promise<void> {
  const response = await fetch(`${portalBaseUrl}/sandbox/faults/${upstream}`, {
    method: settings ? 'PUT' : 'DELETE',
    headers: { 'content-type': 'application/json' },
    body: settings ? JSON.stringify(settings) : undefined,
  });
  if (!response.ok) {
    throw new Error(
      `Setting ${upstream} faults failed with ${response.status}: ${await response.text()}`,
    );
  }
}

/** Returns how many API requests a stand-in has served, token requests left out. */
export async function countUpstreamRequests(
  portalBaseUrl: string,
  upstream: SandboxUpstream,
): Promise<number> {
  const stats = (await (await fetch(`${portalBaseUrl}/sandbox/stats`)).json()) as Partial<
    Record<SandboxUpstream, { requests: number; tokenRequests?: number }>
  >;
  const counters = stats[upstream];
  return (counters?.requests ?? 0) - (counters?.tokenRequests ?? 0);
}
