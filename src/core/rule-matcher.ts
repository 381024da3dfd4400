/**
 * What a pass must add: every member's desired rules, matched against the
 * managed rules that already exist. At fleet scale nearly every desired rule
 * exists, so a rule object is built only for what is missing. The existing
 * rules are first linked to their members as they are read; then the members
 * are walked in order, each checked once against its own rules: a member and
 * its addresses are read where they lie, one after another, rather than
 * fetched from all over the heap once per rule. What the match learns is kept
 * in typed arrays, out of the garbage collector's way: a pass over a hundred
 * thousand rules would otherwise spend most of its time collecting.
 *
 * A member's desired rules for a target are numbered slots, family by family
 * and port by port (the order `desiredRules` builds them in); an existing
 * rule that is one of them fills its slot.
 */
import { isCanonicalCidr } from './addresses.js';
import { admittedAddress, comparePlacement, HOST_SUFFIX, refuseMember, type TargetRules } from './desired.js';
import { ipv4Number } from './ip-scan.js';
import type { DesiredRule, Member, ObservedRule, RefusedMember } from './model.js';
import { canonicalCidr, samePort } from './rule-key.js';

const NONE = -1;
const UNREAD = null;
const UNREAD_SELECTION = 0;
const SELECTED = 1;
const NOT_SELECTED = 2;

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
  /**
   * Read from each candidate rule as it is added, while it is at hand (`fill`
   * reaches the rules member by member, scattered over the heap): which of
   * its target's ports it is (NONE for none), and its CIDR as a number when
   * it is spelled `a.b.c.d/32` (see `ipv4HostNumber`; -1 otherwise).
   */
  private readonly port: Int32Array;
  private readonly host: Float64Array;
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
  /** While a member is matched: whether each target selects it (SELECTED, NOT_SELECTED or UNREAD). */
  private readonly selected: Int8Array;
  /** While a member is matched: its admitted address per target and family (see `address`), UNREAD until asked. */
  private readonly addresses: (string | undefined | typeof UNREAD)[];
  /** Where each target's families start in `addresses`. */
  private readonly familyOffsets: number[] = [];

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
    this.port = new Int32Array(observed.length);
    this.host = new Float64Array(observed.length);
    this.next = new Int32Array(observed.length).fill(NONE);
    this.first = new Int32Array(members.length).fill(NONE);
    this.selected = new Int8Array(targets.length);
    let families = 0;
    for (const t of targets) {
      this.familyOffsets.push(families);
      families += t.families.length;
    }
    this.addresses = new Array<string | undefined | typeof UNREAD>(families).fill(UNREAD);
  }

  /**
   * Records observed rule `i` as a candidate of target `ti`, in pool
   * position `at`, naming member `m` (NONE when not visible), its CIDR read
   * by `ipv4HostNumber` as `host`. Which member slot it fills, if any, is
   * settled when `wanted` reaches the member.
   */
  add(i: number, ti: number, at: number, m: number, host: number): void {
    this.target[i] = ti;
    this.at[i] = at;
    if (m === NONE) return;
    this.next[i] = this.first[m] ?? NONE;
    this.first[m] = i;
    const rule = this.observed[i] as ObservedRule;
    const t = this.targets[ti] as TargetRules;
    let p = 0;
    while (p < t.ports.length && !samePort(rule, t.ports[p] as TargetRules['ports'][number])) p++;
    this.port[i] = p === t.ports.length ? NONE : p;
    this.host[i] = host;
  }

  /** Whether target `ti` selects the member being matched (asked once per member). */
  private selects(ti: number, member: Member): boolean {
    if (this.selected[ti] === UNREAD_SELECTION) this.selected[ti] = (this.targets[ti] as TargetRules).selects(member) ? SELECTED : NOT_SELECTED;
    return this.selected[ti] === SELECTED;
  }

  /** `admittedAddress` of the member being matched for target `ti` and its family `f` (read once per member). */
  private address(ti: number, f: number, member: Member): string | undefined {
    const t = this.targets[ti] as TargetRules;
    const k = (this.familyOffsets[ti] ?? 0) + f;
    let address = this.addresses[k];
    if (address === UNREAD) this.addresses[k] = address = admittedAddress(t.target, member, t.families[f] as TargetRules['families'][number]);
    return address;
  }

  /**
   * Fills the slots of running member `m` that its rules are, each rule the
   * first slot it can be: its target selects the member, its port is one of
   * the target's, and its CIDR is the member's address in a family of the target.
   */
  private fill(member: Member, m: number): void {
    this.selected.fill(UNREAD_SELECTION);
    this.addresses.fill(UNREAD);
    for (let i = this.first[m] ?? NONE; i !== NONE; i = this.next[i] ?? NONE) {
      const ti = this.target[i] as number;
      const t = this.targets[ti] as TargetRules;
      if (!this.selects(ti, member)) continue;
      const p = this.port[i] as number;
      if (p === NONE) continue;
      // The slot for family f is first + f × ports.
      const first = (this.offsets[ti] ?? 0) + p;
      const host = this.host[i] as number;
      if (host >= 0) {
        // An IPv4 /32 is the member's address exactly when the numbers agree; the rule is not read again.
        for (let f = 0; f < t.families.length; f++) {
          if (t.families[f] !== 'ipv4') continue;
          const address = this.address(ti, f, member);
          if (address !== undefined && ipv4Number(address) === host) {
            this.claim(i, m, first + f * t.ports.length);
            break;
          }
        }
        continue;
      }
      const rule = this.observed[i] as ObservedRule;
      // An IPv4 CIDR never contains ':' and an IPv6 one always does, however spelled.
      const v6 = typeof rule.cidr === 'string' ? rule.cidr.includes(':') : undefined;
      // Plain loops here and below: a closure per rule or member is garbage a hundred thousand times over.
      for (let f = 0; f < t.families.length; f++) {
        const family = t.families[f] as TargetRules['families'][number];
        if (v6 !== undefined && v6 !== (family === 'ipv6')) continue;
        const address = this.address(ti, f, member);
        if (address === undefined || !isHost(rule.cidr, address, HOST_SUFFIX[family])) continue;
        this.claim(i, m, first + f * t.ports.length);
        break;
      }
    }
  }

  /** Rule `i` fills slot `slot` of member `m`. */
  private claim(i: number, m: number, slot: number): void {
    const key = m * this.slots + slot;
    this.slot[i] = slot;
    if (this.filled[key] === 1) this.contested.add(key);
    this.filled[key] = 1;
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
      this.fill(member, m);
      for (let ti = 0; ti < this.targets.length; ti++) {
        const t = this.targets[ti] as TargetRules;
        const ports = t.ports.length;
        const base = m * this.slots + (this.offsets[ti] ?? 0);
        // Every desired rule exists: the member is selected and admitted, nothing to add or refuse.
        if (ports > 0 && t.families.length > 0 && this.allFilled(base, t.families.length * ports)) continue;
        if (!this.selects(ti, member)) continue;
        const out = perTarget[ti] as (typeof perTarget)[number];
        const refusedBefore = out.refused.length;
        for (let f = 0; f < t.families.length; f++) {
          const family = t.families[f] as TargetRules['families'][number];
          const from = base + f * ports;
          if (ports > 0 && this.allFilled(from, ports)) continue;
          const address = this.address(ti, f, member);
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

  /**
   * Of the rules filling one member slot, all but the first in pool order
   * (then by rule id). Slots are taken in the order of the rule that first
   * repeated one (the second lowest index), as reading the rules in order finds them.
   */
  private duplicates(): number[] {
    const order = (a: number, b: number) => (this.at[a] ?? 0) - (this.at[b] ?? 0) || ((this.observed[a] as ObservedRule).ruleId < (this.observed[b] as ObservedRule).ruleId ? -1 : 1);
    const repeats: { second: number; extra: number[] }[] = [];
    for (const key of this.contested) {
      const m = Math.floor(key / this.slots);
      const slot = key % this.slots;
      const same: number[] = [];
      for (let i = this.first[m] ?? NONE; i !== NONE; i = this.next[i] ?? NONE) if (this.slot[i] === slot) same.push(i);
      // The list runs from the last rule read to the first.
      repeats.push({ second: same[same.length - 2] ?? 0, extra: same.sort(order).slice(1) });
    }
    return repeats.sort((a, b) => a.second - b.second).flatMap((r) => r.extra);
  }
}
