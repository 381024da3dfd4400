import type { Params } from './query.js';

// OWNED BY: throttling helper. Interface fixed; implementation to be written.
export type ThrottleMode = { kind: 'off' } | { kind: 'aws'; scale: number };

export class Throttle {
  constructor(public mode: ThrottleMode) {}
  /** Takes one token from the bucket the call counts against; false means throttled. */
  take(_region: string, _action: string, _params: Params): boolean {
    return true;
  }
}
