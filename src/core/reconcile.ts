import { SgsyncError, isSgsyncError } from './errors.js';
import { mapLimit } from './limit.js';
import type { GroupBatch, ObservedRule, Plan, PlannedRevoke, PlannedRule, Target } from './model.js';
import type { Ec2Port } from './ports.js';

/** One change a pass made, as the audit log records it. */
export interface AppliedChange {
  action: 'authorize' | 'revoke';
  target: string;
  groupId: string;
  region: string;
  ruleId?: string;
  cidr?: string;
  instanceId?: string;
  memberRegion?: string;
  reason: string;
}

export interface PassOptions {
  ec2: Ec2Port;
  /** The groups to observe, per region (every group of every target the pass covers). */
  groups: { region: string; groupIds: string[] }[];
  /** Plans from what was observed; the driver closes over members, targets, scope and time. */
  makePlan: (observed: ObservedRule[]) => Plan;
  /** false: observe and plan only (a dry run). */
  apply: boolean;
  /** Rounds of observe → plan → apply when a race (duplicate, missing rule, a group filled meanwhile) calls for another look. */
  maxRounds?: number;
  /** Groups changed in parallel. */
  concurrency?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Called for every change as it lands (the audit log). */
  onChange?: (change: AppliedChange) => void;
}

export interface PassResult {
  /** The plan of the first round: what the pass set out to do. */
  plan: Plan;
  /** The plan of the last round: empty when the pass converged. */
  lastPlan: Plan;
  changes: AppliedChange[];
  rounds: number;
  /** The last round planned nothing more to do (blocked and kept rules aside). */
  converged: boolean;
  /** Terminal errors per group; the rest of the pass went on without them. */
  errors: SgsyncError[];
  /** The rules the last plan was made from. */
  observedRules: ObservedRule[];
  /** Where the time went, summed over rounds (the sleeps between rounds are in none of them). */
  timings: PassTimings;
}

/** Milliseconds spent reading the groups' rules, planning, and making the changes. */
export interface PassTimings {
  observeMs: number;
  planMs: number;
  applyMs: number;
}

/** The groups of every target, per region: what an agent pass observes. */
export function groupsByRegion(targets: readonly Target[]): { region: string; groupIds: string[] }[] {
  const byRegion = new Map<string, Set<string>>();
  for (const t of targets) {
    const set = byRegion.get(t.region) ?? new Set<string>();
    for (const g of t.groupIds) set.add(g);
    byRegion.set(t.region, set);
  }
  return [...byRegion].map(([region, ids]) => ({ region, groupIds: [...ids] }));
}

/** True when a plan has nothing to authorize or revoke. */
export function isEmptyPlan(plan: Plan): boolean {
  return plan.authorize.every((b) => b.items.length === 0) && plan.revoke.every((b) => b.items.length === 0);
}

async function observe(ec2: Ec2Port, groups: PassOptions['groups'], concurrency: number): Promise<ObservedRule[]> {
  const perRegion = await mapLimit(groups, concurrency, (g) => (g.groupIds.length ? ec2.listRules(g.region, g.groupIds) : Promise.resolve([])));
  return perRegion.flat();
}

function revokeChanges(batch: GroupBatch<PlannedRevoke>, revoked: readonly string[]): AppliedChange[] {
  const done = new Set(revoked);
  return batch.items
    .filter((r) => done.has(r.ruleId))
    .map((r) => ({
      action: 'revoke' as const,
      target: r.target,
      groupId: batch.groupId,
      region: batch.region,
      ruleId: r.ruleId,
      cidr: r.cidr,
      instanceId: r.instanceId,
      memberRegion: r.memberRegion,
      reason: r.reason,
    }));
}

function authorizeChanges(
  batch: GroupBatch<PlannedRule>,
  created: readonly { ruleId: string; cidr: string; protocol: string; fromPort: number; toPort: number }[],
): AppliedChange[] {
  return batch.items.map((r) => {
    const match = created.find(
      (c) => c.cidr === r.cidr && c.protocol === r.port.protocol && (r.port.protocol === '-1' || (c.fromPort === r.port.fromPort && c.toPort === r.port.toPort)),
    );
    return {
      action: 'authorize' as const,
      target: r.target,
      groupId: batch.groupId,
      region: batch.region,
      ruleId: match?.ruleId,
      cidr: r.cidr,
      instanceId: r.instanceId,
      memberRegion: r.memberRegion,
      reason: 'member',
    };
  });
}

/**
 * One reconcile pass: observe the target groups, plan, apply, and — only when
 * AWS said the world moved under us (a duplicate, a rule already gone, a group
 * that filled meanwhile) — observe and plan again. Revokes land before
 * authorizations, because the planner counts the room they free. No locks:
 * every step is idempotent, so concurrent passes converge.
 */
export async function runPass(options: PassOptions): Promise<PassResult> {
  const maxRounds = options.maxRounds ?? 8;
  const concurrency = options.concurrency ?? 8;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  const changes: AppliedChange[] = [];
  const errors: SgsyncError[] = [];
  const record = (c: AppliedChange) => {
    changes.push(c);
    options.onChange?.(c);
  };

  const timings: PassTimings = { observeMs: 0, planMs: 0, applyMs: 0 };
  const timed = async <T>(phase: keyof PassTimings, work: () => T | Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await work();
    } finally {
      timings[phase] += performance.now() - start;
    }
  };

  let observed = await timed('observeMs', () => observe(options.ec2, options.groups, concurrency));
  let plan = await timed('planMs', () => options.makePlan(observed));
  const first = plan;
  let rounds = 1;
  for (;;) {
    if (!options.apply || isEmptyPlan(plan)) {
      return { plan: first, lastPlan: plan, changes, rounds, converged: isEmptyPlan(plan), errors, observedRules: observed, timings };
    }
    let raced = false;
    // A refusal that another look may cure (throttling, a group filled meanwhile); if it outlasts every round it is the answer.
    let lastRefusal: SgsyncError | undefined;
    const failed = (e: unknown) => {
      if (isSgsyncError(e) && (e.retryable || e.code === 'CAPACITY_EXHAUSTED')) {
        raced = true;
        lastRefusal = e;
      } else errors.push(isSgsyncError(e) ? e : new SgsyncError('INTERNAL', String(e), { cause: e }));
    };
    const applying = plan;
    await timed('applyMs', async () => {
      await mapLimit(applying.revoke, concurrency, async (batch) => {
        try {
          const out = await options.ec2.revoke(batch);
          if (out.notFound) raced = true;
          else revokeChanges(batch, out.revoked).forEach(record);
        } catch (e) {
          failed(e);
        }
      });
      await mapLimit(applying.authorize, concurrency, async (batch) => {
        try {
          const out = await options.ec2.authorize(batch);
          if (out.duplicate) raced = true;
          else authorizeChanges(batch, out.created).forEach(record);
        } catch (e) {
          failed(e);
        }
      });
    });
    if (!raced || rounds >= maxRounds) {
      // Without a race the plan landed as planned; there is nothing new to observe.
      const converged = !raced && errors.length === 0;
      if (lastRefusal && errors.length === 0) errors.push(lastRefusal);
      // Out of rounds with AWS still answering that rules exist (or are gone) which its reads do not show: say so, rather than report success.
      else if (raced && errors.length === 0) errors.push(unsettled(rounds));
      return { plan: first, lastPlan: converged ? emptied(plan) : plan, changes, rounds, converged, errors, observedRules: observed, timings };
    }
    // Someone else changed the groups meanwhile: back off a little (with jitter, so racers spread out) and look again.
    await sleep(Math.round((50 + random() * 200) * Math.min(rounds, 4)));
    rounds++;
    observed = await timed('observeMs', () => observe(options.ec2, options.groups, concurrency));
    plan = await timed('planMs', () => options.makePlan(observed));
  }
}

function unsettled(rounds: number): SgsyncError {
  return new SgsyncError(
    'AWS_UNAVAILABLE',
    `The rules kept changing under this pass for ${rounds} rounds: AWS said rules exist (or are gone) that the next read did not show ` +
      `(other writers, or EC2's reads lagging its writes). What this pass changed stands; the next pass looks again.`,
    { retryable: true },
  );
}

function emptied(plan: Plan): Plan {
  return { ...plan, authorize: [], revoke: [] };
}
