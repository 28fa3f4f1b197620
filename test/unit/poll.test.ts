import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, TimeoutError } from '../../core/errors.js';
import { pollUntil, sleep } from '../../core/poll.js';

// Real timers with intervals of a few milliseconds: the waits are short, so the file stays fast
// and no fake clock hides how the loop really sleeps.

const timedOut = () => {
  throw new TimeoutError('gave up');
};

describe('pollUntil', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('returns the first value an attempt gives, without further attempts', async () => {
    const seen: number[] = [];
    const value = await pollUntil(
      async (n) => {
        seen.push(n);
        return n === 3 ? `ready at ${n}` : undefined;
      },
      { timeoutMs: 1_000, intervalMs: 5, onTimeout: timedOut },
    );
    expect(value).toBe('ready at 3');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('takes false as a value: only undefined means "not yet"', async () => {
    let calls = 0;
    const value = await pollUntil(
      async () => {
        calls++;
        return false;
      },
      { timeoutMs: 1_000, intervalMs: 5, onTimeout: () => true },
    );
    expect(value).toBe(false);
    expect(calls).toBe(1);
  });

  it('on timeout returns what onTimeout decides, told the last error and the attempt count', async () => {
    let count = 0;
    const started = Date.now();
    const outcome = await pollUntil<string>(
      async (n) => {
        count = n;
        throw new Error(`refused ${n}`);
      },
      { timeoutMs: 100, intervalMs: 10, onTimeout: ({ attempts, error }) => `${attempts} attempts, last: ${(error as Error).message}` },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(outcome).toBe(`${count} attempts, last: refused ${count}`);
    expect(count).toBeGreaterThan(1);
  });

  it("rejects with the caller's error on timeout; the error is undefined when the last attempt only said not yet", async () => {
    let last: { attempts: number; error: unknown } | undefined;
    const error = await pollUntil(
      async (n) => {
        if (n === 1) throw new Error('early failure');
        return undefined;
      },
      {
        timeoutMs: 60,
        intervalMs: 10,
        onTimeout: (seen) => {
          last = seen;
          throw new TimeoutError(`not ready within 60 ms after ${seen.attempts} attempts`);
        },
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(/^not ready within 60 ms after \d+ attempts$/);
    expect(last?.attempts).toBeGreaterThan(1);
    expect(last?.error).toBeUndefined();
  });

  it('rethrows at once an error stopOn picks, and retries the others', async () => {
    const permanent = new Error('All configured authentication methods failed');
    const seen: number[] = [];
    const started = Date.now();
    const error = await pollUntil(
      async (n) => {
        seen.push(n);
        throw n < 3 ? new Error('ECONNREFUSED') : permanent;
      },
      { timeoutMs: 5_000, intervalMs: 5, stopOn: (e) => e === permanent, onTimeout: timedOut },
    ).catch((e: unknown) => e);
    expect(error).toBe(permanent);
    expect(seen).toEqual([1, 2, 3]);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('makes the first attempt even with no time left, and no second one', async () => {
    let calls = 0;
    const remaining: number[] = [];
    const outcome = await pollUntil(
      async (_n, remainingMs) => {
        calls++;
        remaining.push(remainingMs);
        return undefined;
      },
      { timeoutMs: 0, intervalMs: 10, onTimeout: ({ attempts }) => attempts },
    );
    expect(outcome).toBe(1);
    expect(calls).toBe(1);
    expect(remaining[0]).toBeLessThanOrEqual(0);
  });

  it('tells each attempt the time left, so that its own bound fits the wait', async () => {
    const remaining: number[] = [];
    await pollUntil(
      async (_n, remainingMs) => {
        remaining.push(remainingMs);
        return undefined;
      },
      { timeoutMs: 200, intervalMs: 50, onTimeout: () => undefined },
    );
    expect(remaining[0]).toBeGreaterThan(150);
    expect(remaining[0]).toBeLessThanOrEqual(200);
    expect(remaining.every((ms, i) => i === 0 || ms < (remaining[i - 1] as number))).toBe(true);
  });

  it('rejects promptly with AbortedError when the signal aborts during the pause', async () => {
    const controller = new AbortController();
    let calls = 0;
    const started = Date.now();
    setTimeout(() => controller.abort(), 30);
    const error = await pollUntil(
      async () => {
        calls++;
        return undefined;
      },
      { timeoutMs: 60_000, intervalMs: 10_000, signal: controller.signal, onTimeout: timedOut },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(calls).toBe(1);
  });

  it('makes no attempt when the signal has already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    let calls = 0;
    const error = await pollUntil(
      async () => {
        calls++;
        return 'value';
      },
      { timeoutMs: 1_000, intervalMs: 10, signal: controller.signal, onTimeout: timedOut },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect(calls).toBe(0);
  });

  it('never makes more than ceil(timeoutMs / intervalMs) + 1 attempts, even when attempts are instant', async () => {
    let calls = 0;
    const attempts = await pollUntil(
      async () => {
        calls++;
        return undefined;
      },
      { timeoutMs: 100, intervalMs: 10, onTimeout: ({ attempts }) => attempts },
    );
    expect(attempts).toBe(calls);
    expect(calls).toBeLessThanOrEqual(11);
  });

  it('is bounded in count when the wall clock stands still', async () => {
    // A clock that stops (or steps back under NTP) cannot be caused for real in a test: Date.now
    // is frozen here, the only fake in this file, to show that the count bound then ends the poll.
    const frozen = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(frozen);
    let calls = 0;
    const attempts = await pollUntil(
      async () => {
        calls++;
        return undefined;
      },
      { timeoutMs: 40, intervalMs: 5, onTimeout: ({ attempts }) => attempts },
    );
    expect(calls).toBe(9);
    expect(attempts).toBe(9);
  });

  it('refuses bounds that would make an endless loop', async () => {
    const attempt = async () => undefined;
    await expect(pollUntil(attempt, { timeoutMs: Number.POSITIVE_INFINITY, intervalMs: 10, onTimeout: timedOut })).rejects.toThrow(RangeError);
    await expect(pollUntil(attempt, { timeoutMs: 100, intervalMs: 0, onTimeout: timedOut })).rejects.toThrow(RangeError);
    await expect(pollUntil(attempt, { timeoutMs: Number.NaN, intervalMs: 10, onTimeout: timedOut })).rejects.toThrow(RangeError);
  });
});

describe('sleep', () => {
  it('wakes early and rejects with AbortedError when the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 20);
    await expect(sleep(10_000, controller.signal)).rejects.toBeInstanceOf(AbortedError);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
