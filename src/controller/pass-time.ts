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
