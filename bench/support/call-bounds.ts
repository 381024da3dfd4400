/**
 * The two yardsticks every scenario is held against: the fewest EC2 calls
 * its work could take, and the least wall time AWS's token buckets allow for
 * the calls it did make.
 */
import { MAX_FILTER_VALUES } from '../../src/core/ports.js';
import { BUCKET_SIZES, classify } from '../../src/sandbox/throttle.js';
import type { Counters } from './sandbox-control.js';

const PAGE = 1000;

/** Pages of 1000 needed to list `n` items; listing nothing still takes one call. */
export function pages(n: number): number {
  return Math.max(1, Math.ceil(n / PAGE));
}

/** The parts of `reconcile --json` the bounds are computed from. */
export interface PassReportView {
  outcome: string;
  summary: Record<string, number>;
  regions: { region: string; status: string; instances?: number; reason?: string; code?: string }[];
  targets: {
    name: string;
    region: string;
    add: { groupId: string; instanceId: string; cidr: string }[];
    revoke: { groupId: string; instanceId?: string; reason: string }[];
    kept: { reason: string; instanceId?: string }[];
    blocked: unknown[];
    capacity: { groupId: string; before: number }[];
  }[];
  errors: { code: string; message: string }[];
  calls?: Record<string, number>;
  timings?: { inventoryMs: number; observeMs: number; planMs: number; applyMs: number };
}

/**
 * The fewest calls a controller pass could make for what it did: one
 * DescribeRegions; per region, the DescribeInstances pages its instances
 * fill at 1000 a page (a region whose API is down: the one call that finds
 * out); the DescribeSecurityGroupRules pages the pool groups' rules fill
 * (inbound as observed, plus each group's outbound rules); per target
 * region, the DescribeSecurityGroups call that checks the pool groups exist
 * (one per 200 groups, EC2's limit on filter values: the rule reads cannot
 * tell a group that does not exist from an empty one, so this call is the
 * check's whole cost); one authorize and one revoke call per group that
 * changed.
 */
export function controllerLowerBound(report: PassReportView, egressPerGroup: number): Record<string, number> {
  const groups = new Set(report.targets.flatMap((t) => t.capacity.map((c) => c.groupId)));
  const groupsByRegion = new Map<string, Set<string>>();
  for (const t of report.targets) for (const c of t.capacity) groupsByRegion.set(t.region, (groupsByRegion.get(t.region) ?? new Set()).add(c.groupId));
  const groupListings = [...groupsByRegion.values()].reduce((n, g) => n + Math.ceil(g.size / MAX_FILTER_VALUES), 0);
  const inbound = report.targets.reduce((n, t) => n + t.capacity.reduce((m, c) => m + c.before, 0), 0);
  const changed = (kind: 'add' | 'revoke') => new Set(report.targets.flatMap((t) => t[kind].map((x) => x.groupId))).size;
  return {
    DescribeRegions: 1,
    DescribeInstances: report.regions.reduce((n, r) => n + (r.status === 'complete' ? pages(r.instances ?? 0) : 1), 0),
    DescribeSecurityGroupRules: pages(inbound + groups.size * egressPerGroup),
    DescribeSecurityGroups: groupListings,
    AuthorizeSecurityGroupIngress: changed('add'),
    RevokeSecurityGroupIngress: changed('revoke'),
  };
}

/**
 * The fewest calls `agents` first registrations could make: each agent
 * reads its pool (one page: a pool within the per-interface limit holds at
 * most 1000 rules) and authorizes its rule in one call. IMDS reads are not
 * EC2 calls.
 */
export function agentsLowerBound(agents: number): Record<string, number> {
  return { DescribeSecurityGroupRules: agents, AuthorizeSecurityGroupIngress: agents };
}

export function sum(xs: Record<string, number>): number {
  return Object.values(xs).reduce((a, b) => a + b, 0);
}

/** Calls that change something: every action that is not a Describe or Get. */
export function isMutating(action: string): boolean {
  return !action.startsWith('Describe') && !action.startsWith('Get');
}

export interface BucketUse {
  region: string;
  bucket: string;
  /** Tokens the calls took: every call that passed the throttle (throttled and fault-injected answers take none). */
  tokens: number;
  burst: number;
  /** At the benchmark's scale. */
  refillPerSecond: number;
  /** max(0, (tokens − burst) / refill). */
  seconds: number;
}

/**
 * The least wall time the token buckets allow for the calls a scenario
 * made, starting with every bucket full: per bucket (region × bucket, as the
 * sandbox and AWS keep them), max(0, (tokens − burst) / refill at `scale`);
 * the scenario's minimum is the slowest bucket's. Every call is taken to be
 * filtered or paginated, as sgsync's are (the unfiltered DescribeInstances
 * bucket is never used).
 */
export function bucketMinimum(counters: Counters, scale: number): { seconds: number; binding?: BucketUse; buckets: BucketUse[] } {
  const tokens = new Map<string, { region: string; bucket: string; category: keyof typeof BUCKET_SIZES; tokens: number }>();
  for (const [region, actions] of Object.entries(counters)) {
    for (const [action, c] of Object.entries(actions)) {
      const { category, bucket } = classify(action);
      const key = `${region} ${bucket}`;
      const e = tokens.get(key) ?? { region, bucket, category, tokens: 0 };
      e.tokens += c.ok + c.failed;
      tokens.set(key, e);
    }
  }
  const buckets: BucketUse[] = [...tokens.values()].map((t) => {
    const size = BUCKET_SIZES[t.category];
    const refillPerSecond = size.refillPerSecond * scale;
    return { region: t.region, bucket: t.bucket, tokens: t.tokens, burst: size.burst, refillPerSecond, seconds: Math.max(0, (t.tokens - size.burst) / refillPerSecond) };
  });
  buckets.sort((a, b) => b.seconds - a.seconds || b.tokens - a.tokens);
  const binding = buckets[0];
  return { seconds: binding?.seconds ?? 0, binding, buckets };
}
