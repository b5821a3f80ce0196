import { describe, expect, it } from 'vitest';

import { CircuitBreaker } from './circuit-breaker.server';

function breakerWithClock() {
  const clock = { nowMs: 0 };
  return { breaker: new CircuitBreaker(() => clock.nowMs), clock };
}

describe('CircuitBreaker', () => {
  it('opens after five failures in a row', () => {
    const { breaker } = breakerWithClock();
    for (let failure = 0; failure < 4; failure += 1) {
      expect(breaker.tryAcquire()).toBe(true);
      breaker.recordFailure();
    }
    expect(breaker.currentState).toBe('closed');
    breaker.recordFailure();
    expect(breaker.currentState).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
  });

  it('lets one trial through after the open period', () => {
    const { breaker, clock } = breakerWithClock();
    for (let failure = 0; failure < 5; failure += 1) breaker.recordFailure();

    clock.nowMs = 30_000;
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.currentState).toBe('half_open');
    expect(breaker.tryAcquire()).toBe(false);

    breaker.recordSuccess();
    expect(breaker.currentState).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('reopens when the trial fails', () => {
    const { breaker, clock } = breakerWithClock();
    for (let failure = 0; failure < 5; failure += 1) breaker.recordFailure();
    clock.nowMs = 30_000;
    breaker.tryAcquire();
    breaker.recordFailure();

    expect(breaker.currentState).toBe('open');
    clock.nowMs = 59_999;
    expect(breaker.tryAcquire()).toBe(false);
  });

  it('resets the count on success', () => {
    const { breaker } = breakerWithClock();
    for (let failure = 0; failure < 4; failure += 1) breaker.recordFailure();
    breaker.recordSuccess();
    breaker.recordFailure();
    expect(breaker.currentState).toBe('closed');
  });

  it('takes the threshold and open period from its settings', () => {
    const clock = { nowMs: 0 };
    const breaker = new CircuitBreaker(() => clock.nowMs, { failureThreshold: 2, openMs: 1_000 });
    breaker.recordFailure();
    expect(breaker.isOpen()).toBe(false);
    breaker.recordFailure();
    expect(breaker.isOpen()).toBe(true);

    clock.nowMs = 999;
    expect(breaker.tryAcquire()).toBe(false);
    clock.nowMs = 1_000;
    expect(breaker.isOpen()).toBe(false);
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('reports open without taking the trial slot', () => {
    const { breaker, clock } = breakerWithClock();
    for (let failure = 0; failure < 5; failure += 1) breaker.recordFailure();
    expect(breaker.isOpen()).toBe(true);

    clock.nowMs = 30_000;
    expect(breaker.isOpen()).toBe(false);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.currentState).toBe('half_open');
  });
});
