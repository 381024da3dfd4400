/**
 * Retired groups (`retiredGroups`): groups a target no longer uses. Nothing
 * is placed in them and their room is not the pool's; a rule of the target
 * there admits nobody as far as the pool is concerned, so its member gets a
 * rule in the pool, and the old one goes once the new one stands (make
 * before break, see `isReplaced`). Without this, a group taken out of every
 * pool kept its rules for ever, out of sight.
 */
import type { Member, ObservedRule, RetiredGroupLine, Target } from './model.js';
import { decideUnmatched, type Decision, type DecisionContext, type RuleOwner } from './revoke-decision.js';
import type { TargetRules } from './desired.js';

/** Each target's retired groups, and the first target retiring each group. */
export interface RetiredIndex {
  /** Target name → its retired groups, without those its own pool lists (the pool wins). */
  byTarget: Map<string, Set<string>>;
  /** Group id → the first target that retired it. */
  owner: Map<string, Target>;
}

/** Indexes the targets' retired groups; `poolOf` gives a target's pool, which a group listed in both stays in. */
export function indexRetired(targets: readonly Target[], poolOf: (name: string) => ReadonlyMap<string, number> | undefined): RetiredIndex {
  const index: RetiredIndex = { byTarget: new Map(), owner: new Map() };
  for (const t of targets) {
    const ids = Array.isArray(t.retiredGroupIds) ? t.retiredGroupIds : [];
    const pool = poolOf(t.name);
    const set = new Set(ids.filter((g) => typeof g === 'string' && pool?.has(g) !== true));
    if (set.size === 0) continue;
    index.byTarget.set(t.name, set);
    for (const g of set) if (!index.owner.has(g)) index.owner.set(g, t);
  }
  return index;
}

/**
 * The fate of a target's managed rule in one of its retired groups. The
 * decisions every rule gets come first (gone, stopped, not selected, a port
 * or family removed, grace, unknown region); a rule those leave alone is
 * revoked as `group-retired` when its member runs, since a running member
 * gets (or holds) its rule in the pool. The planner keeps it instead while
 * that rule finds no room (`replacement-blocked`). A pending member keeps
 * it: it is admitted anew only once running.
 */
export function decideRetired(rule: ObservedRule, t: TargetRules, owner: RuleOwner, ctx: DecisionContext): Decision {
  const decision = decideUnmatched(rule, t, owner, ctx);
  if (decision.action !== 'leave') return decision;
  const member: Member | undefined = ctx.members.get(owner.instanceId);
  return member?.state === 'running' ? { action: 'revoke', reason: 'group-retired' } : decision;
}

/** Counts of a target's managed rules per retired group, before the pass and revoked by it. */
export class RetiredCounts {
  private readonly before = new Map<string, number>();
  private readonly revoked = new Map<string, number>();
  /** Rule id → where it was counted. */
  private readonly counted = new Map<string, string>();

  private static key(target: string, groupId: string): string {
    return `${target}\u0000${groupId}`;
  }

  /** A rule of `target` in its retired group. */
  count(target: string, rule: Pick<ObservedRule, 'ruleId' | 'groupId'>): void {
    const k = RetiredCounts.key(target, rule.groupId);
    this.before.set(k, (this.before.get(k) ?? 0) + 1);
    this.counted.set(rule.ruleId, k);
  }

  /** A rule the pass revokes: one of those counted leaves its group. */
  revoke(ruleId: string): void {
    const k = this.counted.get(ruleId);
    if (k !== undefined) this.revoked.set(k, (this.revoked.get(k) ?? 0) + 1);
  }

  /**
   * One line per retired group of every target, in the order of the
   * configuration; `missing(target, group)`: EC2 says the group does not exist.
   */
  lines(targets: readonly Target[], index: RetiredIndex, missing: (target: Target, groupId: string) => boolean): RetiredGroupLine[] {
    const out: RetiredGroupLine[] = [];
    for (const t of targets) {
      for (const groupId of index.byTarget.get(t.name) ?? []) {
        const k = RetiredCounts.key(t.name, groupId);
        const rules = this.before.get(k) ?? 0;
        const line: RetiredGroupLine = { target: t.name, groupId, region: t.region, rules, left: rules - (this.revoked.get(k) ?? 0) };
        out.push(rules === 0 && missing(t, groupId) ? { ...line, missing: true } : line);
      }
    }
    return out;
  }
}
