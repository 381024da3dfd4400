/**
 * Capacity is planned, not discovered (safety rule 6). The ledger counts
 * every inbound rule of a group per family, managed or foreign, because AWS's
 * quota does; placement is sticky and first-fit in pool order, and never
 * evicts anything to make room.
 */
import type { DesiredRule, Family, ObservedRule } from './model.js';
import { identityKey } from './rule-key.js';

/** AWS's default inbound rules per group per family. */
export const DEFAULT_QUOTA = 60;

type CountedRule = Pick<ObservedRule, 'groupId' | 'family' | 'protocol' | 'fromPort' | 'toPort' | 'cidr'>;

function bump(map: Map<string, number>, key: string, by: number): void {
  const next = (map.get(key) ?? 0) + by;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}

/** Rules per group and family, and which rule identities each group holds. */
export class CapacityLedger {
  // Nested by group, then family: no string building on the hot path of placement.
  private readonly counts = new Map<string, Map<Family, number>>();
  private readonly identities = new Map<string, number>();

  constructor(rules: Iterable<CountedRule> = []) {
    for (const rule of rules) this.add(rule);
  }

  private count(rule: CountedRule, by: number): void {
    let families = this.counts.get(rule.groupId);
    if (!families) this.counts.set(rule.groupId, (families = new Map<Family, number>()));
    families.set(rule.family, (families.get(rule.family) ?? 0) + by);
    bump(this.identities, `${rule.groupId}\u0000${identityKey(rule, rule.cidr)}`, by);
  }

  add(rule: CountedRule): void {
    this.count(rule, 1);
  }

  remove(rule: CountedRule): void {
    this.count(rule, -1);
  }

  used(groupId: string, family: Family): number {
    return this.counts.get(groupId)?.get(family) ?? 0;
  }

  /** Whether the group already has a rule EC2 would call a duplicate of this one. */
  holds(groupId: string, rule: Pick<CountedRule, 'protocol' | 'fromPort' | 'toPort' | 'cidr'>): boolean {
    return this.identities.has(`${groupId}\u0000${identityKey(rule, rule.cidr)}`);
  }
}

/** A desired rule in the shape the ledger counts, once it has a group. */
export function asCounted(rule: DesiredRule, groupId: string): CountedRule {
  return { groupId, family: rule.family, protocol: rule.port.protocol, fromPort: rule.port.fromPort, toPort: rule.port.toPort, cidr: rule.cidr };
}

export interface Pool {
  groupIds: string[];
  quota: number;
}

export interface Placement {
  placed: { rule: DesiredRule; groupId: string }[];
  blocked: DesiredRule[];
}

/**
 * Places new rules, in the order given, into the first group of their
 * target's pool that has room for their family and does not already hold the
 * same rule (EC2 would refuse it as a duplicate). The ledger must already
 * reflect the pass's revokes; it is updated as rules are placed. A rule with
 * no such group is blocked: nothing is moved or evicted to make room.
 */
export function placeRules(rules: DesiredRule[], poolOf: (target: string) => Pool | undefined, ledger: CapacityLedger): Placement {
  const placement: Placement = { placed: [], blocked: [] };
  // Groups only fill up during placement, so each pool and family keeps a
  // cursor past its full groups: a blocked rule costs O(1), not O(pool).
  const cursors = new Map<string, Record<Family, number>>();
  for (const rule of rules) {
    const pool = poolOf(rule.target);
    const quota = pool && Number.isFinite(pool.quota) ? pool.quota : 0;
    const groupIds = pool?.groupIds ?? [];
    let cursor = cursors.get(rule.target);
    if (!cursor) cursors.set(rule.target, (cursor = { ipv4: 0, ipv6: 0 }));
    let start = cursor[rule.family] ?? 0;
    while (start < groupIds.length && ledger.used(groupIds[start] as string, rule.family) >= quota) start++;
    cursor[rule.family] = start;
    let groupId: string | undefined;
    for (let i = start; i < groupIds.length && groupId === undefined; i++) {
      const g = groupIds[i] as string;
      if (ledger.used(g, rule.family) < quota && !ledger.holds(g, asCounted(rule, g))) groupId = g;
    }
    if (groupId === undefined) {
      placement.blocked.push(rule);
      continue;
    }
    ledger.add(asCounted(rule, groupId));
    placement.placed.push({ rule, groupId });
  }
  return placement;
}
