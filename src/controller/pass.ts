import { randomUUID } from 'node:crypto';
import type { LoadedConfig } from '../config/index.js';
import type { ObservedRule, Scope } from '../core/model.js';
import type { Ec2Port } from '../core/ports.js';
import { plan as makePlan } from '../core/planner.js';
import { groupsByRegion, runPass, type AppliedChange, type PassResult } from '../core/reconcile.js';
import { inventoryRegions, lookUpNamedInstances, takeInventory, type Inventory, type RegionResult } from './inventory.js';
import { memberFilters } from './member-filters.js';

export interface ControllerPassOptions {
  config: LoadedConfig;
  ec2: Ec2Port;
  /** false: a dry run (`sgsync plan`). */
  apply: boolean;
  /** Revoke beyond the blast-radius limit. */
  force?: boolean;
  /** Only these regions' instances (default: config, then every enabled region). */
  regions?: string[];
  /** One instance (a state-change event); default: everything. */
  instance?: { instanceId: string; region: string };
  /**
   * Which instances a fleet-wide pass lists. `members` (the default): those
   * the targets' selectors may admit (their common tags, as DescribeInstances
   * filters), then by id those the rules name that the listing left out.
   * `everything`: every instance, as the dashboard shows them.
   */
  listing?: 'members' | 'everything';
  now?: () => number;
  passId?: string;
  onChange?: (change: AppliedChange & { passId: string }) => void;
  onRegion?: (result: RegionResult) => void;
}

export interface ControllerPassResult extends PassResult {
  passId: string;
  inventory: Inventory;
  startedAt: string;
  /** Milliseconds spent listing the instances (the rest of the pass is in `timings`). */
  inventoryMs: number;
}

/**
 * A controller pass: the inventory of every member region, then the engine
 * with scope "everything" (or one instance, for an event). The same plan and
 * apply as the agent's, only with a wider desired set and scope.
 */
export async function controllerPass(options: ControllerPassOptions): Promise<ControllerPassResult> {
  const now = options.now ?? Date.now;
  const passId = options.passId ?? randomUUID();
  const startedAt = new Date(now()).toISOString();
  const { config, ec2 } = options;
  const concurrency = config.config.controller.concurrency;

  let inventory: Inventory;
  let scope: Scope;
  let afterObserve: ((observed: ObservedRule[]) => Promise<void>) | undefined;
  const inventoryStart = performance.now();
  if (options.instance) {
    const { instanceId, region } = options.instance;
    const members = await ec2.listMembers(region, { instanceIds: [instanceId] });
    inventory = {
      members,
      regionInventory: { [region]: { status: 'complete' } },
      regions: [{ region, status: 'complete', instances: members.length, ms: 0 }],
    };
    scope = { kind: 'instance', instanceId };
  } else {
    const regions = await inventoryRegions(config, ec2, options.regions);
    const filters = options.listing === 'everything' ? [] : memberFilters(config.targets);
    const listed = await takeInventory(ec2, regions, { concurrency, now, onRegion: options.onRegion, filters });
    inventory = listed;
    scope = { kind: 'all' };
    if (filters.length > 0) {
      const asked = new Set<string>();
      afterObserve = (observed) => lookUpNamedInstances(ec2, listed, observed, { deployment: config.config.deployment, asked, concurrency });
    }
  }
  const inventoryMs = performance.now() - inventoryStart;

  const result = await runPass({
    ec2,
    groups: groupsByRegion(config.targets),
    apply: options.apply,
    concurrency,
    onChange: options.onChange ? (c) => options.onChange?.({ ...c, passId }) : undefined,
    afterObserve,
    makePlan: (observed) =>
      makePlan({
        deployment: config.config.deployment,
        targets: config.targets,
        members: inventory.members,
        regionInventory: inventory.regionInventory,
        observed,
        scope,
        now: now(),
        safety: { ...config.safety, force: options.force === true },
      }),
  });
  return { ...result, passId, inventory, startedAt, inventoryMs };
}
