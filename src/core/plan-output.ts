/**
 * Shaping a plan for its readers: per-group batches for the applier, one
 * capacity line per target group and family for people, and a stable order
 * everywhere so two plans of the same world compare equal.
 */
import { isOpenToWorld } from './addresses.js';
import type { GroupFamilyCounts } from './capacity.js';
import type { BlockedReason, BlockedRule, CapacityLine, DesiredRule, Family, GroupBatch, PlannedRevoke, RetiredGroupLine, Target } from './model.js';
import { isReplaced } from './safety.js';

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Groups items into one batch per group (and region), batches sorted by group
 * id, items kept in the order given: the applier makes one call per batch.
 * With `apart`, items of one group that it tells apart go in batches of
 * their own (sorted by it after the group): rules authorized in one call
 * share one set of tags, so rules of two targets sharing a group must not
 * share a call, or neither would carry its target's tag.
 */
export function toBatches<T extends { groupId: string }>(items: readonly T[], regionOf: (item: T) => string, apart: (item: T) => string = () => ''): GroupBatch<T>[] {
  const batches = new Map<string, { batch: GroupBatch<T>; apart: string }>();
  let last: { batch: GroupBatch<T>; apart: string } | undefined;
  for (const item of items) {
    const region = regionOf(item);
    const kind = apart(item);
    // Placement fills a group before the next, so consecutive items mostly share a batch.
    if (last?.batch.groupId !== item.groupId || last.batch.region !== region || last.apart !== kind) {
      const key = `${item.groupId}\u0000${region}\u0000${kind}`;
      last = batches.get(key);
      if (!last) batches.set(key, (last = { batch: { groupId: item.groupId, region, items: [] }, apart: kind }));
    }
    last.batch.items.push(item);
  }
  return [...batches.values()]
    .sort((a, b) => byText(a.batch.groupId, b.batch.groupId) || byText(a.batch.region, b.batch.region) || byText(a.apart, b.apart))
    .map((e) => e.batch);
}

/** Sorts by a string key, without the locale-dependent `localeCompare`. */
export function sortByKey<T>(items: T[], key: (item: T) => string): T[] {
  return items
    .map((item) => ({ item, k: key(item) }))
    .sort((a, b) => byText(a.k, b.k))
    .map((x) => x.item);
}

interface CapacityInput {
  targets: Target[];
  /** Inbound rules per group and family before the pass, this deployment's and everyone else's. */
  managed: GroupFamilyCounts;
  foreign: GroupFamilyCounts;
  /** Rules per group and family once the plan is applied. */
  after: (groupId: string, family: Family) => number;
  /** Whether a group of the target's pool does not exist. */
  missing?: (target: Target, groupId: string) => boolean;
}

/**
 * One line per target group per configured family: the rules there before
 * the pass (managed and foreign alike, as AWS counts them) and after it, and
 * whether the group does not exist (then both are 0, and mean no room).
 */
export function capacityLines({ targets, managed, foreign, after, missing }: CapacityInput): CapacityLine[] {
  const lines: CapacityLine[] = [];
  for (const target of targets) {
    for (const groupId of new Set(target.groupIds ?? [])) {
      const gone = missing?.(target, groupId) === true;
      for (const family of new Set(target.families ?? [])) {
        const m = managed.get(groupId, family);
        const f = foreign.get(groupId, family);
        const line: CapacityLine = { target: target.name, groupId, family, quota: target.quota, before: m + f, after: after(groupId, family), managed: m, foreign: f };
        lines.push(gone ? { ...line, missing: true } : line);
      }
    }
  }
  return lines;
}

/** One target's pool for one family, summed over the groups that exist. */
export interface PoolTotal {
  family: Family;
  /** Groups of the pool that exist (a group that does not exist has no room). */
  groups: number;
  /** Rules the pool can hold: the quota per group times those groups. */
  quota: number;
  before: number;
  after: number;
  /** Rules the pool can still take once the pass is applied: each group's room, added up (a group over its quota has none). */
  room: number;
  /** Groups that hold their quota or more before the pass. */
  fullGroups: number;
}

/**
 * One target's pool per family, from that target's capacity lines: what a
 * reader wants before the group-by-group gauges, since placement fills groups
 * one by one and a full group is no news while the pool has room.
 */
export function poolTotals(lines: readonly Pick<CapacityLine, 'family' | 'quota' | 'before' | 'after' | 'missing'>[]): PoolTotal[] {
  const totals = new Map<Family, PoolTotal>();
  for (const c of lines) {
    let t = totals.get(c.family);
    if (!t) totals.set(c.family, (t = { family: c.family, groups: 0, quota: 0, before: 0, after: 0, room: 0, fullGroups: 0 }));
    if (c.missing) continue;
    t.groups++;
    t.quota += c.quota;
    t.before += c.before;
    t.after += c.after;
    t.room += Math.max(0, c.quota - c.after);
    if (c.before >= c.quota) t.fullGroups++;
  }
  return [...totals.values()];
}

/** `ipv4: 950 of 960 rules used in 16 groups (14 full), 940 after a pass; room for 20 more`: a pool in one line. */
export function poolText(p: PoolTotal): string {
  if (p.groups === 0) return `${p.family}: no group of the pool exists`;
  const full = p.fullGroups > 0 ? ` (${p.fullGroups} full)` : '';
  const after = p.after !== p.before ? `, ${p.after} after a pass` : '';
  return `${p.family}: ${p.before} of ${p.quota} rules used in ${p.groups} group${p.groups === 1 ? '' : 's'}${full}${after}; room for ${p.room} more`;
}

/**
 * A retired group in one line, as every report and page gives it: how many
 * of the target's rules it holds and will after a pass, or that it is empty
 * and the key can go. `Retired sg-0ab…: 12 rules, 3 after a pass`.
 */
export function retiredText(line: Pick<RetiredGroupLine, 'groupId' | 'rules' | 'left' | 'missing'>): string {
  const remove = 'remove it from retiredGroups';
  if (line.missing) return `Retired ${line.groupId}: does not exist, nothing to drain; ${remove}`;
  if (line.rules === 0) return `Retired ${line.groupId}: empty; ${remove}`;
  const rules = `${line.rules} rule${line.rules === 1 ? '' : 's'}`;
  if (line.left === line.rules) return `Retired ${line.groupId}: ${rules}, still there after a pass`;
  return `Retired ${line.groupId}: ${rules}, ${line.left === 0 ? `none after a pass (then ${remove})` : `${line.left} after a pass`}`;
}

/**
 * A revoke's reason as the views show it. A rule tagged as this deployment's
 * that admits everyone (`malformed`: sgsync writes no such rule, anyone
 * allowed to add its tags could) says so, as a foreign one does.
 */
export function revokeText(r: { reason: string; cidr?: string }): string {
  return isOpenToWorld(r.cidr) ? `${r.reason} (OPEN TO THE WORLD)` : r.reason;
}

/** A blocked rule's reason in words, as every report and page gives it. */
export function blockedText(reason: BlockedReason): string {
  switch (reason) {
    case 'no-group':
      return 'no group of the pool exists';
    case 'halted':
      return 'held back with the change the blast radius stops (of ports or families, of the target\'s name, or a retired group)';
    default:
      return 'no room in the pool';
  }
}

/** A member of a target as one key: what the rules, revokes and blocked rules of one member in one target share. */
export function memberKey(target: string, instanceId: string | undefined): string {
  return `${target}\u0000${instanceId ?? ''}`;
}

/** The members (by `memberKey`) whose revokes have a successor (see `isReplaced`): a halted pass holds their new rules back with the old. */
export function replacingMembers(revokes: Iterable<PlannedRevoke>): Set<string> {
  const out = new Set<string>();
  for (const r of revokes) if (isReplaced(r.reason)) out.add(memberKey(r.target, r.instanceId));
  return out;
}

/** A desired rule the plan does not place, and why. Spelled out rather than spread: at fleet scale this list is long. */
export function asBlocked(r: DesiredRule, reason: BlockedReason): BlockedRule {
  return { target: r.target, instanceId: r.instanceId, memberRegion: r.memberRegion, family: r.family, port: r.port, cidr: r.cidr, reason };
}
