import { describe, expect, it, vi } from 'vitest';
import { FleetState } from './fleet-state.js';
import type { FleetView } from './fleet-view.js';

const view = (at: number) => ({ at: new Date(at).toISOString(), plan: { capacity: [] } }) as unknown as FleetView;

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
    expect((await state.view()).at).toBe(new Date(2000).toISOString());
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('keeps the last good view through a failed read, and says why and when it failed', async () => {
    const { w, state } = world();
    await state.view();
    w.failing = true;
    w.clock = 3000;
    expect((await state.view()).at).toBe(new Date(0).toISOString());
    expect(state.lastError).toBe('UnauthorizedOperation');
    expect(state.failedAt).toBe(new Date(3000).toISOString());
    w.failing = false;
    w.clock = 6000;
    expect((await state.view()).at).toBe(new Date(6000).toISOString());
    expect([state.lastError, state.failedAt]).toEqual([undefined, undefined]);
  });

  it('tries a failing read again once per interval, not at every request', async () => {
    const { w, load, state } = world();
    await state.view();
    w.failing = true;
    w.clock = 3000;
    await state.view();
    w.clock = 4000;
    await state.view();
    expect(load).toHaveBeenCalledTimes(2);
    w.clock = 5000;
    await state.view();
    expect(load).toHaveBeenCalledTimes(3);
    expect(state.failedAt).toBe(new Date(5000).toISOString());
  });

  it('fails without trying again within the interval when there is no view to fall back to', async () => {
    const { w, load, state } = world();
    w.failing = true;
    await expect(state.view()).rejects.toThrow('UnauthorizedOperation');
    await expect(state.view()).rejects.toThrow('UnauthorizedOperation');
    expect(load).toHaveBeenCalledTimes(1);
    expect(state.latest).toBeUndefined();
  });
});
