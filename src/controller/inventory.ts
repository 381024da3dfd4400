import type { LoadedConfig } from '../config/index.js';
import { isSgsyncError, messageOf, SgsyncError } from '../core/errors.js';
import { INSTANCE_ID_PATTERN } from '../core/instance-id-index.js';
import { mapLimit } from '../core/limit.js';
import type { Member, ObservedRule, RegionInventory } from '../core/model.js';
import { isManagedBy, ruleMember } from '../core/ownership.js';
import type { Ec2Port, ListFilter } from '../core/ports.js';
import { excludesRegion } from '../core/selector.js';

/** How one region's listing went. */
export interface RegionResult {
  region: string;
  status: 'complete' | 'failed';
  /** Instances listed: those the listing's filters let through, and those the rules named that were looked up. */
  instances: number;
  reason?: string;
  /** The error's sgsync code, when failed. */
  code?: string;
  ms: number;
}

export interface Inventory {
  members: Member[];
  /** For the planner: a failed region is never "no instances" (safety rule 2). */
  regionInventory: Record<string, RegionInventory>;
  regions: RegionResult[];
  /** What the report should say about the listing itself (regions a selector names that were not listed). */
  warnings?: string[];
}

/**
 * The regions a pass lists: `controller.regions` from the config, or every
 * region enabled for the account. Listing members, when every target names
 * its member regions, only those (nothing else could hold a member); listing
 * `everything` (what the views show), all of them.
 */
export async function inventoryRegions(config: LoadedConfig, ec2: Ec2Port, only?: readonly string[], listing: 'members' | 'everything' = 'members'): Promise<string[]> {
  if (only && only.length > 0) return [...new Set(only)].sort();
  // Asked of the first target's region: it is the account's, in its partition (us-east-1 is not in aws-cn or aws-us-gov).
  const base = config.config.controller.regions ?? (await ec2.enabledRegions(config.targets[0]?.region));
  return (listing === 'everything' ? [...base] : base.filter((r) => regionLeftOut(config, r) === undefined)).sort();
}

/**
 * Why a pass, by its configuration, does not list `region` (`controller.regions`
 * leaves it out, or every target's selector does), or undefined when it may.
 */
export function regionLeftOut(config: LoadedConfig, region: string): string | undefined {
  const listed = config.config.controller.regions;
  if (listed !== undefined && !listed.includes(region)) return `${region} is not in controller.regions`;
  if (config.targets.every((t) => excludesRegion(t.selector, region))) return `no target selects instances in ${region}`;
  return undefined;
}

/**
 * Regions a target's selector names that a pass does not list, because the
 * account does not have them enabled or `controller.regions` leaves them out
 * (regions asked for with `--region` aside): their instances would be
 * silently missing, so the report says so.
 */
export function unlistedSelectorRegions(config: LoadedConfig, listed: readonly string[], only?: readonly string[]): string[] {
  if (only && only.length > 0) return [];
  const have = new Set(listed);
  const why = config.config.controller.regions ? 'it is not in controller.regions' : 'it is not enabled for the account';
  return config.targets.flatMap((t) =>
    (t.selector.regions ?? []).filter((r) => !have.has(r)).map((r) => `target "${t.name}" selects instances in ${r}, which no pass lists: ${why}`),
  );
}

/**
 * Lists the instances of every region in parallel (bounded), and records per
 * region whether the listing was complete. One region failing does not fail
 * the others; its members' rules are then kept, not revoked. With `filters`,
 * only the instances they let through (see `memberFilters`).
 */
export async function takeInventory(
  ec2: Ec2Port,
  regions: readonly string[],
  options: { concurrency?: number; now?: () => number; onRegion?: (r: RegionResult) => void; filters?: ListFilter[]; signal?: AbortSignal } = {},
): Promise<Inventory> {
  const now = options.now ?? Date.now;
  const { signal } = options;
  const filters = options.filters?.length ? options.filters : undefined;
  const results = await mapLimit(regions, options.concurrency ?? 8, async (region) => {
    const started = now();
    // Once the pass has given up, regions not yet listed are not started, and no region is reported.
    const report = (r: RegionResult) => void (signal?.aborted || options.onRegion?.(r));
    try {
      if (signal?.aborted) throw new SgsyncError('INTERNAL', 'the pass ended before this region was listed');
      const members = await ec2.listMembers(region, { ...(filters ? { filters } : {}), ...(signal ? { signal } : {}) });
      const r: RegionResult = { region, status: 'complete', instances: members.length, ms: now() - started };
      report(r);
      return { r, members, listedAt: started };
    } catch (e) {
      const reason = messageOf(e);
      const r: RegionResult = { region, status: 'failed', instances: 0, reason, code: isSgsyncError(e) ? e.code : 'INTERNAL', ms: now() - started };
      report(r);
      return { r, members: [] as Member[], listedAt: started };
    }
  });
  const regionInventory: Record<string, RegionInventory> = {};
  for (const { r, listedAt } of results) {
    regionInventory[r.region] = r.status === 'complete' ? { status: 'complete', listedAt } : { status: 'failed', reason: r.reason ?? 'unknown' };
  }
  return { members: results.flatMap((x) => x.members), regionInventory, regions: results.map((x) => x.r) };
}

/**
 * After a filtered listing: looks up, by id, the instances this deployment's
 * rules name that the listing did not return, in the regions it listed
 * completely, and adds them to the inventory. A rule's instance that lost its
 * tag is then seen as what it is (running but no longer selected, stopped,
 * re-addressed), and only an instance EC2 no longer shows counts as gone.
 * Ids in `asked` are not looked up again (a pass observes more than once).
 * A region whose lookup fails becomes a failed region: its members' rules are
 * kept, not revoked (safety rule 2).
 */
export async function lookUpNamedInstances(
  ec2: Ec2Port,
  inventory: Inventory,
  observed: readonly ObservedRule[],
  options: { deployment: string; asked: Set<string>; concurrency?: number },
): Promise<void> {
  const { asked } = options;
  const listed = new Set(inventory.members.map((m) => m.instanceId));
  const wanted = new Map<string, string[]>();
  for (const rule of observed) {
    if (!isManagedBy(rule, options.deployment)) continue;
    const { instanceId, memberRegion } = ruleMember(rule);
    if (!instanceId || !memberRegion || listed.has(instanceId) || asked.has(instanceId)) continue;
    if (inventory.regionInventory[memberRegion]?.status !== 'complete') continue;
    // A garbled id names no instance EC2 could show; it is not worth a call that might fail the region.
    if (!INSTANCE_ID_PATTERN.test(instanceId)) continue;
    asked.add(instanceId);
    const ids = wanted.get(memberRegion);
    if (ids) ids.push(instanceId);
    else wanted.set(memberRegion, [instanceId]);
  }
  await mapLimit([...wanted], options.concurrency ?? 8, async ([region, instanceIds]) => {
    const result = inventory.regions.find((r) => r.region === region);
    try {
      const found = await ec2.listMembers(region, { instanceIds });
      inventory.members.push(...found.filter((m) => !listed.has(m.instanceId)));
      if (result) result.instances += found.length;
    } catch (e) {
      const reason = `looking up ${instanceIds.length} instance(s) its rules name failed: ${messageOf(e)}`;
      inventory.regionInventory[region] = { status: 'failed', reason };
      if (result) Object.assign(result, { status: 'failed', reason, code: isSgsyncError(e) ? e.code : 'INTERNAL' });
    }
  });
}
