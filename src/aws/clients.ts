import { EC2Client } from '@aws-sdk/client-ec2';
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorName, isAlreadyDone } from './errors.js';
import { ListingProtocol } from './listing-protocol.js';
import { AWS_DEFAULT_RATES, Pacer, type PacingRates } from './pacing.js';

export interface AwsOptions {
  /** An EC2 endpoint for every region (the sandbox, or a VPC endpoint). The SDK's AWS_ENDPOINT_URL also works. */
  endpoint?: string;
  /** A named profile from the shared config files. */
  profile?: string;
  /** Attempts per call, including the first; adaptive retry spaces them out. */
  maxAttempts?: number;
  /**
   * The longest one call may take, retries included (default 5 minutes). The
   * SDK's own timeouts only notice silence, so an endpoint that trickles its
   * answer a byte at a time would otherwise hold a pass forever.
   */
  callTimeoutMs?: number;
  /**
   * The token buckets sgsync spaces its own calls to fit (default: AWS's
   * sizes); false sends every call at once and leaves throttling to retries.
   */
  pacing?: PacingRates | false;
}

/** Default of `AwsOptions.callTimeoutMs`: longer than a fully throttled call with every retry, shorter than forever. */
export const CALL_TIMEOUT_MS = 300_000;

/** A map's entries in key order, each key split back into the space-joined parts it was made of. */
function inKeyOrder<V>(map: ReadonlyMap<string, V>): [string[], V][] {
  return [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => [key.split(' '), value]);
}

/** Counts of calls made, by region and action and outcome: what metrics and tests read. */
export class CallStats {
  private readonly counts = new Map<string, number>();
  private readonly paced = new Map<string, { waits: number; ms: number }>();

  /** A call that waited `ms` for its token before it was sent. */
  recordPacing(region: string, action: string, ms: number): void {
    const key = `${region} ${action}`;
    const entry = this.paced.get(key) ?? { waits: 0, ms: 0 };
    entry.waits++;
    entry.ms += ms;
    this.paced.set(key, entry);
  }

  /** `[{region, action, waits, seconds}]` of the calls that waited for a token, sorted. */
  pacing(): { region: string; action: string; waits: number; seconds: number }[] {
    return inKeyOrder(this.paced).map(([[region = '', action = ''], { waits, ms }]) => ({ region, action, waits, seconds: ms / 1000 }));
  }

  /** One attempt; `already-done`: an error that means the change is already made (see `isAlreadyDone`). */
  record(region: string, action: string, outcome: 'ok' | 'error' | 'throttled' | 'already-done' | 'cancelled'): void {
    const key = `${region} ${action} ${outcome}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** `[{region, action, outcome, count}]`, sorted. */
  entries(): { region: string; action: string; outcome: string; count: number }[] {
    return inKeyOrder(this.counts).map(([[region = '', action = '', outcome = ''], count]) => ({ region, action, outcome, count }));
  }

  total(filter: { action?: string; outcome?: string } = {}): number {
    return this.entries()
      .filter((e) => (filter.action ? e.action === filter.action : true) && (filter.outcome ? e.outcome === filter.outcome : true))
      .reduce((n, e) => n + e.count, 0);
  }
}

/**
 * The signal of the caller of the EC2 call being made, if it gave one: a call
 * that fails once its caller stopped it (a pass stopping a listing it no
 * longer needs) failed because sgsync gave up on it, not because AWS failed.
 * Kept per call in the call's async context, which reaches the middleware
 * that counts each attempt.
 */
const callerSignal = new AsyncLocalStorage<AbortSignal | undefined>();

/**
 * One EC2 client per region, created on first use, with adaptive retry (the
 * client slows itself down when AWS throttles) and a middleware that counts
 * every attempt, so metrics show throttles that retries hid.
 */
export class Ec2Clients {
  private readonly clients = new Map<string, EC2Client>();
  readonly stats = new CallStats();
  private readonly pacer: Pacer | undefined;

  constructor(private readonly options: AwsOptions = {}) {
    this.pacer = options.pacing === false ? undefined : new Pacer(options.pacing ?? AWS_DEFAULT_RATES);
  }

  get(region: string): EC2Client {
    let client = this.clients.get(region);
    if (client) return client;
    client = new EC2Client({
      region,
      // The SDK's protocol, reading of a DescribeInstances answer only what a listing keeps.
      protocol: ListingProtocol,
      retryMode: 'adaptive',
      maxAttempts: this.options.maxAttempts ?? 8,
      ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
      ...(this.options.profile ? { profile: this.options.profile } : {}),
    });
    // Every call, paginators' pages included, gets its own deadline: the only bound the SDK has on a slow answer body.
    // A caller's own signal (a pass cancelling a listing it no longer needs) is added to the deadline, not put in its place.
    const send = client.send.bind(client) as (command: unknown, ...rest: unknown[]) => Promise<unknown>;
    const timeoutMs = this.options.callTimeoutMs ?? CALL_TIMEOUT_MS;
    client.send = ((command: unknown, ...rest: unknown[]) => {
      if (typeof rest[0] === 'function' || rest.length > 1) return send(command, ...rest);
      const given = (rest[0] ?? {}) as { abortSignal?: AbortSignal };
      // One controller, held by this call until it ends, that either aborts: a signal made by
      // AbortSignal.any holds its sources weakly, and a timeout signal collected early never fires.
      const call = new AbortController();
      const timer = setTimeout(() => call.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
      const stop = () => call.abort(given.abortSignal?.reason);
      if (given.abortSignal?.aborted) stop();
      else given.abortSignal?.addEventListener('abort', stop, { once: true });
      return callerSignal
        .run(given.abortSignal, () => send(command, { ...given, abortSignal: call.signal }))
        .finally(() => {
          clearTimeout(timer);
          given.abortSignal?.removeEventListener('abort', stop);
        });
    }) as EC2Client['send'];
    const { stats, pacer } = this;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const action = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        const wait = pacer?.reserve(region, action) ?? 0;
        if (wait > 0) {
          stats.recordPacing(region, action, wait);
          await sleep(wait);
        }
        try {
          const out = await next(args);
          stats.record(region, action, 'ok');
          return out;
        } catch (e) {
          const name = errorName(e);
          const throttled = name === 'RequestLimitExceeded';
          if (throttled) pacer?.throttled(region, action);
          stats.record(region, action, throttled ? 'throttled' : isAlreadyDone(action, name) ? 'already-done' : callerSignal.getStore()?.aborted === true ? 'cancelled' : 'error');
          throw e;
        }
      },
      // After retries are decided, so that each attempt is paced and counted.
      { step: 'finalizeRequest', name: 'sgsyncPaceAndCount', priority: 'low' },
    );
    this.clients.set(region, client);
    return client;
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }
}
