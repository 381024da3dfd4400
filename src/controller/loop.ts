import { setTimeout as delay } from 'node:timers/promises';

export interface Backoff {
  /** The wait after the first failure; it doubles with each failure in a row. */
  baseMs: number;
  maxMs: number;
}

export interface LoopOptions {
  /** One pass: resolves true when it succeeded, false when it ran with problems; throws when it could not run. */
  pass: () => Promise<boolean>;
  intervalMs: number;
  /** Up to this much is added to each interval at random. */
  jitterMs: number;
  backoff?: Backoff;
  /** Aborting stops the loop: a pass under way is waited for (its driver cuts it short), a wait ends at once. */
  signal: AbortSignal;
  /** Run one pass and return. */
  once?: boolean;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  onError?: (error: unknown) => void;
  /** Called before each wait, with how long and how many failures in a row led to it. */
  onWait?: (ms: number, failures: number) => void;
}

export interface LoopEnd {
  passes: number;
  /** Failures in a row when the loop stopped (0: the last pass succeeded). */
  failures: number;
}

/**
 * Most failures (a throttled burst, a network blip) pass in seconds, so the
 * first retry comes soon; a longer outage is not hammered, because the wait
 * doubles up to four intervals (at most an hour, never below one interval).
 */
export function defaultBackoff(intervalMs: number): Backoff {
  return { baseMs: Math.min(5_000, intervalMs), maxMs: Math.max(intervalMs, Math.min(4 * intervalMs, 3_600_000)) };
}

/**
 * How long to wait before the next pass. After a success: the interval plus
 * up to `jitterMs`, so controllers started together drift apart. After
 * `failures` failures in a row: exponential backoff with "equal jitter" —
 * half the step fixed, half random — so retries spread out but never collapse
 * to zero.
 */
export function nextDelay(input: { intervalMs: number; jitterMs: number; failures: number; backoff: Backoff; random: () => number }): number {
  const { intervalMs, jitterMs, failures, backoff, random } = input;
  if (failures === 0) return Math.round(intervalMs + random() * jitterMs);
  const step = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(step / 2 + (random() * step) / 2);
}

async function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (e) {
    if (!signal.aborted) throw e;
  }
}

/**
 * The controller daemon's schedule: a pass, a wait, a pass… until the
 * signal is aborted. The loop never abandons a pass: a stop waits for it to
 * return, then returns. The daemon's pass watches the same stop and starts no
 * further change once it comes (`PassOptions.shouldStop`), so the wait is for
 * the calls in flight, which land and are audited, not for the whole pass:
 * stopping half-way through a plan is safe (every step is idempotent), and
 * the next pass finishes the work.
 */
export async function runLoop(options: LoopOptions): Promise<LoopEnd> {
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? Math.random;
  const backoff = options.backoff ?? defaultBackoff(options.intervalMs);
  let passes = 0;
  let failures = 0;
  while (!options.signal.aborted) {
    let ok = false;
    try {
      ok = await options.pass();
    } catch (e) {
      options.onError?.(e);
    }
    passes++;
    failures = ok ? 0 : failures + 1;
    if (options.once || options.signal.aborted) break;
    const ms = nextDelay({ intervalMs: options.intervalMs, jitterMs: options.jitterMs, failures, backoff, random });
    options.onWait?.(ms, failures);
    await sleep(ms, options.signal);
  }
  return { passes, failures };
}
