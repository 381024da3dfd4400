/**
 * What a pass must add: every member's desired rules, matched against the
 * managed rules that already exist. At fleet scale nearly every desired rule
 * exists, so the match runs from the existing rules (each is checked against
 * its member as it is read) and a rule object is built only for what is
 * missing. What the match learns is kept in typed arrays, out of the garbage
 * collector's way: a pass over a hundred thousand rules would otherwise
 * spend most of its time collecting.
 *
 * A member's desired rules for a target are numbered slots, family by family
 * and port by port (the order `desiredRules` builds them in); an existing
 * rule that is one of them fills its slot.
 */
import { isCanonicalCidr } from './addresses.js';
import { admittedAddress, comparePlacement, HOST_SUFFIX, refuseMember, type TargetRules } from './desired.js';
import type { DesiredRule, Member, ObservedRule, RefusedMember } from './model.js';
import { canonicalCidr, samePort } from './rule-key.js';

const NONE = -1;

/** `cidr` equals `address + suffix` once canonical: compared in place, since it nearly always is spelled that way. */
function isHost(cidr: string | undefined, address: string, suffix: string): boolean {
  if (typeof cidr === 'string' && cidr.length === address.length + suffix.length && cidr.startsWith(address) && cidr.endsWith(suffix)) return true;
  // A canonical spelling that differs is another CIDR; only odd spellings need rewriting to compare.
  return !isCanonicalCidr(cidr) && canonicalCidr(cidr) === address + suffix;
}

export interface Wanted {
  /** Desired rules that no existing rule is, in placement order: target, member region, instance, family, port. */
  toPlace: DesiredRule[];
  /** In the same order. */
  refused: RefusedMember[];
  /** Indexes of existing rules that repeat another one of the same desired rule: all but the first in pool order. */
  duplicates: number[];
}

export class RuleMatcher {
  /** Index of each observed rule's target, or NONE when it is not a candidate. */
  readonly target: Int32Array;
  /** Position of the rule's group in its target's pool. */
  private readonly at: Int32Array;
  /** The member slot the rule fills, or NONE. */
  private readonly slot: Int32Array;
  /** Each member's rules, linked: `first` per member, then `next` per rule. */
  private readonly first: Int32Array;
  private readonly next: Int32Array;
  /** The first slot of each target; each member has `slots` in all. */
  private readonly offsets: number[] = [];
  private readonly slots: number;
  /** 1 where a member's slot is filled (member × slots + slot). */
  private readonly filled: Uint8Array;
  /** Member slots filled more than once. */
  private readonly contested = new Set<number>();
  private readonly wants: (member: number) => boolean;

  /**
   * @param inScope positions in `members` of the members whose rules the
   *   pass wants; all when undefined
   */
  constructor(
    private readonly targets: readonly TargetRules[],
    private readonly members: readonly Member[],
    private readonly inScope: readonly number[] | undefined,
    private readonly observed: readonly ObservedRule[],
  ) {
    let slots = 0;
    for (const t of targets) {
      this.offsets.push(slots);
      slots += t.families.length * t.ports.length;
    }
    this.slots = slots;
    this.filled = new Uint8Array(members.length * slots);
    this.target = new Int32Array(observed.length).fill(NONE);
    this.at = new Int32Array(observed.length);
    this.slot = new Int32Array(observed.length).fill(NONE);
    this.next = new Int32Array(observed.length).fill(NONE);
    this.first = new Int32Array(members.length).fill(NONE);
    this.wants = inScope === undefined ? () => true : (m) => inScope.includes(m);
  }

  /**
   * Records observed rule `i` as a candidate of target `ti`, in pool
   * position `at`, naming member `m` (NONE when not visible), and fills the
   * member's slot it is, if any.
   */
  add(i: number, ti: number, at: number, m: number): void {
    this.target[i] = ti;
    this.at[i] = at;
    if (m === NONE) return;
    this.next[i] = this.first[m] ?? NONE;
    this.first[m] = i;
    const member = this.members[m] as Member;
    const t = this.targets[ti] as TargetRules;
    if (!this.wants(m) || member.state !== 'running' || !t.selects(member)) return;
    const rule = this.observed[i] as ObservedRule;
    let p = 0;
    while (p < t.ports.length && !samePort(rule, t.ports[p] as TargetRules['ports'][number])) p++;
    if (p === t.ports.length) return;
    // An IPv4 CIDR never contains ':' and an IPv6 one always does, however spelled.
    const v6 = typeof rule.cidr === 'string' ? rule.cidr.includes(':') : undefined;
    // Plain loops here and below: a closure per rule or member is garbage a hundred thousand times over.
    for (let f = 0; f < t.families.length; f++) {
      const family = t.families[f] as TargetRules['families'][number];
      if (v6 !== undefined && v6 !== (family === 'ipv6')) continue;
      const address = admittedAddress(t.target, member, family);
      if (address === undefined || !isHost(rule.cidr, address, HOST_SUFFIX[family])) continue;
      const slot = (this.offsets[ti] ?? 0) + f * t.ports.length + p;
      const key = m * this.slots + slot;
      this.slot[i] = slot;
      if (this.filled[key] === 1) this.contested.add(key);
      this.filled[key] = 1;
      return;
    }
  }

  /** Whether rule `i` is one of the desired rules. */
  isClaimed(i: number): boolean {
    return this.slot[i] !== NONE;
  }

  private allFilled(from: number, count: number): boolean {
    for (let k = from; k < from + count; k++) if (this.filled[k] !== 1) return false;
    return true;
  }

  /**
   * Walks the members in scope (only running ones are admitted, see
   * `desiredRules`) and lists the desired rules no existing rule is, the
   * members that cannot be admitted, and the duplicates.
   */
  wanted(): Wanted {
    const perTarget = this.targets.map(() => ({ toPlace: [] as DesiredRule[], refused: [] as RefusedMember[] }));
    const walk = (member: Member, m: number) => {
      if (member.state !== 'running') return;
      for (let ti = 0; ti < this.targets.length; ti++) {
        const t = this.targets[ti] as TargetRules;
        const ports = t.ports.length;
        const base = m * this.slots + (this.offsets[ti] ?? 0);
        // Every desired rule exists: the member is selected and admitted, nothing to add or refuse.
        if (ports > 0 && t.families.length > 0 && this.allFilled(base, t.families.length * ports)) continue;
        if (!t.selects(member)) continue;
        const out = perTarget[ti] as (typeof perTarget)[number];
        const refusedBefore = out.refused.length;
        for (let f = 0; f < t.families.length; f++) {
          const family = t.families[f] as TargetRules['families'][number];
          const from = base + f * ports;
          if (ports > 0 && this.allFilled(from, ports)) continue;
          const address = admittedAddress(t.target, member, family);
          if (address === undefined) {
            refuseMember(t.target, member, family, out.refused, refusedBefore);
            continue;
          }
          const cidr = address + HOST_SUFFIX[family];
          for (let p = 0; p < ports; p++) {
            if (this.filled[from + p] === 1) continue;
            out.toPlace.push({ target: t.target.name, instanceId: member.instanceId, memberRegion: member.region, family, port: t.ports[p] as TargetRules['ports'][number], cidr });
          }
        }
      }
    };
    if (this.inScope === undefined) this.members.forEach(walk);
    else for (const m of this.inScope) walk(this.members[m] as Member, m);
    // Members were walked in the order given; placement and reports go by target, region, instance.
    return {
      toPlace: perTarget.flatMap((p) => p.toPlace.sort(comparePlacement)),
      refused: perTarget.flatMap((p) => p.refused.sort(comparePlacement)),
      duplicates: this.duplicates(),
    };
  }

  /** Of the rules filling one member slot, all but the first in pool order (then by rule id). */
  private duplicates(): number[] {
    const result: number[] = [];
    const order = (a: number, b: number) => (this.at[a] ?? 0) - (this.at[b] ?? 0) || ((this.observed[a] as ObservedRule).ruleId < (this.observed[b] as ObservedRule).ruleId ? -1 : 1);
    for (const key of this.contested) {
      const m = Math.floor(key / this.slots);
      const slot = key % this.slots;
      const same: number[] = [];
      for (let i = this.first[m] ?? NONE; i !== NONE; i = this.next[i] ?? NONE) if (this.slot[i] === slot) same.push(i);
      result.push(...same.sort(order).slice(1));
    }
    return result;
  }
}
