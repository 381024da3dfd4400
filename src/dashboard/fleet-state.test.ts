import { describe, expect, it, vi } from 'vitest';
import { FleetState, type ReconcileOutcome } from './fleet-state.js';
import type { FleetView } from './fleet-view.js';

const view = (at: number) => ({ at: new Date(at).toISOString(), plan: { capacity: [] } }) as unknown as FleetView;
const iso = (ms: number) => new Date(ms).toISOString();

/** A read the test finishes by hand: what a read of every region that takes seconds looks like. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** A state over a fleet that answers until `failing` is set, on a clock the test moves. */
function world() {
  const w = { clock: 0, failing: false };
  const load = vi.fn(() => (w.failing ? Promise.reject(new Error('UnauthorizedOperation')) : Promise.resolve(view(w.clock))));
  const state = new FleetState({ load, maxAgeMs: 2000, now: () => w.clock });
  return { w, load, state };
}

describe('the fleet state', () => {
  it('reads the fleet at most once per interval, however often it is asked', async () => {
    const { w, load, state } = world();
    await Promise.all([state.view(), state.view()]);
    w.clock = 1999;
    await state.view();
    expect(load).toHaveBeenCalledTimes(1);
    w.clock = 2000;
    await Promise.all([state.view(), state.view(), state.view()]);
    await state.settled();
    expect(load).toHaveBeenCalledTimes(2);
    expect((await state.view()).at).toBe(iso(2000));
  });

  it('serves the last view at once while a read of an old one runs, and starts one read at a time', async () => {
    let next = deferred<FleetView>();
    const w = { clock: 0 };
    const load = vi.fn(() => next.promise);
    const state = new FleetState({ load, maxAgeMs: 2000, now: () => w.clock });

    // The very first request has nothing to show, so it waits.
    const first = state.view();
    next.resolve(view(0));
    expect((await first).at).toBe(iso(0));

    next = deferred<FleetView>();
    w.clock = 2500;
    expect((await state.view()).at).toBe(iso(0));
    expect(state.reading).toBe(true);
    w.clock = 3000;
    expect((await state.view()).at).toBe(iso(0));
    expect(load).toHaveBeenCalledTimes(2);

    next.resolve(view(2500));
    await state.settled();
    expect((await state.view()).at).toBe(iso(2500));
    expect(state.reading).toBe(false);
  });

  it('counts the age of a view from when its read began, not when it ended', async () => {
    const next = deferred<FleetView>();
    const w = { clock: 1000 };
    const load = vi.fn(() => next.promise);
    const state = new FleetState({ load, maxAgeMs: 2000, now: () => w.clock });
    const first = state.view();
    w.clock = 2500; // reading took 1.5 s
    next.resolve(view(1000));
    const shown = await first;
    expect(state.ageOf(shown)).toBe(1500);
    w.clock = 3000;
    expect(state.ageOf(shown)).toBe(2000);
    // Two seconds after the read began the data is an interval old: the next read starts, not half a second later.
    await state.view();
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('keeps the last good view through a failed read, and says why and when it failed', async () => {
    const { w, state } = world();
    await state.view();
    w.failing = true;
    w.clock = 3000;
    expect((await state.view()).at).toBe(iso(0));
    await state.settled();
    expect((await state.view()).at).toBe(iso(0));
    expect(state.lastError).toBe('UnauthorizedOperation');
    expect(state.failedAt).toBe(iso(3000));
    w.failing = false;
    w.clock = 6000;
    await state.view();
    await state.settled();
    expect((await state.view()).at).toBe(iso(6000));
    expect([state.lastError, state.failedAt]).toEqual([undefined, undefined]);
  });

  it('tries a failing read again once per interval, not at every request', async () => {
    const { w, load, state } = world();
    await state.view();
    w.failing = true;
    w.clock = 3000;
    await state.view();
    await state.settled();
    w.clock = 4000;
    await state.view();
    await state.settled();
    expect(load).toHaveBeenCalledTimes(2);
    w.clock = 5000;
    await state.view();
    await state.settled();
    expect(load).toHaveBeenCalledTimes(3);
    expect(state.failedAt).toBe(iso(5000));
  });

  it('fails without trying again within the interval when there is no view to fall back to', async () => {
    const { w, load, state } = world();
    w.failing = true;
    await expect(state.view()).rejects.toThrow('UnauthorizedOperation');
    await expect(state.view()).rejects.toThrow('UnauthorizedOperation');
    expect(load).toHaveBeenCalledTimes(1);
    expect(state.latest).toBeUndefined();
  });

  it('shows after "reconcile now" a read made after its changes, not one begun before them', async () => {
    const reads: ReturnType<typeof deferred<FleetView>>[] = [];
    const w = { clock: 0, applied: false };
    const load = vi.fn(() => {
      const d = deferred<FleetView>();
      reads.push(d);
      return d.promise;
    });
    const outcome: ReconcileOutcome = { at: iso(0), passId: 'p', added: 1, revoked: 0, errors: [] };
    const state = new FleetState({ load, maxAgeMs: 2000, now: () => w.clock, reconcile: () => Promise.resolve(outcome).finally(() => (w.applied = true)) });
    const first = state.view();
    reads[0]!.resolve(view(0));
    await first;

    // A background read begins, then the pass applies while it is under way.
    w.clock = 2500;
    await state.view();
    const done = state.reconcile();
    await vi.waitFor(() => expect(w.applied).toBe(true));
    reads[1]!.resolve(view(2500));
    await vi.waitFor(() => expect(reads).toHaveLength(3));
    w.clock = 2600;
    reads[2]!.resolve(view(2600));
    expect(await done).toBe(outcome);
    expect((await state.view()).at).toBe(iso(2600));
  });
});
