/** Failures in a row that open the circuit. */
const FAILURE_THRESHOLD = 5;
/** How long an open circuit rejects calls before it lets one trial call through. */
const OPEN_DURATION_MS = 30_000;

type CircuitState = 'closed' | 'open' | 'half_open';

/**
 * Circuit breaker of one upstream: after FAILURE_THRESHOLD failures in a row it rejects calls
 * for OPEN_DURATION_MS, then lets a single trial through (half-open). The trial's success
 * closes the circuit; its failure opens it again. State is per process on purpose: each
 * process judges the upstream from its own calls.
 */
export class CircuitBreaker {
  private state: CircuitState = 'closed';
  private consecutiveFailures = 0;
  private openedAtMs = 0;
  private trialInFlight = false;

  constructor(private readonly now: () => number = Date.now) {}

  /** Returns whether a call may go out now, reserving the trial slot when half-open. */
  tryAcquire(): boolean {
    if (this.state === 'open' && this.now() - this.openedAtMs >= OPEN_DURATION_MS) {
      this.state = 'half_open';
    }
    if (this.state === 'closed') return true;
    if (this.state === 'half_open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return true;
    }
    return false;
  }

  recordSuccess(): void {
    this.state = 'closed';
    this.consecutiveFailures = 0;
    this.trialInFlight = false;
  }

  recordFailure(): void {
    this.trialInFlight = false;
    this.consecutiveFailures += 1;
    if (this.state === 'half_open' || this.consecutiveFailures >= FAILURE_THRESHOLD) {
      this.state = 'open';
      this.openedAtMs = this.now();
    }
  }

  get currentState(): CircuitState {
    return this.state;
  }
}
