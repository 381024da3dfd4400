/**
 * Capacity is planned, not discovered (safety rule 6). The ledger counts
 * every inbound rule of a group per family, managed or foreign, because AWS's
 * quota does; placement is sticky and first-fit from a group the instance
 * id picks, wrapping round the pool, and never evicts anything to make room.
 */
import type { DesiredRule, Family, ObservedRule } from './model.js';
import { canonicalCidr, samePort } from './rule-key.js';

/** AWS's default inbound rules per group per family. */
export const DEFAULT_QUOTA = 60;

type CountedRule = Pick<ObservedRule, 'groupId' | 'family' | 'protocol' | 'fromPort' | 'toPort' | 'cidr'>;
type Identity = Pick<CountedRule, 'protocol' | 'fromPort' | 'toPort' | 'cidr'>;
type PortLike = Pick<CountedRule, 'protocol' | 'fromPort' | 'toPort'>;

/**
 * A count per group and family. Nested maps rather than joined string keys:
 * a pass counts every rule of every group, and building a key string per
 * rule costs more than the counting. Rules come grouped by group (that is how
 * they are read), so the last group's counts are kept at hand.
 */
export class GroupFamilyCounts {
  private readonly byGroup = new Map<string, Map<Family, number>>();
  private lastGroup: string | undefined;
  private lastCounts: Map<Family, number> | undefined;

  private countsOf(groupId: string): Map<Family, number> {
    if (groupId === this.lastGroup && this.lastCounts) return this.lastCounts;
    let counts = this.byGroup.get(groupId);
    if (!counts) this.byGroup.set(groupId, (counts = new Map<Family, number>()));
    this.lastGroup = groupId;
    this.lastCounts = counts;
    return counts;
  }

  add(groupId: string, family: Family, by = 1): void {
    const counts = this.countsOf(groupId);
    counts.set(family, (counts.get(family) ?? 0) + by);
  }

  get(groupId: string, family: Family): number {
    return this.byGroup.get(groupId)?.get(family) ?? 0;
  }

  /** New counts that are the sum of these. */
  static sum(...parts: GroupFamilyCounts[]): GroupFamilyCounts {
    const total = new GroupFamilyCounts();
    for (const part of parts) for (const [groupId, counts] of part.byGroup) for (const [family, n] of counts) total.add(groupId, family, n);
    return total;
  }
}

export interface LedgerOptions {
  /**
   * The only CIDRs `holds` will be asked about (the ones about to be
   * placed): rules with other CIDRs are counted but not remembered, which at
   * fleet scale is nearly all of them.
   */
  cidrs?: ReadonlySet<string>;
  /** The rules' counts, made already: then `rules` need only hold the ones `holds` must know. */
  counted?: GroupFamilyCounts;
}

/** Rules per group and family, and which rule identities each group holds. */
export class CapacityLedger {
  private readonly counts: GroupFamilyCounts;
  private readonly cidrs: ReadonlySet<string> | undefined;
  /**
   * Rules by canonical CIDR (one rule, or several sharing it): a CIDR is
   * nearly unique to one member, so a lookup finds one or two rules to compare.
   */
  private readonly byCidr = new Map<string, CountedRule | CountedRule[]>();

  /** @param rules the rules in the groups now */
  constructor(rules: Iterable<CountedRule> = [], options: LedgerOptions = {}) {
    this.cidrs = options.cidrs;
    this.counts = options.counted ? GroupFamilyCounts.sum(options.counted) : new GroupFamilyCounts();
    for (const rule of rules) {
      if (!options.counted) this.counts.add(rule.groupId, rule.family, 1);
      this.remember(rule);
    }
  }

  add(rule: CountedRule): void {
    this.counts.add(rule.groupId, rule.family, 1);
    this.remember(rule);
  }

  private remember(rule: CountedRule): void {
    const key = canonicalCidr(rule.cidr);
    if (this.cidrs !== undefined && !this.cidrs.has(key)) return;
    const held = this.byCidr.get(key);
    if (held === undefined) this.byCidr.set(key, rule);
    else if (Array.isArray(held)) held.push(rule);
    else this.byCidr.set(key, [held, rule]);
  }

  remove(rule: CountedRule): void {
    this.counts.add(rule.groupId, rule.family, -1);
    const key = canonicalCidr(rule.cidr);
    const held = this.byCidr.get(key);
    if (held === undefined) return;
    if (!Array.isArray(held)) {
      if (sameIdentity(held, rule.groupId, rule)) this.byCidr.delete(key);
      return;
    }
    const at = held.findIndex((r) => sameIdentity(r, rule.groupId, rule));
    if (at >= 0) held.splice(at, 1);
    if (held.length === 0) this.byCidr.delete(key);
  }

  used(groupId: string, family: Family): number {
    return this.counts.get(groupId, family);
  }

  /** Whether the group already has a rule EC2 would call a duplicate of this one. */
  holds(groupId: string, rule: Identity): boolean {
    return this.holdsPort(groupId, rule, rule.cidr);
  }

  /** `holds` for a port spec and CIDR given apart, as a desired rule has them. */
  holdsPort(groupId: string, port: PortLike, cidr: string | undefined): boolean {
    const held = this.byCidr.get(canonicalCidr(cidr));
    if (held === undefined) return false;
    if (!Array.isArray(held)) return sameIdentity(held, groupId, port);
    return held.some((r) => sameIdentity(r, groupId, port));
  }
}

/** Same group and ports (the caller has matched the CIDR already). */
function sameIdentity(held: CountedRule, groupId: string, port: PortLike): boolean {
  return held.groupId === groupId && samePort(held, port);
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
 * Where an instance's first-fit search starts among `groupCount` groups: a
 * stable hash (32-bit FNV-1a) of its id. Agents registering at once then aim
 * at different groups instead of racing for the first group's last slots, and
 * every writer planning the same instance aims at the same group
 * (docs/decisions/0004-spread-placement-over-the-pool.md).
 */
export function spreadStart(instanceId: string, groupCount: number): number {
  if (groupCount <= 0) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < instanceId.length; i++) {
    hash ^= instanceId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % groupCount;
}

export interface PlaceOptions {
  /**
   * Each rule's search starts at the group `spreadStart` picks for the rule's
   * instance and wraps around the pool; the planner always sets it. Unset,
   * every search starts at the pool's first group (plain first-fit).
   */
  spread?: boolean;
}

/**
 * Places new rules, in the order given, into the first group of their
 * target's pool that has room for their family and does not already hold the
 * same rule (EC2 would refuse it as a duplicate) — first in pool order, or
 * with `spread`, first from the instance's own starting group round the pool.
 * The ledger must already reflect the pass's revokes; it is updated as rules
 * are placed. A rule with no such group is blocked: nothing is moved or
 * evicted to make room.
 */
export function placeRules(rules: DesiredRule[], poolOf: (target: string) => Pool | undefined, ledger: CapacityLedger, options: PlaceOptions = {}): Placement {
  const placement: Placement = { placed: [], blocked: [] };
  // Groups only fill up during placement, so each pool and family keeps a
  // cursor past its full groups: a blocked rule costs O(1), not O(pool).
  // A spread search walks the pool from its own start instead: pools are tens
  // of groups, so even a blocked rule costs little.
  const cursors = new Map<string, Record<Family, number>>();
  for (const rule of rules) {
    const pool = poolOf(rule.target);
    const quota = pool && Number.isFinite(pool.quota) ? pool.quota : 0;
    const groupIds = pool?.groupIds ?? [];
    const fits = (g: string) => ledger.used(g, rule.family) < quota && !ledger.holdsPort(g, rule.port, rule.cidr);
    let groupId: string | undefined;
    if (options.spread) {
      const first = spreadStart(rule.instanceId, groupIds.length);
      for (let k = 0; k < groupIds.length && groupId === undefined; k++) {
        const g = groupIds[(first + k) % groupIds.length] as string;
        if (fits(g)) groupId = g;
      }
    } else {
      let cursor = cursors.get(rule.target);
      if (!cursor) cursors.set(rule.target, (cursor = { ipv4: 0, ipv6: 0 }));
      let start = cursor[rule.family] ?? 0;
      while (start < groupIds.length && ledger.used(groupIds[start] as string, rule.family) >= quota) start++;
      cursor[rule.family] = start;
      for (let i = start; i < groupIds.length && groupId === undefined; i++) {
        const g = groupIds[i] as string;
        if (fits(g)) groupId = g;
      }
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
