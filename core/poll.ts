import { AbortedError } from './errors.js';

// Waiting for something outside labctl (an sshd, a container, a web site, a device node) is always
// the same loop: look, and if it is not there yet, sleep and look again, until a bound runs out or
// the user interrupts. It lives here once so that each wait is bounded in time and in count,
// wakes at once on Ctrl-C, and differs from the others only in what it looks at and what it says
// when it gives up.

/** The error of every interrupted wait or command: provisioning is where an interrupt costs the most. */
export function abortedError(): AbortedError {
  return new AbortedError('provisioning was interrupted', {
    hint: 'every step checks before it acts: run `labctl provision` to continue where it stopped',
  });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError();
}

/** Sleeps, waking early (and throwing) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What the poll saw when its time ran out, for the caller's message. */
export interface PollTimeout {
  /** How many attempts ran. */
  attempts: number;
  /** What the last attempt threw; undefined when it answered "not yet" (or none ran). */
  error: unknown;
}

export interface PollOptions<T> {
  /** Later attempts start only while this much time since the start remains. */
  timeoutMs: number;
  /** Pause between attempts, cut short at the deadline so that a timeout is not overslept. */
  intervalMs: number;
  /** Checked before each attempt and during each pause: an abort rejects with AbortedError. */
  signal?: AbortSignal | undefined;
  /**
   * Which errors thrown by an attempt end the poll at once (rethrown as they are): those that
   * waiting cannot cure, such as a refused key or a lost connection. Any other error counts as
   * "not yet" and is handed to onTimeout if it was the last one. Default: none ends it.
   */
  stopOn?: (error: unknown) => boolean;
  /**
   * The outcome when time runs out: a value to return (false, a failure text) or a throw. It is
   * the caller's, because each wait names what it waited for and what to do about it.
   */
  onTimeout: (last: PollTimeout) => T;
}

/**
 * Calls `attempt` until it resolves to a value other than undefined, and returns that value.
 * `attempt` gets its number (from 1) and the time left, so that its own bound can fit the wait's.
 *
 * The first attempt always runs, so that a wait reports what it saw and not merely that it did
 * not look. Attempts are also capped in count, at ceil(timeoutMs / intervalMs) + 1: pauses of
 * intervalMs never allow more, so the cap only binds when the wall clock stands still or steps
 * back, and then it keeps the loop from spinning forever.
 */
export async function pollUntil<T>(attempt: (n: number, remainingMs: number) => Promise<T | undefined>, opts: PollOptions<T>): Promise<T> {
  // An infinite or NaN bound would make an unbounded loop: that is a bug in the caller.
  if (!Number.isFinite(opts.timeoutMs)) throw new RangeError(`pollUntil: timeoutMs must be finite, got ${opts.timeoutMs}`);
  if (!(opts.intervalMs > 0 && Number.isFinite(opts.intervalMs))) throw new RangeError(`pollUntil: intervalMs must be a positive number, got ${opts.intervalMs}`);
  const deadline = Date.now() + opts.timeoutMs;
  const maxAttempts = Math.max(1, Math.ceil(opts.timeoutMs / opts.intervalMs) + 1);
  let error: unknown;
  let n = 0;
  while (n < maxAttempts) {
    throwIfAborted(opts.signal);
    n++;
    error = undefined;
    try {
      const value = await attempt(n, deadline - Date.now());
      if (value !== undefined) return value;
    } catch (thrown) {
      if (opts.stopOn?.(thrown)) throw thrown;
      error = thrown;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0 || n >= maxAttempts) break;
    await sleep(Math.min(opts.intervalMs, remaining), opts.signal);
    if (deadline - Date.now() <= 0) break;
  }
  return opts.onTimeout({ attempts: n, error });
}
