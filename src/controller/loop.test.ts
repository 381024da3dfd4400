import { describe, expect, it } from 'vitest';
import { defaultBackoff, nextDelay, runLoop } from './loop.js';

const backoff = { baseMs: 1_000, maxMs: 8_000 };

/** A loop whose passes follow `outcomes` (true, false, or 'throw') and whose sleeps are recorded, not waited. */
async function schedule(outcomes: (boolean | 'throw')[], options: { random?: () => number; jitterMs?: number } = {}) {
  const stop = new AbortController();
  const waits: number[] = [];
  const errors: unknown[] = [];
  let i = 0;
  const end = await runLoop({
    intervalMs: 10_000,
    jitterMs: options.jitterMs ?? 0,
    backoff,
    signal: stop.signal,
    random: options.random ?? (() => 1),
    pass: () => {
      const outcome = outcomes[i++];
      if (i >= outcomes.length) stop.abort();
      if (outcome === 'throw') return Promise.reject(new Error('AWS is down'));
      return Promise.resolve(outcome === true);
    },
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    onError: (e) => errors.push(e),
  });
  return { end, waits, errors };
}

describe('the controller loop', () => {
  it('waits one interval between successful passes', async () => {
    const { end, waits } = await schedule([true, true, true]);
    expect(waits).toEqual([10_000, 10_000]);
    expect(end).toEqual({ passes: 3, failures: 0 });
  });

  it('adds up to the jitter to each interval', async () => {
    const { waits } = await schedule([true, true, true], { jitterMs: 2_000, random: (() => { const r = [0, 0.5]; return () => r.shift() ?? 0; })() });
    expect(waits).toEqual([10_000, 11_000]);
  });

  it('backs off exponentially after failures in a row, up to the maximum, and resets after a success', async () => {
    const { waits, end } = await schedule([false, 'throw', false, false, false, true, false, true]);
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 10_000, 1_000]);
    expect(end.failures).toBe(0);
  });

  it('reports every pass that throws, and keeps going', async () => {
    const { errors, end } = await schedule(['throw', 'throw', true]);
    expect(errors.map((e) => (e as Error).message)).toEqual(['AWS is down', 'AWS is down']);
    expect(end.passes).toBe(3);
  });

  it('runs one pass with once, whatever its outcome', async () => {
    for (const outcome of [true, false]) {
      const end = await runLoop({ intervalMs: 1, jitterMs: 0, signal: new AbortController().signal, once: true, pass: () => Promise.resolve(outcome) });
      expect(end).toEqual({ passes: 1, failures: outcome ? 0 : 1 });
    }
  });

  it('lets the pass under way finish when stopped, then starts no other', async () => {
    const stop = new AbortController();
    const log: string[] = [];
    const end = await runLoop({
      intervalMs: 60_000,
      jitterMs: 0,
      signal: stop.signal,
      pass: async () => {
        log.push('pass started');
        stop.abort();
        await new Promise((r) => setTimeout(r, 5));
        log.push('pass finished');
        return true;
      },
    });
    expect(log).toEqual(['pass started', 'pass finished']);
    expect(end.passes).toBe(1);
  });

  it('ends a wait at once when stopped, without waiting out the interval', async () => {
    const stop = new AbortController();
    const running = runLoop({ intervalMs: 3_600_000, jitterMs: 0, signal: stop.signal, pass: () => Promise.resolve(true), onWait: () => setImmediate(() => stop.abort()) });
    await expect(running).resolves.toEqual({ passes: 1, failures: 0 });
  });
});

describe('the delay before the next pass', () => {
  it.each([
    // failures, random, expected ms
    [1, 0, 500],
    [1, 1, 1_000],
    [3, 0, 2_000],
    [3, 1, 4_000],
    [50, 0, 4_000],
    [50, 1, 8_000],
  ])('after %i failure(s) with random %d is %i ms: half the step fixed, half random', (failures, r, expected) => {
    expect(nextDelay({ intervalMs: 10_000, jitterMs: 0, failures, backoff, random: () => r })).toBe(expected);
  });

  it.each([
    [10_000, { baseMs: 5_000, maxMs: 40_000 }],
    [2_000, { baseMs: 2_000, maxMs: 8_000 }],
    [86_400_000, { baseMs: 5_000, maxMs: 86_400_000 }],
  ])('by default, for an interval of %i ms, backs off from %o', (intervalMs, expected) => {
    expect(defaultBackoff(intervalMs)).toEqual(expected);
  });
});
