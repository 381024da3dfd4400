/**
 * Shaping a plan for its readers: per-group batches for the applier, one
 * capacity line per target group and family for people, and a stable order
 * everywhere so two plans of the same world compare equal.
 */
import type { CapacityLine, Family, GroupBatch, ObservedRule, PlannedRevoke, PlannedRule, Target } from './model.js';

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Groups items into one batch per group (and region), batches sorted by group
 * id, items kept in the order given: the applier makes one call per batch.
 */
export function toBatches<T extends { groupId: string }>(items: { item: T; region: string }[]): GroupBatch<T>[] {
  const batches = new Map<string, GroupBatch<T>>();
  for (const { item, region } of items) {
    const key = `${item.groupId}\u0000${region}`;
    let batch = batches.get(key);
    if (!batch) {
      batch = { groupId: item.groupId, region, items: [] };
      batches.set(key, batch);
    }
    batch.items.push(item);
  }
  return [...batches.values()].sort((a, b) => byText(a.groupId, b.groupId) || byText(a.region, b.region));
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
  observed: ObservedRule[];
  isManaged: (rule: ObservedRule) => boolean;
  revokes: PlannedRevoke[];
  authorizes: PlannedRule[];
}

/**
 * One line per target group per configured family: the rules there before
 * the pass (managed and foreign alike, as AWS counts them) and after it.
 */
export function capacityLines({ targets, observed, isManaged, revokes, authorizes }: CapacityInput): CapacityLine[] {
  const count = (map: Map<string, number>, groupId: string, family: Family) => {
    const key = `${groupId}\u0000${family}`;
    map.set(key, (map.get(key) ?? 0) + 1);
  };
  const managed = new Map<string, number>();
  const foreign = new Map<string, number>();
  const delta = new Map<string, number>();
  for (const rule of observed) count(isManaged(rule) ? managed : foreign, rule.groupId, rule.family);
  for (const rule of authorizes) count(delta, rule.groupId, rule.family);
  for (const rule of revokes) delta.set(`${rule.groupId}\u0000${rule.family}`, (delta.get(`${rule.groupId}\u0000${rule.family}`) ?? 0) - 1);

  const lines: CapacityLine[] = [];
  for (const target of targets) {
    for (const groupId of new Set(target.groupIds ?? [])) {
      for (const family of new Set(target.families ?? [])) {
        const key = `${groupId}\u0000${family}`;
        const m = managed.get(key) ?? 0;
        const f = foreign.get(key) ?? 0;
        lines.push({ target: target.name, groupId, family, quota: target.quota, before: m + f, after: m + f + (delta.get(key) ?? 0), managed: m, foreign: f });
      }
    }
  }
  return lines;
}
