import { SgsyncError, isSgsyncError } from './errors.js';
import { mapLimit } from './limit.js';
import type { Family, GroupBatch, MissingGroup, ObservedRule, Plan, PlannedRevoke, PlannedRule, PortSpec, Target } from './model.js';
import type { Ec2Port } from './ports.js';
import { asBlocked, memberKey, replacingMembers } from './plan-output.js';
import { countsAgainstLimit, heldBack, isReplaced } from './safety.js';

/** One change a pass made, as the audit log records it. */
export interface AppliedChange {
  action: 'authorize' | 'revoke';
  target: string;
  groupId: string;
  region: string;
  ruleId?: string;
  cidr?: string;
  /** The rule's protocol and ports: a member's rules for several ports share a CIDR. */
  port?: PortSpec;
  instanceId?: string;
  memberRegion?: string;
  reason: string;
}

/** How many rules a pass's changes added and revoked. */
export function changeCounts(changes: readonly Pick<AppliedChange, 'action'>[]): { added: number; revoked: number } {
  let added = 0;
  for (const c of changes) if (c.action === 'authorize') added++;
  return { added, revoked: changes.length - added };
}

/** What AWS's answers taught a pass, for its next plan. */
export interface PassLearned {
  /** Groups AWS refused a rule in as over its quota, and the families refused. */
  full: { groupId: string; family: Family }[];
  /** Groups AWS refused a change in because they do not exist (`InvalidGroup.NotFound`). */
  missing: MissingGroup[];
}

export interface PassOptions {
  ec2: Ec2Port;
  /** The groups to observe, per region (every group of every target the pass covers). */
  groups: { region: string; groupIds: string[] }[];
  /**
   * Plans from what was observed; the driver closes over members, targets,
   * scope and time. `learned` is what AWS said earlier in the pass that the
   * rules do not show: groups it found full, and groups that do not exist
   * (pass them on as `PlanInput.full` and `PlanInput.missing`).
   */
  makePlan: (observed: ObservedRule[], learned: PassLearned) => Plan;
  /**
   * Runs after each look at the rules, before planning from them (its time is
   * the observing's): a controller looks up here the instances the rules name
   * that its filtered listing left out.
   */
  afterObserve?: (observed: ObservedRule[]) => Promise<void>;
  /** false: observe and plan only (a dry run). */
  apply: boolean;
  /**
   * Rounds of observe → plan → apply when a race (duplicate, missing rule, a
   * group filled meanwhile) calls for another look. In the last, a batch AWS
   * refuses whole over some of its rules is halved until they stand alone.
   */
  maxRounds?: number;
  /** Groups changed in parallel. */
  concurrency?: number;
  /** Waits between rounds (core reads no clock: the drivers pass `setTimeout`'s, tests their own). */
  sleep: (ms: number) => Promise<void>;
  /** In [0, 1): the jitter of those waits, so racing passes spread out. */
  random: () => number;
  /** Milliseconds on a monotonic clock (`performance.now`), for `timings`. */
  monotonicNow: () => number;
  /**
   * Asked before each round and before each authorize or revoke call: a
   * reason (a time limit near, a stop asked for) and the pass starts no
   * further call and no further round. Calls under way finish, and land in
   * `changes` and `onChange` as usual; `PassResult.stopped` says why the
   * rest was left. Once it gives a reason it is not asked again. One call
   * still goes after it: the new rule of a member whose old rule this pass
   * already revoked to make room for it (see `revokeOrder`), so that no
   * member is left with neither until the next pass.
   */
  shouldStop?: () => string | undefined;
  /** Called for every change as it lands (the audit log). */
  onChange?: (change: AppliedChange) => void;
  /**
   * Called before each further round, with its number, the most there can be,
   * and the refusal that calls for it when AWS refused a call (throttling,
   * unavailable, a full group), not merely a race: a pass against an AWS that
   * keeps refusing can take minutes, and should say so as it goes.
   */
  onRound?: (round: number, maxRounds: number, refusal: SgsyncError | undefined) => void;
}

/** The time a pass runs on, which its driver passes in (see `realPassTime` in controller/). */
export type PassTime = Pick<PassOptions, 'sleep' | 'random' | 'monotonicNow'>;

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
  /** Rules AWS answered Duplicate for one by one in the last round: they exist, though the reads did not list them. */
  alreadyThere: PlannedRule[];
  /** Rules AWS answered NotFound for one by one in the last round: they are gone, though the reads still listed them. */
  alreadyGone: PlannedRevoke[];
  /**
   * Why the pass stopped before it was done (`shouldStop`'s reason), when a
   * call or a round it would have made was left: the pass is not converged,
   * and the next pass finishes the work.
   */
  stopped?: string;
}

/** Milliseconds spent reading the groups' rules, planning, and making the changes. */
export interface PassTimings {
  observeMs: number;
  planMs: number;
  applyMs: number;
}

/**
 * The groups of every target, per region: what a pass observes. Retired
 * groups too, after the pools: their rules are read in the same calls, so
 * that a pass can drain them.
 */
export function groupsByRegion(targets: readonly Target[]): { region: string; groupIds: string[] }[] {
  const byRegion = new Map<string, Set<string>>();
  for (const t of targets) {
    const set = byRegion.get(t.region) ?? new Set<string>();
    for (const g of t.groupIds) set.add(g);
    byRegion.set(t.region, set);
  }
  for (const t of targets) {
    const set = byRegion.get(t.region) ?? new Set<string>();
    for (const g of t.retiredGroupIds ?? []) set.add(g);
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
      port: r.port,
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
      port: r.port,
      instanceId: r.instanceId,
      memberRegion: r.memberRegion,
      reason: 'member',
    };
  });
}

/**
 * Sends `batch`; when AWS refuses the whole call over some of its rules
 * (`send` answers false), halves it until each such rule stands alone and
 * hands that rule to `alone`. The rest of the batch still lands, for a few
 * calls per refused rule.
 */
async function halving<T>(batch: GroupBatch<T>, send: (batch: GroupBatch<T>) => Promise<boolean>, alone: (item: T) => void): Promise<void> {
  if (await send(batch)) return;
  if (batch.items.length === 1) return alone(batch.items[0] as T);
  const half = Math.ceil(batch.items.length / 2);
  await halving({ ...batch, items: batch.items.slice(0, half) }, send, alone);
  await halving({ ...batch, items: batch.items.slice(half) }, send, alone);
}

/** Thrown inside a round for a call a stop keeps from starting; caught before it could leave `runPass`. */
const STOPPED = new Error('the pass was told to stop before this call');

/**
 * One reconcile pass: observe the target groups, plan, apply, and — only when
 * AWS said the world moved under us (a duplicate, a rule already gone, a group
 * that filled meanwhile or does not exist) — observe and plan again. Revokes land before
 * the authorizations that need the room they free (see `authorizeOrder`,
 * `revokeOrder`), since the planner counts that room. No locks:
 * every step is idempotent, so concurrent passes converge.
 *
 * EC2's reads may lag its writes for longer than every round takes: AWS then
 * keeps answering Duplicate (or NotFound) for rules the reads do not show (or
 * still show), and refuses the whole batch each time. The last round halves
 * such a batch until each of those rules stands alone — AWS's answer for it
 * alone is the truth the reads have not caught up with — so the rest of the
 * batch lands instead of waiting for the next pass.
 *
 * A driver with a deadline (a Lambda's time limit, a stop signal) passes
 * `shouldStop`: the pass then ends between calls, with what landed recorded
 * and `stopped` saying why. The order of the phases makes that safe: a
 * revoke that waits for a new rule (`revokeOrder`) is never started once
 * the stop has kept that rule from being sent, so a stop may leave an extra
 * rule, never a member without its rule.
 */
export async function runPass(options: PassOptions): Promise<PassResult> {
  const maxRounds = options.maxRounds ?? 8;
  const concurrency = options.concurrency ?? 8;
  const { sleep, random, monotonicNow } = options;
  const changes: AppliedChange[] = [];
  const errors: SgsyncError[] = [];
  const alreadyThere: PlannedRule[] = [];
  const alreadyGone: PlannedRevoke[] = [];
  const record = (c: AppliedChange) => {
    changes.push(c);
    options.onChange?.(c);
  };

  /** `shouldStop`'s reason, once it gave one; and whether the stop left a call or a round undone. */
  let stopReason: string | undefined;
  let cutShort = false;
  const stopAsked = () => (stopReason ??= options.shouldStop?.()) !== undefined;
  /** Members (by `memberKey`) whose old rule a revoke took away for a successor (see `isReplaced`) during this pass. */
  const replacedGone = new Set<string>();

  const timings: PassTimings = { observeMs: 0, planMs: 0, applyMs: 0 };
  const timed = async <T>(phase: keyof PassTimings, work: () => T | Promise<T>): Promise<T> => {
    const start = monotonicNow();
    try {
      return await work();
    } finally {
      timings[phase] += monotonicNow() - start;
    }
  };

  const look = () =>
    timed('observeMs', async () => {
      const rules = await observe(options.ec2, options.groups, concurrency);
      await options.afterObserve?.(rules);
      return rules;
    });
  const learned: PassLearned = { full: [], missing: [] };
  let observed = await look();
  let plan = await timed('planMs', () => options.makePlan(observed, learned));
  const first = plan;
  let rounds = 1;
  /** The pass's result as it ends now, with its last plan and whether it converged. */
  const ended = (lastPlan: Plan, converged: boolean): PassResult => ({
    plan: first, lastPlan, changes, rounds, converged, errors, observedRules: observed, timings, alreadyThere, alreadyGone,
  });
  /** A pass the stop ended with `plan` (partly) undone. */
  const stoppedHere = (): PassResult => ({ ...ended(plan, false), stopped: stopReason });
  /** The last refusal over a group's quota: the answer, should the pool then have no room left. */
  let overQuota: SgsyncError | undefined;
  for (;;) {
    if (!options.apply || isEmptyPlan(plan)) {
      // Nothing left to try, but members AWS's quota left without room: say why, in AWS's words.
      const refusal = plan.blocked.length > 0 ? overQuota : undefined;
      if (refusal && !errors.includes(refusal)) errors.push(refusal);
      return ended(plan, isEmptyPlan(plan) && !refusal);
    }
    if (stopAsked()) return stoppedHere();
    let raced = false;
    // A refusal that another look may cure (throttling, a group filled meanwhile); if it outlasts every round it is the answer.
    let lastRefusal: SgsyncError | undefined;
    const failed = (e: unknown) => {
      // A full group, or one that does not exist, sends the rules elsewhere in the pool next round.
      if (isSgsyncError(e) && (e.retryable || e.code === 'CAPACITY_EXHAUSTED' || e.code === 'NOT_FOUND')) {
        raced = true;
        lastRefusal = e;
      } else errors.push(isSgsyncError(e) ? e : new SgsyncError('INTERNAL', String(e), { cause: e }));
    };
    // Before the last round, a batch refused whole is a reason to look again; in it, the batch is halved.
    const lastRound = rounds >= maxRounds;
    /**
     * `send`, unless a stop was asked: then only the part of the batch
     * `afterStop` keeps goes, and a batch cut so answers as one that failed
     * (its members count as unplaced, and keep the rules it was to replace).
     */
    const unlessStopped =
      <T>(send: (batch: GroupBatch<T>) => Promise<boolean>, afterStop: (items: T[]) => T[]) =>
      async (batch: GroupBatch<T>): Promise<boolean> => {
        if (!stopAsked()) return send(batch);
        const items = afterStop(batch.items);
        if (items.length === batch.items.length) return send(batch);
        cutShort = true;
        if (items.length > 0) await send({ ...batch, items });
        throw STOPPED;
      };
    /** Sends a batch; false when it failed (the error is the pass's, or a reason to look again) or a stop kept (some of) it back. */
    const applyBatch = async <T>(batch: GroupBatch<T>, send: (batch: GroupBatch<T>) => Promise<boolean>, alone: (item: T) => void): Promise<boolean> => {
      try {
        if (lastRound) await halving(batch, send, alone);
        else if (!(await send(batch))) raced = true;
        return true;
      } catch (e) {
        if (e !== STOPPED) failed(e);
        return false;
      }
    };
    // Each answers whether AWS took the batch (rather than refusing it whole over a rule that is gone, or exists).
    const revoke = unlessStopped(
      async (batch: GroupBatch<PlannedRevoke>) => {
        const out = await options.ec2.revoke(batch).catch((e: unknown) => {
          if (isSgsyncError(e) && e.code === 'NOT_FOUND') learnMissing(learned, batch);
          throw e;
        });
        if (out.notFound) return false;
        revokeChanges(batch, out.revoked).forEach(record);
        const gone = new Set(out.revoked);
        for (const r of batch.items) if (gone.has(r.ruleId) && isReplaced(r.reason)) replacedGone.add(memberKey(r.target, r.instanceId));
        return true;
      },
      () => [],
    );
    const authorize = unlessStopped(
      async (batch: GroupBatch<PlannedRule>) => {
        const out = await options.ec2.authorize(batch).catch((e: unknown) => {
          if (isSgsyncError(e) && e.code === 'CAPACITY_EXHAUSTED') {
            learnFull(learned, batch);
            overQuota = e;
          }
          if (isSgsyncError(e) && e.code === 'NOT_FOUND') learnMissing(learned, batch);
          throw e;
        });
        if (!out.duplicate) authorizeChanges(batch, out.created).forEach(record);
        return !out.duplicate;
      },
      // The other half of a replacement whose old rule is already gone (a replaced rule in the group whose room its
      // successor needs goes first): sent all the same, or the member would have neither rule until the next pass.
      (items) => items.filter((r) => replacedGone.has(memberKey(r.target, r.instanceId))),
    );
    const applying = plan;
    const { early, late } = authorizeOrder(applying);
    const { now: revokeNow, afterLate } = revokeOrder(applying.revoke, late);
    await timed('applyMs', async () => {
      const unplaced = new Set<string>();
      const authorizeAll = (batches: GroupBatch<PlannedRule>[]) =>
        mapLimit(batches, concurrency, async (batch) => {
          if (!(await applyBatch(batch, authorize, (r) => alreadyThere.push(r)))) for (const r of batch.items) unplaced.add(memberKey(r.target, r.instanceId));
        });
      // A member whose new rule did not land keeps the one it was to replace (see isReplaced): it is not left with neither.
      const revokeAll = (batches: GroupBatch<PlannedRevoke>[]) =>
        mapLimit(unplaced.size === 0 ? batches : keepingReplaced(batches, unplaced), concurrency, (batch) => applyBatch(batch, revoke, (r) => alreadyGone.push(r)));
      await authorizeAll(early);
      await revokeAll(revokeNow);
      await authorizeAll(late);
      await revokeAll(afterLate);
    });
    if (cutShort) return stoppedHere();
    if (!raced || lastRound) {
      // Without a race the plan landed as planned; there is nothing new to observe.
      const converged = !raced && errors.length === 0;
      if (lastRefusal && errors.length === 0) errors.push(lastRefusal);
      return ended(converged ? emptied(plan) : plan, converged);
    }
    // Someone else changed the groups meanwhile: back off a little (with jitter, so racers spread out) and look again,
    // unless the pass is to stop: the next one looks anyway.
    if (stopAsked()) return stoppedHere();
    await sleep(Math.round((50 + random() * 200) * Math.min(rounds, 4)));
    if (stopAsked()) return stoppedHere();
    rounds++;
    options.onRound?.(rounds, maxRounds, lastRefusal);
    observed = await look();
    plan = holdIfHalted(await timed('planMs', () => options.makePlan(observed, learned)), first);
  }
}

/**
 * Which authorize batches go before the revokes (`early`) and which after
 * (`late`). A batch whose group has room for every rule planned into it,
 * family by family, without the room the revokes free goes first: when a
 * member's rule is replaced (a port range or family changed, a new address),
 * its new rule then stands before its old one goes, and were the authorize to
 * fail, the old one would still admit it. Only rules placed into room a
 * revoke frees wait for the revokes. Room is the plan's: the rules of the
 * group before the pass against the target's quota.
 */
export function authorizeOrder(plan: Pick<Plan, 'authorize' | 'capacity'>): { early: GroupBatch<PlannedRule>[]; late: GroupBatch<PlannedRule>[] } {
  const key = (groupId: string, family: string) => `${groupId} ${family}`;
  const adding = new Map<string, number>();
  for (const batch of plan.authorize) for (const r of batch.items) adding.set(key(batch.groupId, r.family), (adding.get(key(batch.groupId, r.family)) ?? 0) + 1);
  // A group two targets share has a line per target: the smaller quota is the room.
  const room = new Map<string, number>();
  for (const line of plan.capacity) {
    const k = key(line.groupId, line.family);
    room.set(k, Math.min(room.get(k) ?? Infinity, line.quota - line.before));
  }
  const fits = (batch: GroupBatch<PlannedRule>) => batch.items.every((r) => (adding.get(key(batch.groupId, r.family)) ?? 0) <= (room.get(key(batch.groupId, r.family)) ?? 0));
  const early: GroupBatch<PlannedRule>[] = [];
  const late: GroupBatch<PlannedRule>[] = [];
  for (const batch of plan.authorize) (fits(batch) ? early : late).push(batch);
  return { early, late };
}

/**
 * Which revokes go before the late authorizations (`now`) and which after
 * them (`afterLate`). A rule with a successor (see `isReplaced`) whose
 * member's new rule waits for room the revokes free would otherwise go
 * before that rule stands; it waits for it instead, unless a late batch goes
 * into its own group, whose room it may be what frees (a changed port in the
 * same group). So a rule in a retired group goes after its member's new rule
 * in the pool, whatever room that rule needed.
 */
export function revokeOrder(revokes: GroupBatch<PlannedRevoke>[], late: readonly GroupBatch<PlannedRule>[]): { now: GroupBatch<PlannedRevoke>[]; afterLate: GroupBatch<PlannedRevoke>[] } {
  if (late.length === 0) return { now: revokes, afterLate: [] };
  const waiting = new Set(late.flatMap((b) => b.items.map((r) => memberKey(r.target, r.instanceId))));
  const lateGroups = new Set(late.map((b) => `${b.region} ${b.groupId}`));
  const now: GroupBatch<PlannedRevoke>[] = [];
  const afterLate: GroupBatch<PlannedRevoke>[] = [];
  for (const batch of revokes) {
    const waits = (r: PlannedRevoke) => !lateGroups.has(`${batch.region} ${batch.groupId}`) && isReplaced(r.reason) && waiting.has(memberKey(r.target, r.instanceId));
    const later = batch.items.filter(waits);
    if (later.length === 0) now.push(batch);
    else {
      const rest = batch.items.filter((r) => !waits(r));
      if (rest.length > 0) now.push({ ...batch, items: rest });
      afterLate.push({ ...batch, items: later });
    }
  }
  return { now, afterLate };
}

/** `batches` without the revokes of the members in `unplaced` (by `memberKey`) that their new rules were to replace (see `isReplaced`), and without batches left empty. */
function keepingReplaced(batches: GroupBatch<PlannedRevoke>[], unplaced: ReadonlySet<string>): GroupBatch<PlannedRevoke>[] {
  return batches
    .map((batch) => ({ ...batch, items: batch.items.filter((r) => !isReplaced(r.reason) || !unplaced.has(memberKey(r.target, r.instanceId))) }))
    .filter((batch) => batch.items.length > 0);
}

/**
 * AWS refused `batch` as over the group's quota: the group is full for the
 * families the batch asked for, whatever the config's `quota` says (the
 * account's may be lower), and the next plan looks elsewhere in the pool
 * instead of asking the same group again.
 */
function learnFull(learned: PassLearned, batch: GroupBatch<PlannedRule>): void {
  for (const { family } of batch.items) {
    if (!learned.full.some((f) => f.groupId === batch.groupId && f.family === family)) learned.full.push({ groupId: batch.groupId, family });
  }
}

/**
 * AWS refused a change in `batch`'s group because the group does not exist
 * in its region (NOT_FOUND is sgsync's code for `InvalidGroup.NotFound`):
 * the next plan places nothing there and names it.
 */
function learnMissing(learned: PassLearned, batch: GroupBatch<unknown>): void {
  if (!learned.missing.some((m) => m.groupId === batch.groupId && m.region === batch.region)) learned.missing.push({ groupId: batch.groupId, region: batch.region });
}

/**
 * A later round of a pass whose first plan the blast radius halted revokes
 * nothing either: another writer may have revoked some of the rules since,
 * bringing the rest under the limit, but the pass reports itself halted and
 * exits so, and "halted" means none of the rules the limit counts was
 * revoked. As in the planner, the new rules of members whose ports or
 * families changed are held back with their old ones, and a rule wider than
 * one address, which the limit does not count, still goes.
 */
export function holdIfHalted(plan: Plan, first: Plan): Plan {
  const halted = first.halted;
  if (!halted || plan.revoke.length === 0) return plan;
  const held = plan.revoke.flatMap((b) => b.items.filter(countsAgainstLimit));
  if (held.length === 0) return plan;
  const changing = replacingMembers(held);
  const withheld = (r: PlannedRule) => changing.has(memberKey(r.target, r.instanceId));
  return {
    ...plan,
    revoke: plan.revoke.map((b) => ({ ...b, items: b.items.filter((r) => !countsAgainstLimit(r)) })).filter((b) => b.items.length > 0),
    authorize: changing.size === 0 ? plan.authorize : plan.authorize.map((b) => ({ ...b, items: b.items.filter((r) => !withheld(r)) })).filter((b) => b.items.length > 0),
    blocked: [...plan.blocked, ...plan.authorize.flatMap((b) => b.items.filter(withheld).map((r) => asBlocked(r, 'halted')))],
    kept: [...plan.kept, ...heldBack(held, halted)],
    halted,
  };
}

/**
 * What the reads had not caught up with when a pass ended, as report
 * warnings: rules AWS says exist that were not listed (so not made again),
 * and rules it says are gone that were still listed.
 */
export function lagWarnings(result: Pick<PassResult, 'alreadyThere' | 'alreadyGone'>): string[] {
  const sample = (labels: string[]) => labels.slice(0, 5).join(', ') + (labels.length > 5 ? `, and ${labels.length - 5} more` : '');
  const warnings: string[] = [];
  const there = result.alreadyThere;
  if (there.length > 0) {
    const labels = there.map((r) => `${r.cidr} for ${r.instanceId} in ${r.groupId}`);
    warnings.push(`${there.length} rule(s) AWS says exist were not listed yet (EC2's reads lag its writes), so they were not added again: ${sample(labels)}`);
  }
  const gone = result.alreadyGone;
  if (gone.length > 0) {
    const labels = gone.map((r) => `${r.ruleId} in ${r.groupId}`);
    warnings.push(`${gone.length} rule(s) AWS says are gone were still listed (EC2's reads lag its writes), so there was nothing to revoke: ${sample(labels)}`);
  }
  return warnings;
}

/**
 * Everything a pass has to warn about, each once: what its first and last
 * plans warned of, and what EC2's reads had not caught up with.
 */
export function passWarnings(result: Pick<PassResult, 'plan' | 'lastPlan' | 'alreadyThere' | 'alreadyGone'>): string[] {
  return [...new Set([...result.plan.warnings, ...result.lastPlan.warnings, ...lagWarnings(result)])];
}

function emptied(plan: Plan): Plan {
  return { ...plan, authorize: [], revoke: [] };
}
