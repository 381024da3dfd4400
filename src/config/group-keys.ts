/**
 * Where a configuration names a security group, for messages about a group
 * that does not exist: the key to fix (`targets[0].groups[1]`), not only an
 * id that, being a typo, may be hard to spot among the others.
 */
import type { MissingGroup } from '../core/model.js';
import type { LoadedConfig } from './load.js';

/**
 * The keys of every pool that lists `groupId` among the targets in
 * `region`, in the order of the file. A group lives in one region, so a
 * pool of another region naming the same id names another group.
 *
 * @example groupKeys(loaded, 'sg-0123456789abcdef0', 'us-east-1') // ['targets[0].groups[1]']
 */
export function groupKeys(loaded: LoadedConfig, groupId: string, region: string): string[] {
  return loaded.config.targets.flatMap((t, i) => (t.region === region ? t.groups.flatMap((g, j) => (g === groupId ? [`targets[${i}].groups[${j}]`] : [])) : []));
}

/** A group that does not exist, with where the configuration names it: the start of a sentence. */
export function missingGroupText(loaded: LoadedConfig, group: MissingGroup): string {
  const keys = groupKeys(loaded, group.groupId, group.region);
  const where = keys.length > 0 ? ` (${keys.join(', ')} in ${loaded.file})` : '';
  return `Security group ${group.groupId}${where} does not exist in ${group.region}`;
}

/** What to do about a group that does not exist. */
export const MISSING_GROUP_FIX = "Correct the id, or take it out of the pool; a group lives in one region, so check the target's region too.";

/**
 * One warning per group of `missing` (a plan names a group once per target
 * whose pool lists it): it does not exist, nothing is placed in it, and
 * what to do.
 */
export function missingGroupWarnings(loaded: LoadedConfig, missing: readonly MissingGroup[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const m of missing) {
    const key = `${m.region} ${m.groupId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(`${missingGroupText(loaded, m)}; nothing is placed in it. ${MISSING_GROUP_FIX}`);
  }
  return out;
}
