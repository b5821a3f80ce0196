/** Default count of failures in a row that open the circuit. */
const FAILURE_THRESHOLD = 5;
/** Default time an open circuit rejects calls before it lets one trial call through. */
const OPEN_DURATION_MS = 30_000;

type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerSettings {
  failureThreshold: number;
  openMs: number;
}

/**
 * Circuit breaker of one upstream: after `failureThreshold` failures in a row it rejects calls
 * for `openMs`, then lets a single trial through (half-open). The trial's success closes the
 * circuit; its failure opens it again. State is per process on purpose: each process judges the
 * upstream from its own calls.
 */
export class CircuitBreaker {
  private state: CircuitState = 'closed';
  private consecutiveFailures = 0;
  private openedAtMs = 0;
  private trialInFlight = false;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly settings: CircuitBreakerSettings = {
      failureThreshold: FAILURE_THRESHOLD,
      openMs: OPEN_DURATION_MS,
    },
  ) {}

  /** Returns whether a call may go out now, reserving the trial slot when half-open. */
  tryAcquire(): boolean {
    if (this.state === 'open' && this.now() - this.openedAtMs >= this.settings.openMs) {
      this.state = 'half_open';
    }
    if (this.state === 'closed') return true;
    if (this.state === 'half_open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return true;
    }
    return false;
  }

  /** Returns whether calls are rejected now, without reserving the trial slot. */
  isOpen(): boolean {
    return this.state === 'open' && this.now() - this.openedAtMs < this.settings.openMs;
  }

  recordSuccess(): void {
    this.state = 'closed';
    this.consecutiveFailures = 0;
    this.trialInFlight = false;
  }

  recordFailure(): void {
    this.trialInFlight = false;
    this.consecutiveFailures += 1;
    if (this.state === 'half_open' || this.consecutiveFailures >= this.settings.failureThreshold) {
      this.state = 'open';
      this.openedAtMs = this.now();
    }
  }

  get currentState(): CircuitState {
    return this.state;
  }
}
