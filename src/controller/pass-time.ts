import type { PassTime } from '../core/reconcile.js';

/**
 * The clock a pass runs on outside tests: `setTimeout` for the waits between
 * rounds, `Math.random` for their jitter, `performance.now` for its timings.
 * The engine in core/ reads no clock itself; the controller and the agent
 * hand it this one.
 */
export const realPassTime: PassTime = {
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
  monotonicNow: () => performance.now(),
};

/**
 * Resolves in a later turn of the event loop, once the I/O waiting now has
 * been served. Work of a hundred milliseconds or more that follows another
 * such piece (a fleet's plan after its last page is read, the dashboard's
 * view after the plan) awaits it first, so a request that arrived meanwhile
 * is not held for both.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
