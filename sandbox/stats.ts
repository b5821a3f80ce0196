import { UPSTREAM_NAMES, type UpstreamName } from './faults.js';

/** Named counters per stand-in, e.g. `{ fhir: { requests: 3, tokenRequests: 1 } }`. */
export type CallCountsByUpstream = Record<UpstreamName, Record<string, number>>;

/** Counters that a stand-in reports as 0 before its first call, besides `requests`. */
export type ExtraCounterNames = Partial<Record<UpstreamName, readonly string[]>>;

/**
 * Call counters per stand-in, so that tests and benchmarks can count upstream calls.
 * Every stand-in has a `requests` counter, which includes requests that got an injected fault.
 */
export class CallCounters {
  private counts: CallCountsByUpstream;

  constructor(private readonly extraCounterNames: ExtraCounterNames = {}) {
    this.counts = this.zero();
  }

  increment(upstream: UpstreamName, counter: string): void {
    const counts = this.counts[upstream];
    counts[counter] = (counts[counter] ?? 0) + 1;
  }

  reset(): void {
    this.counts = this.zero();
  }

  toJSON(): CallCountsByUpstream {
    return structuredClone(this.counts);
  }

  private zero(): CallCountsByUpstream {
    const entries = UPSTREAM_NAMES.map((name) => {
      const counters: Record<string, number> = { requests: 0 };
      for (const counter of this.extraCounterNames[name] ?? []) {
        counters[counter] = 0;
      }
      return [name, counters] as const;
    });
    return Object.fromEntries(entries) as CallCountsByUpstream;
  }
}
