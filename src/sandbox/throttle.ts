import type { Params } from './query.js';

/**
 * EC2's request-rate throttling: token buckets per account and region, one per
 * API action, sized by the action's category. `aws:SCALE` keeps every burst
 * and multiplies every refill rate, so a benchmark sees AWS's ratios in a
 * fraction of the time.
 */
export type ThrottleMode = { kind: 'off' } | { kind: 'aws'; scale: number };

export interface BucketSize {
  /** Tokens a full bucket holds. */
  burst: number;
  /** Tokens added per second at scale 1. */
  refillPerSecond: number;
}

/** AWS's published sizes (see AWS-FACTS.md). */
export const BUCKET_SIZES = {
  'non-mutating': { burst: 100, refillPerSecond: 20 },
  'unfiltered-unpaginated': { burst: 50, refillPerSecond: 10 },
  'resource-intensive': { burst: 50, refillPerSecond: 5 },
  mutating: { burst: 50, refillPerSecond: 5 },
  CreateTags: { burst: 100, refillPerSecond: 10 },
  RunInstances: { burst: 5, refillPerSecond: 2 },
  TerminateInstances: { burst: 100, refillPerSecond: 5 },
} as const satisfies Record<string, BucketSize>;

export type Category = keyof typeof BUCKET_SIZES;

/** Describe calls that AWS meters more tightly when they ask for everything at once. */
const UNFILTERED_METERED = new Set([
  'DescribeInstances', 'DescribeInstanceStatus', 'DescribeNetworkInterfaces', 'DescribeSecurityGroups',
  'DescribeSnapshots', 'DescribeSpotInstanceRequests', 'DescribeVolumes',
]);

/** Parameters that make a describe call filtered, paginated or limited to ids. */
const NARROWING = ['Filter', 'MaxResults', 'NextToken', 'InstanceId', 'GroupId', 'GroupName', 'NetworkInterfaceId', 'SnapshotId', 'VolumeId', 'SpotInstanceRequestId'];

/** Authorize and revoke draw from one bucket in AWS, so they do here. */
const RESOURCE_INTENSIVE = new Set(['AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress']);

/**
 * Which bucket a call draws from: its category (for the size) and the bucket's
 * name within the region. Pure, so the classification can be tested as a table.
 */
export function classify(action: string, params?: Params): { category: Category; bucket: string } {
  if (RESOURCE_INTENSIVE.has(action)) return { category: 'resource-intensive', bucket: 'AuthorizeRevokeSecurityGroupIngress' };
  if (action === 'CreateTags' || action === 'RunInstances' || action === 'TerminateInstances') return { category: action, bucket: action };
  if (action.startsWith('Describe') || action.startsWith('Get')) {
    const narrowed = params ? NARROWING.some((key) => params.has(key)) : true;
    if (UNFILTERED_METERED.has(action) && !narrowed) return { category: 'unfiltered-unpaginated', bucket: `${action}:unfiltered` };
    return { category: 'non-mutating', bucket: action };
  }
  return { category: 'mutating', bucket: action };
}

/**
 * Reads a `--throttle` value: `off`, `aws` or `aws:SCALE` (SCALE a positive
 * number, e.g. `aws:20`). Throws an Error with a message fit for the user.
 */
export function parseThrottleMode(text: string): ThrottleMode {
  const trimmed = text.trim();
  if (trimmed === 'off') return { kind: 'off' };
  if (trimmed === 'aws') return { kind: 'aws', scale: 1 };
  const m = /^aws:(\d+(?:\.\d+)?)$/.exec(trimmed);
  const scale = m ? Number(m[1]) : NaN;
  if (Number.isFinite(scale) && scale > 0 && scale <= 1_000_000) return { kind: 'aws', scale };
  throw new Error(`invalid throttle mode '${text}': expected off, aws or aws:SCALE with SCALE a positive number up to 1000000 (e.g. aws:10)`);
}

/** `off`, `aws` or `aws:SCALE`: the inverse of parseThrottleMode. */
export function formatThrottleMode(mode: ThrottleMode): string {
  if (mode.kind === 'off') return 'off';
  return mode.scale === 1 ? 'aws' : `aws:${mode.scale}`;
}

interface Bucket {
  category: Category;
  tokens: number;
  /** Clock reading at which `tokens` was last brought up to date. */
  at: number;
}

export interface BucketLevel {
  category: Category;
  tokens: number;
  burst: number;
  refillPerSecond: number;
}

export class Throttle {
  private buckets = new Map<string, Bucket>();
  /** Time moved by the control API's clock, added to the monotonic clock. */
  private skewMs = 0;

  /** @param clock a monotonic millisecond clock; injectable so tests control refill. */
  constructor(
    private modeValue: ThrottleMode,
    private clock: () => number = () => performance.now(),
  ) {}

  /**
   * Replaces the clock, e.g. with a frozen one so that only the control API's
   * clock advance refills buckets and a test can count tokens exactly.
   */
  useClock(clock: () => number): void {
    this.clock = clock;
    this.buckets.clear();
  }

  get mode(): ThrottleMode {
    return this.modeValue;
  }

  /** Changes the mode; every bucket starts full again, as after a quiet period. */
  set mode(mode: ThrottleMode) {
    this.modeValue = mode;
    this.buckets.clear();
  }

  private now(): number {
    return this.clock() + this.skewMs;
  }

  /** Lets time pass for the buckets (the sandbox clock moved forward). */
  advance(ms: number): void {
    if (Number.isFinite(ms) && ms > 0) this.skewMs += ms;
  }

  /** Refills every bucket. */
  reset(): void {
    this.buckets.clear();
  }

  private refill(bucket: Bucket, now: number): void {
    const size: BucketSize = BUCKET_SIZES[bucket.category];
    const scale = this.modeValue.kind === 'aws' ? this.modeValue.scale : 1;
    const elapsed = Math.max(0, now - bucket.at) / 1000;
    bucket.tokens = Math.min(size.burst, bucket.tokens + elapsed * size.refillPerSecond * scale);
    bucket.at = now;
  }

  /** Takes one token from the bucket the call counts against; false means throttled. */
  take(region: string, action: string, params: Params): boolean {
    if (this.modeValue.kind === 'off') return true;
    const { category, bucket: name } = classify(action, params);
    const key = `${region}\u0000${name}`;
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { category, tokens: BUCKET_SIZES[category].burst, at: now };
      this.buckets.set(key, bucket);
    } else {
      this.refill(bucket, now);
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Every bucket that has been used, by region and bucket name, brought up to date. */
  levels(): Record<string, Record<string, BucketLevel>> {
    const now = this.now();
    const out: Record<string, Record<string, BucketLevel>> = {};
    for (const key of [...this.buckets.keys()].sort()) {
      const bucket = this.buckets.get(key)!;
      this.refill(bucket, now);
      const [region, name] = key.split('\u0000') as [string, string];
      const size: BucketSize = BUCKET_SIZES[bucket.category];
      (out[region] ??= {})[name] = {
        category: bucket.category,
        tokens: Math.floor(bucket.tokens * 1000) / 1000,
        burst: size.burst,
        refillPerSecond: size.refillPerSecond * (this.modeValue.kind === 'aws' ? this.modeValue.scale : 1),
      };
    }
    return out;
  }
}
