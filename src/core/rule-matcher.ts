/**
 * What a pass must add: every member's desired rules, matched against the
 * managed rules that already exist. At fleet scale nearly every desired rule
 * exists, so a rule object is built only for what is missing.
 *
 * Each side is walked once. First the members: which targets select each
 * member the pass wants, and its admitted address per target and family,
 * IPv4 also as a number. Then the rules, as the planner reads them: a rule
 * fills its member's slot when its port and CIDR are one of the member's
 * desired rules, an IPv4 /32 by comparing two numbers (an IPv6 /128 fills it
 * for any of the member's IPv6 addresses the target admits: see
 * `heldAddresses`). Last, the members again, for the slots nothing filled.
 * What the match learns is kept in typed arrays, out of the garbage
 * collector's way: a pass over a hundred thousand rules would otherwise
 * spend most of its time collecting.
 *
 * A member's desired rules for a target are numbered slots, family by family
 * and port by port (the order `desiredRules` builds them in).
 */
import { isCanonicalCidr } from './addresses.js';
import { admittedAddress, heldAddresses, HOST_SUFFIX, refuseMember, sortForPlacement, type TargetRules } from './desired.js';
import { ipv4Number } from './ip-scan.js';
import { QUEUED, type MemberIndex } from './member-index.js';
import type { DesiredRule, Family, Member, ObservedRule, RefusedMember } from './model.js';
import { canonicalCidr, portServes, samePort } from './rule-key.js';

const NONE = -1;
/** Rules matched together (see `RuleMatcher.queue`): enough for their waits on memory to overlap, few enough for the rules to stay in cache meanwhile. */
const BATCH = 256;
/** A slot no rule fills: its port cannot serve its family (see `portServes`), so it is wanted by nobody. */
const UNSERVED = -1;
/** Flags of a member's record per target (see `RuleMatcher.record`). */
const SELECTED = 1;
const IPV4 = 2;

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
  /** Where in `record` the member slot the rule fills is, or NONE. */
  private readonly slot: Int32Array;
  /** The first slot of each target. */
  private readonly offsets: number[] = [];
  /** The first column (target and family) of each target; each member has `columns` in all. */
  private readonly columnOffsets: number[] = [];
  /** Per target, its slots (family × ports + port) that no rule fills: a port and family that cannot go together. */
  private readonly unserved: number[][] = [];
  private readonly columns: number;
  /**
   * One record of `stride` words per member (member × stride), holding what
   * matching a rule to it reads, side by side: a rule's lookups of its member
   * then touch one place in memory rather than three arrays. In order:
   * - per target, its flags: SELECTED where the pass wants the member's rules
   *   for it (running, in scope, selected), and IPV4 << f for each family f
   *   the member has an IPv4 address for;
   * - per column (target and family), that address as a 32-bit number (see
   *   `ipv4Number`), when the flag says there is one;
   * - per slot, 1 + the first rule that fills it, or 0; UNSERVED for a
   *   port and family that cannot go together (ICMPv6 and IPv4).
   */
  private readonly record: Int32Array;
  private readonly stride: number;
  /** Where a record's columns and slots start. */
  private readonly columnsAt: number;
  private readonly slotsAt: number;
  /** A selected member's admitted address per column (member × columns + column), or undefined when it has none. */
  private readonly address: (string | undefined)[];
  /**
   * The other addresses a member holds in a column (see `heldAddresses`), by
   * the column's place in `address`: only for members with several IPv6
   * addresses. A rule for one of them fills the member's slot as a rule for
   * the admitted address does.
   */
  private readonly held = new Map<number, string[]>();
  /** Member slots filled more than once (by their place in `record`), with every rule filling them, in the order they were read. */
  private readonly contested = new Map<number, number[]>();
  /** Rules queued and not yet matched: `add`'s arguments, the member's id as `MemberIndex.queue` read it, and its answer. */
  private readonly queued = {
    count: 0,
    rule: new Int32Array(BATCH),
    target: new Int32Array(BATCH),
    at: new Int32Array(BATCH),
    host: new Float64Array(BATCH),
    member: new Int32Array(BATCH),
    ids: new Int32Array(BATCH * 3),
    found: new Int32Array(BATCH),
  };
  /**
   * What `flush` read ahead, kept where the engine must assume it is used:
   * a read whose result nothing uses may be dropped, and with it the early
   * wait on memory that the read ahead is for.
   */
  private seen = 0;

  /**
   * Walks the members the pass wants (only running ones are admitted, see
   * `desiredRules`): which targets select each, and its addresses.
   *
   * @param inScope positions in `members` of the members whose rules the
   *   pass wants; all when undefined
   */
  constructor(
    private readonly targets: readonly TargetRules[],
    private readonly index: MemberIndex,
    private readonly inScope: readonly number[] | undefined,
    private readonly observed: readonly ObservedRule[],
  ) {
    const members = index.members;
    let slots = 0;
    let columns = 0;
    for (const t of targets) {
      this.offsets.push(slots);
      this.columnOffsets.push(columns);
      const unserved: number[] = [];
      t.families.forEach((family, f) => t.ports.forEach((port, p) => portServes(port, family) || unserved.push(f * t.ports.length + p)));
      this.unserved.push(unserved);
      slots += t.families.length * t.ports.length;
      columns += t.families.length;
    }
    this.columns = columns;
    this.columnsAt = targets.length;
    this.slotsAt = targets.length + columns;
    this.stride = targets.length + columns + slots;
    this.target = new Int32Array(observed.length).fill(NONE);
    this.at = new Int32Array(observed.length);
    this.slot = new Int32Array(observed.length).fill(NONE);
    this.record = new Int32Array(members.length * this.stride);
    this.address = new Array<string | undefined>(members.length * columns);
    if (inScope === undefined) members.forEach((member, m) => this.read(member, m));
    else for (const m of inScope) this.read(members[m] as Member, m);
  }

  /** Records which targets select running member `m`, and its admitted address for each of their families. */
  private read(member: Member, m: number): void {
    if (member.state !== 'running') return;
    // Plain loops here and below: a closure per rule or member is garbage a hundred thousand times over.
    for (let ti = 0; ti < this.targets.length; ti++) {
      const t = this.targets[ti] as TargetRules;
      if (!t.selects(member)) continue;
      const base = m * this.stride;
      const firstColumn = this.columnOffsets[ti] ?? 0;
      let flags = SELECTED;
      for (let f = 0; f < t.families.length; f++) {
        const family = t.families[f] as Family;
        const address = admittedAddress(t.target, member, family);
        this.address[m * this.columns + firstColumn + f] = address;
        if (family === 'ipv6' && address !== undefined && Array.isArray(member.ipv6) && member.ipv6.length > 1) {
          const others = heldAddresses(t.target, member, family).slice(1);
          if (others.length > 0) this.held.set(m * this.columns + firstColumn + f, others);
        }
        // An admitted IPv4 address is spelled as dotted quad (see `admittedHost`).
        if (family === 'ipv4' && address !== undefined) {
          flags |= IPV4 << f;
          this.record[base + this.columnsAt + firstColumn + f] = ipv4Number(address);
        }
      }
      this.record[base + ti] = flags;
      const slots = base + this.slotsAt + (this.offsets[ti] ?? 0);
      for (const k of this.unserved[ti] as number[]) this.record[slots + k] = UNSERVED;
    }
  }

  /**
   * Records observed rule `i` as a candidate of target `ti`, in pool
   * position `at`, naming member `m` (NONE when not visible), its CIDR read
   * by `ipv4HostNumber` as `host`; and the member slot it fills, if any: the
   * first it can be, when the target selects the member, the port is one of
   * the target's, and the CIDR is the member's address in a family of the target.
   */
  private add(i: number, ti: number, at: number, m: number, host: number): void {
    this.target[i] = ti;
    this.at[i] = at;
    if (m === NONE) return;
    const base = m * this.stride;
    const flags = this.record[base + ti] as number;
    if ((flags & SELECTED) === 0) return;
    const rule = this.observed[i] as ObservedRule;
    const t = this.targets[ti] as TargetRules;
    let p = 0;
    while (p < t.ports.length && !samePort(rule, t.ports[p] as TargetRules['ports'][number])) p++;
    if (p === t.ports.length) return;
    // The slot for family f is first + f × ports.
    const first = (this.offsets[ti] ?? 0) + p;
    const firstColumn = this.columnOffsets[ti] ?? 0;
    if (host >= 0) {
      // An IPv4 /32 is the member's address exactly when the numbers agree (as 32 bits, as stored).
      for (let f = 0; f < t.families.length; f++) {
        if ((flags & (IPV4 << f)) === 0 || this.record[base + this.columnsAt + firstColumn + f] !== (host | 0)) continue;
        const key = base + this.slotsAt + first + f * t.ports.length;
        if (this.record[key] !== UNSERVED) this.claim(i, key);
        return;
      }
      return;
    }
    const column = m * this.columns + firstColumn;
    // An IPv4 CIDR never contains ':' and an IPv6 one always does, however spelled.
    const v6 = typeof rule.cidr === 'string' ? rule.cidr.includes(':') : undefined;
    for (let f = 0; f < t.families.length; f++) {
      const family = t.families[f] as Family;
      if (v6 !== undefined && v6 !== (family === 'ipv6')) continue;
      const address = this.address[column + f];
      if (address === undefined || !(isHost(rule.cidr, address, HOST_SUFFIX[family]) || this.holds(column + f, rule.cidr, HOST_SUFFIX[family]))) continue;
      const key = base + this.slotsAt + first + f * t.ports.length;
      if (this.record[key] !== UNSERVED) this.claim(i, key);
      return;
    }
  }

  /** Whether `cidr` is one of the other addresses the member holds in the column at `at` in `address`. */
  private holds(at: number, cidr: string | undefined, suffix: string): boolean {
    const others = this.held.get(at);
    return others !== undefined && others.some((a) => isHost(cidr, a, suffix));
  }

  /**
   * `add` for rule `i`, whose member's id is `text.slice(start, end)`, later:
   * the rule is matched with the rest of its batch, by `flush`. Matching one
   * rule waits on memory twice, for the member's place in the index and then
   * for its record, each somewhere at random in megabytes of tables; the
   * rules of a batch wait together. Call `flush` after the last rule.
   */
  queue(i: number, ti: number, at: number, text: string, start: number, end: number, host: number): void {
    const q = this.queued;
    const k = q.count;
    q.rule[k] = i;
    q.target[k] = ti;
    q.at[k] = at;
    q.host[k] = host;
    q.member[k] = this.index.queue(text, start, end, q.ids, k);
    if (++q.count === BATCH) this.flush();
  }

  /** Matches the queued rules, in the order they were queued. */
  flush(): void {
    const q = this.queued;
    const count = q.count;
    q.count = 0;
    this.index.findQueued(q.ids, count, q.found);
    // Every member's record is read before any rule is matched, so these waits overlap too.
    let seen = 0;
    for (let k = 0; k < count; k++) {
      const m = q.member[k] === QUEUED ? (q.found[k] as number) : (q.member[k] as number);
      q.member[k] = m;
      if (m !== NONE) seen |= this.record[m * this.stride + (q.target[k] as number)] as number;
    }
    this.seen = seen;
    for (let k = 0; k < count; k++) this.add(q.rule[k] as number, q.target[k] as number, q.at[k] as number, q.member[k] as number, q.host[k] as number);
  }

  /** Rule `i` fills the member slot at `key` in `record`. */
  private claim(i: number, key: number): void {
    this.slot[i] = key;
    const held = this.record[key] as number;
    if (held === 0) {
      this.record[key] = i + 1;
      return;
    }
    const same = this.contested.get(key);
    if (same) same.push(i);
    else this.contested.set(key, [held - 1, i]);
  }

  /** Whether rule `i` is one of the desired rules. */
  isClaimed(i: number): boolean {
    return this.slot[i] !== NONE;
  }

  /** Whether any of the `count` columns from `column` holds an admitted address. */
  private admittedIn(column: number, count: number): boolean {
    for (let f = 0; f < count; f++) if (this.address[column + f] !== undefined) return true;
    return false;
  }

  private allFilled(from: number, count: number): boolean {
    for (let k = from; k < from + count; k++) if (this.record[k] === 0) return false;
    return true;
  }

  /**
   * Walks the members again, after every rule was added: the desired rules
   * no existing rule is, the members that cannot be admitted, and the duplicates.
   */
  wanted(): Wanted {
    const perTarget = this.targets.map(() => ({ toPlace: [] as DesiredRule[], refused: [] as RefusedMember[] }));
    const walk = (member: Member, m: number) => {
      for (let ti = 0; ti < this.targets.length; ti++) {
        if (((this.record[m * this.stride + ti] as number) & SELECTED) === 0) continue;
        const t = this.targets[ti] as TargetRules;
        const ports = t.ports.length;
        const base = m * this.stride + this.slotsAt + (this.offsets[ti] ?? 0);
        // Every desired rule exists: nothing to add or refuse.
        if (ports > 0 && t.families.length > 0 && this.allFilled(base, t.families.length * ports)) continue;
        const out = perTarget[ti] as (typeof perTarget)[number];
        const column = m * this.columns + (this.columnOffsets[ti] ?? 0);
        // Admitted in no family: refused, with each family's reason (see `addMemberRules`).
        if (!this.admittedIn(column, t.families.length)) {
          const refusedBefore = out.refused.length;
          for (const family of t.families) refuseMember(t.target, member, family, out.refused, refusedBefore);
          continue;
        }
        for (let f = 0; f < t.families.length; f++) {
          const family = t.families[f] as Family;
          const from = base + f * ports;
          if (ports > 0 && this.allFilled(from, ports)) continue;
          const address = this.address[column + f];
          // No address of this family: the member is admitted in another.
          if (address === undefined) continue;
          const cidr = address + HOST_SUFFIX[family];
          for (let p = 0; p < ports; p++) {
            if (this.record[from + p] !== 0) continue;
            out.toPlace.push({ target: t.target.name, instanceId: member.instanceId, memberRegion: member.region, family, port: t.ports[p] as TargetRules['ports'][number], cidr });
          }
        }
      }
    };
    const members = this.index.members;
    if (this.inScope === undefined) members.forEach(walk);
    else for (const m of this.inScope) walk(members[m] as Member, m);
    // Members were walked in the order given; placement and reports go by target, region, instance.
    return {
      toPlace: perTarget.flatMap((p) => sortForPlacement(p.toPlace)),
      refused: perTarget.flatMap((p) => sortForPlacement(p.refused)),
      duplicates: this.duplicates(),
    };
  }

  /**
   * Of the rules filling one member slot, all but the first in pool order
   * (then by rule id, then as read). Slots are taken in the order of the rule that first
   * repeated one, as reading the rules in order finds them: the order they
   * were contested in, since rules are added in the order read.
   */
  private duplicates(): number[] {
    const id = (i: number) => (this.observed[i] as ObservedRule).ruleId;
    const order = (a: number, b: number) => (this.at[a] ?? 0) - (this.at[b] ?? 0) || (id(a) < id(b) ? -1 : id(b) < id(a) ? 1 : a - b);
    return [...this.contested.values()].flatMap((same) => same.sort(order).slice(1));
  }
}
