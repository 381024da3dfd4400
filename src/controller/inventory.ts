import type { LoadedConfig } from '../config/index.js';
import { isSgsyncError } from '../core/errors.js';
import { mapLimit } from '../core/limit.js';
import type { Member, RegionInventory } from '../core/model.js';
import type { Ec2Port } from '../core/ports.js';

/** How one region's listing went. */
export interface RegionResult {
  region: string;
  status: 'complete' | 'failed';
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
}

/**
 * The regions a pass lists: `controller.regions` from the config, or every
 * region enabled for the account. When every target names its member regions,
 * only those (and nothing else could hold a member).
 */
export async function inventoryRegions(config: LoadedConfig, ec2: Ec2Port, only?: readonly string[]): Promise<string[]> {
  if (only && only.length > 0) return [...new Set(only)].sort();
  const configured = config.config.controller.regions;
  const base = configured ?? (await ec2.enabledRegions());
  const selected = config.targets.every((t) => t.selector.regions !== undefined)
    ? new Set(config.targets.flatMap((t) => t.selector.regions ?? []))
    : undefined;
  return base.filter((r) => !selected || selected.has(r)).sort();
}

/**
 * Lists every instance of every region in parallel (bounded), and records per
 * region whether the listing was complete. One region failing does not fail
 * the others; its members' rules are then kept, not revoked.
 */
export async function takeInventory(
  ec2: Ec2Port,
  regions: readonly string[],
  options: { concurrency?: number; now?: () => number; onRegion?: (r: RegionResult) => void } = {},
): Promise<Inventory> {
  const now = options.now ?? Date.now;
  const results = await mapLimit(regions, options.concurrency ?? 8, async (region) => {
    const started = now();
    try {
      const members = await ec2.listMembers(region);
      const r: RegionResult = { region, status: 'complete', instances: members.length, ms: now() - started };
      options.onRegion?.(r);
      return { r, members };
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      const r: RegionResult = { region, status: 'failed', instances: 0, reason, code: isSgsyncError(e) ? e.code : 'INTERNAL', ms: now() - started };
      options.onRegion?.(r);
      return { r, members: [] as Member[] };
    }
  });
  const regionInventory: Record<string, RegionInventory> = {};
  for (const { r } of results) {
    regionInventory[r.region] = r.status === 'complete' ? { status: 'complete' } : { status: 'failed', reason: r.reason ?? 'unknown' };
  }
  return { members: results.flatMap((x) => x.members), regionInventory, regions: results.map((x) => x.r) };
}
