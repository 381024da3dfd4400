/**
 * Client-side pacing: sgsync spaces its own EC2 calls so that they fit
 * AWS's token buckets, instead of spending them and being throttled. A
 * throttled call is not free — it is a request AWS counts, and the SDK's
 * retry waits half a second or more before the next attempt — so a pass
 * that changes more groups than a bucket's burst holds is faster, and makes
 * fewer calls, when it waits for each token itself.
 *
 * AWS keeps a bucket per account, region and action (authorize and revoke
 * share one). This process sees only its own calls, so its buckets start
 * full and it learns about everyone else's calls only from a throttling
 * answer, which empties its bucket for that action (the SDK then retries).
 */
import { DEFAULTS } from '../config/defaults.js';

/** A bucket's size and refill, per region. */
export interface BucketRate {
  burst: number;
  perSecond: number;
}

/** What sgsync paces, per region: the security-group write bucket and each describe action's bucket. */
export interface PacingRates {
  /** AuthorizeSecurityGroupIngress and RevokeSecurityGroupIngress: one bucket between them. */
  securityGroupWrites: BucketRate;
  /** Each Describe* action: a bucket of its own. */
  describes: BucketRate;
}

/** AWS's default bucket sizes (the EC2 throttling page): the pacing default. */
export const AWS_DEFAULT_RATES: PacingRates = DEFAULTS.aws.pacing;

/**
 * A token bucket that lends: `reserve()` always takes a token, and when
 * none is left it says how long to wait until the token it took would have
 * refilled. Calls that reserve together are therefore spaced one refill
 * interval apart, in the order they asked.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;
  /**
   * One token is kept in hand: a call reaches AWS some milliseconds after it
   * was let go, and not always the same number, so a call timed to the
   * instant its token refills can arrive just before it did. The margin
   * costs one refill interval per pass.
   */
  private readonly capacity: number;

  constructor(
    private readonly rate: BucketRate,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.capacity = Math.max(1, rate.burst - 1);
    this.tokens = this.capacity;
    this.at = now();
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) / 1000) * this.rate.perSecond);
    this.at = now;
  }

  /** Takes a token; returns the milliseconds to wait before using it (0 when one was there). */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate.perSecond) * 1000);
  }

  /** AWS said the bucket is empty: whatever this process thought was left, is not. */
  drain(): void {
    this.refill();
    this.tokens = Math.min(this.tokens, 0);
  }

  /** Tokens left now, the one kept in hand not counted (negative: lent ahead). */
  available(): number {
    this.refill();
    return this.tokens;
  }
}

/** The bucket an action draws from, or undefined for actions sgsync does not pace. */
export function bucketOf(action: string): { key: string; kind: keyof PacingRates } | undefined {
  if (action === 'AuthorizeSecurityGroupIngress' || action === 'RevokeSecurityGroupIngress') return { key: 'SecurityGroupIngress', kind: 'securityGroupWrites' };
  if (action.startsWith('Describe')) return { key: action, kind: 'describes' };
  return undefined;
}

/** Every bucket this process draws from, per region and action, created on first use. */
export class Pacer {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly rates: PacingRates,
    private readonly now?: () => number,
  ) {}

  private bucket(region: string, action: string): TokenBucket | undefined {
    const which = bucketOf(action);
    if (!which) return undefined;
    const key = `${region} ${which.key}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.rates[which.kind], this.now);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  /** Milliseconds to wait before sending `action` in `region` (its token is taken now). */
  reserve(region: string, action: string): number {
    return this.bucket(region, action)?.reserve() ?? 0;
  }

  /** A throttling answer for `action` in `region`. */
  throttled(region: string, action: string): void {
    this.bucket(region, action)?.drain();
  }
}
