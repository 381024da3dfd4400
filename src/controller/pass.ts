import { randomUUID } from 'node:crypto';
import type { LoadedConfig } from '../config/index.js';
import type { Scope } from '../core/model.js';
import type { Ec2Port } from '../core/ports.js';
import { plan as makePlan } from '../core/planner.js';
import { groupsByRegion, runPass, type AppliedChange, type PassResult } from '../core/reconcile.js';
import { inventoryRegions, takeInventory, type Inventory, type RegionResult } from './inventory.js';

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
    inventory = await takeInventory(ec2, regions, { concurrency, now, onRegion: options.onRegion });
    scope = { kind: 'all' };
  }
  const inventoryMs = performance.now() - inventoryStart;

  const result = await runPass({
    ec2,
    groups: groupsByRegion(config.targets),
    apply: options.apply,
    concurrency,
    onChange: options.onChange ? (c) => options.onChange?.({ ...c, passId }) : undefined,
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
