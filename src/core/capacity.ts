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
    this.addCanonical(rule, canonicalCidr(rule.cidr));
  }

  /** `add` for a rule whose CIDR's canonical spelling is known: `key`. */
  addCanonical(rule: CountedRule, key: string): void {
    this.counts.add(rule.groupId, rule.family, 1);
    this.remember(rule, key);
  }

  private remember(rule: CountedRule, key = canonicalCidr(rule.cidr)): void {
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
    return this.holdsCanonical(groupId, port, canonicalCidr(cidr));
  }

  /** `holdsPort` for a CIDR given in its canonical spelling, `key`. */
  holdsCanonical(groupId: string, port: PortLike, key: string): boolean {
    const held = this.byCidr.get(key);
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
  /** Groups of the pool that do not exist: no room in them, whatever their count says. */
  missing?: ReadonlySet<string>;
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
  /**
   * Groups that have no room for `family` whatever their count says: AWS
   * refused a rule there as over its quota this pass (the account's quota may
   * be below the config's `quota`). Nothing is placed in them.
   */
  full?: (groupId: string, family: Family) => boolean;
}

/**
 * Each group's count per family while rules are placed, shared by every pool
 * that lists the group, and the pool positions to close when it fills up.
 */
class GroupCounts {
  private readonly slots = new Map<string, number>();
  /** Per group and family: rules in it now. */
  readonly used: number[] = [];
  /** Per group and family: the pools listing the group, and where. */
  private readonly holders: { room: PoolRoom; position: number }[][] = [];

  constructor(private readonly ledger: CapacityLedger) {}

  /** The slot of a group's count for a family, read from the ledger the first time. */
  slot(groupId: string, family: Family): number {
    const key = `${family} ${groupId}`;
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.used.length;
      this.slots.set(key, slot);
      this.used.push(this.ledger.used(groupId, family));
      this.holders.push([]);
    }
    return slot;
  }

  hold(slot: number, room: PoolRoom, position: number): void {
    this.holders[slot]?.push({ room, position });
  }

  /** One more rule in the group: every pool it leaves without room skips it from now on. */
  take(slot: number): void {
    const used = (this.used[slot] as number) + 1;
    this.used[slot] = used;
    for (const { room, position } of this.holders[slot] as { room: PoolRoom; position: number }[]) if (used >= room.quota) room.close(position);
  }
}

/**
 * One pool's groups for one family while rules are placed, and a way past
 * the full ones. Groups only fill up during placement, so every position
 * whose group is full points at a later one (round the end) that may have
 * room; following the pointers finds the next group with room in
 * near-constant time however full the pool is, as a union-find does. A pass
 * placing a hundred thousand rules into a pool of a hundred groups would
 * otherwise look at dozens of full groups for each of the last rules.
 */
class PoolRoom {
  /** The pool in its order (a group listed twice stays twice, sharing one count). */
  readonly groupIds: readonly string[];
  readonly quota: number;
  /** Per position: the slot of its group's count in `counts`. */
  readonly slotAt: Int32Array;
  /** Per position: 1 once its group has no room. */
  private readonly full: Uint8Array;
  /** Per full position: a later position (round the end) to look at next. */
  private readonly next: Int32Array;
  /** Positions whose group has room. */
  private open = 0;

  constructor(pool: Pool | undefined, family: Family, counts: GroupCounts, full?: PlaceOptions['full']) {
    this.groupIds = pool?.groupIds ?? [];
    this.quota = pool && Number.isFinite(pool.quota) ? pool.quota : 0;
    const n = this.groupIds.length;
    this.slotAt = new Int32Array(n);
    this.full = new Uint8Array(n);
    this.next = new Int32Array(n);
    this.open = n;
    for (let p = 0; p < n; p++) {
      const slot = counts.slot(this.groupIds[p] as string, family);
      this.slotAt[p] = slot;
      const groupId = this.groupIds[p] as string;
      if ((counts.used[slot] as number) < this.quota && !full?.(groupId, family) && !pool?.missing?.has(groupId)) counts.hold(slot, this, p);
      else this.close(p);
    }
  }

  /** The first position at or after `p` (round the end) whose group has room, or -1 when none has. */
  firstWithRoom(p: number): number {
    if (this.open === 0) return -1;
    const { full, next } = this;
    // Path halving: every pointer followed is moved one step closer to the answer.
    while (full[p] === 1) {
      const q = next[p] as number;
      if (full[q] === 1) next[p] = next[q] as number;
      p = q;
    }
    return p;
  }

  /** The group at position `p` has no room left. */
  close(p: number): void {
    if (this.full[p] === 1) return;
    this.full[p] = 1;
    this.next[p] = (p + 1) % this.next.length;
    this.open--;
  }
}

/**
 * Places new rules, in the order given, into the first group of their
 * target's pool that has room for their family and does not already hold the
 * same rule (EC2 would refuse it as a duplicate) — first in pool order, or
 * with `spread`, first from the instance's own starting group round the pool.
 * The ledger must already reflect the pass's revokes; it is updated as rules
 * are placed. A rule with no such group is blocked — nothing is moved or
 * evicted to make room — unless a group of the pool already holds the same
 * permission, which admits the member as well as a rule of its own would.
 * `poolOf` is asked once per target and family.
 */
export function placeRules(rules: DesiredRule[], poolOf: (target: string) => Pool | undefined, ledger: CapacityLedger, options: PlaceOptions = {}): Placement {
  const placement: Placement = { placed: [], blocked: [] };
  const counts = new GroupCounts(ledger);
  const rooms = new Map<string, Partial<Record<Family, PoolRoom>>>();
  // Rules come grouped by target, so the last target's rooms are kept at hand.
  let lastTarget: string | undefined;
  let lastRooms: Partial<Record<Family, PoolRoom>> = {};
  for (const rule of rules) {
    if (rule.target !== lastTarget || lastTarget === undefined) {
      lastTarget = rule.target;
      let byFamily = rooms.get(rule.target);
      if (!byFamily) rooms.set(rule.target, (byFamily = {}));
      lastRooms = byFamily;
    }
    let room = lastRooms[rule.family];
    if (!room) room = lastRooms[rule.family] = new PoolRoom(poolOf(rule.target), rule.family, counts, options.full);
    const groupIds = room.groupIds;
    const n = groupIds.length;
    const start = options.spread ? spreadStart(rule.instanceId, n) : 0;
    const key = canonicalCidr(rule.cidr);
    let at = -1;
    // Positions are looked at by their distance from the start; a smaller one means the search went round.
    for (let p = room.firstWithRoom(start), travelled = -1; p >= 0; p = room.firstWithRoom((p + 1) % n)) {
      const distance = (p - start + n) % n;
      if (distance <= travelled) break;
      travelled = distance;
      if (!ledger.holdsCanonical(groupIds[p] as string, rule.port, key)) {
        at = p;
        break;
      }
      if (distance === n - 1) break;
    }
    if (at < 0) {
      // No room for a rule of its own; but a group of the pool may already hold the same permission (a rule
      // by hand, or another target's sharing the group), and then the member is admitted all the same.
      if (!groupIds.some((g) => ledger.holdsCanonical(g, rule.port, key))) placement.blocked.push(rule);
      continue;
    }
    const groupId = groupIds[at] as string;
    counts.take(room.slotAt[at] as number);
    ledger.addCanonical(asCounted(rule, groupId), key);
    placement.placed.push({ rule, groupId });
  }
  return placement;
}
