import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { LoadedConfig } from '../config/index.js';
import type { ObservedRule, Scope } from '../core/model.js';
import type { Ec2Port, ListFilter } from '../core/ports.js';
import { plan as makePlan } from '../core/planner.js';
import { groupsByRegion, passWarnings, runPass, type AppliedChange, type PassOptions, type PassResult } from '../core/reconcile.js';
import { checkGroups, groupCheckWarning, missingGroupErrors, type GroupCheck } from './group-check.js';
import { inventoryRegions, lookUpNamedInstances, takeInventory, unlistedSelectorRegions, type Inventory, type RegionResult } from './inventory.js';
import { memberFilters } from './member-filters.js';
import { nextTurn, realPassTime } from './pass-time.js';

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
  /** See `PassOptions.onRound`. */
  onRound?: PassOptions['onRound'];
  /**
   * Asked before each round and each change: a reason ends the pass between
   * calls (a Lambda's time limit near, a stop signal). See `PassOptions.shouldStop`.
   */
  shouldStop?: PassOptions['shouldStop'];
}

export interface ControllerPassResult extends PassResult {
  passId: string;
  inventory: Inventory;
  startedAt: string;
  /** Milliseconds spent listing the instances (the rest of the pass is in `timings`). */
  inventoryMs: number;
  /** Which pool groups EC2 does not know, and the regions whose groups could not be listed. */
  groupCheck: GroupCheck;
}

/** The pass's instances: the one an event names, or every member region's (through `filters`). */
async function listInstances(options: ControllerPassOptions, filters: ListFilter[], signal: AbortSignal): Promise<Inventory> {
  const { config, ec2 } = options;
  if (options.instance) {
    const { instanceId, region } = options.instance;
    const listedAt = (options.now ?? Date.now)();
    const members = await ec2.listMembers(region, { instanceIds: [instanceId], signal });
    return {
      members,
      regionInventory: { [region]: { status: 'complete', listedAt } },
      regions: [{ region, status: 'complete', instances: members.length, ms: 0 }],
    };
  }
  const regions = await inventoryRegions(config, ec2, options.regions, options.listing);
  const inventory = await takeInventory(ec2, regions, { concurrency: config.config.controller.concurrency, now: options.now, onRegion: options.onRegion, filters, signal });
  const warnings = unlistedSelectorRegions(config, regions, options.regions);
  return warnings.length > 0 ? { ...inventory, warnings } : inventory;
}

/**
 * A controller pass: the inventory of every member region, then the engine
 * with scope "everything" (or one instance, for an event). The same plan and
 * apply as the agent's, only with a wider desired set and scope, and with
 * the pools' groups listed so that one that does not exist is planned
 * around and reported (see `checkGroups`).
 */
export async function controllerPass(options: ControllerPassOptions): Promise<ControllerPassResult> {
  const now = options.now ?? Date.now;
  const passId = options.passId ?? randomUUID();
  const startedAt = new Date(now()).toISOString();
  const { config, ec2 } = options;
  const concurrency = config.config.controller.concurrency;

  const scope: Scope = options.instance ? { kind: 'instance', instanceId: options.instance.instanceId } : { kind: 'all' };
  const filters = options.instance || options.listing === 'everything' ? [] : memberFilters(config.targets);
  const asked = new Set<string>();

  // The instances are listed while the groups' rules are read: the two share
  // no bucket and neither needs the other. Each plan waits for both.
  const inventoryStart = performance.now();
  let inventoryMs = 0;
  // Should reading the rules fail first, the pass fails with that error: the listing is then cut short,
  // and its own failures are not news.
  const cutShort = new AbortController();
  // Every call in flight listens on it (the SDK removes its listener when the call ends), and a pass
  // lists up to `concurrency` regions at once: past Node's default of ten, a warning about a leak there is not.
  setMaxListeners(0, cutShort.signal);
  const listing = listInstances(options, filters, cutShort.signal).finally(() => {
    inventoryMs = performance.now() - inventoryStart;
  });
  listing.catch(() => undefined);
  let inventory: Inventory | undefined;
  /** Time the rule reads spent waiting for the listing, which `inventoryMs` already counts. */
  let waitedMs = 0;
  // The pools' groups are listed while their rules are read, one call per target region: a group EC2
  // does not list does not exist, though its rules read as none, as an empty group's do.
  const groups = groupsByRegion(config.targets);
  const checking = checkGroups(ec2, groups, concurrency);
  let groupCheck: GroupCheck | undefined;
  const afterObserve = async (observed: ObservedRule[]) => {
    groupCheck ??= await checking;
    const waitStart = performance.now();
    inventory ??= await listing;
    waitedMs += performance.now() - waitStart;
    if (filters.length > 0) await lookUpNamedInstances(ec2, inventory, observed, { deployment: config.config.deployment, asked, concurrency });
    // The plan, in a turn of its own: not in the one that read the last page.
    await nextTurn();
  };

  const pass = runPass({
    ...realPassTime,
    ec2,
    groups,
    apply: options.apply,
    concurrency,
    shouldStop: options.shouldStop,
    onChange: options.onChange ? (c) => options.onChange?.({ ...c, passId }) : undefined,
    onRound: options.onRound,
    afterObserve,
    makePlan: (observed, learned) =>
      makePlan({
        full: learned.full,
        // Set by afterObserve, as the members are; AWS's refusals add the groups it could not list.
        missing: [...(groupCheck?.missing ?? []), ...learned.missing],
        deployment: config.config.deployment,
        targets: config.targets,
        // Set by afterObserve, which runs before every plan.
        members: inventory?.members ?? [],
        regionInventory: inventory?.regionInventory ?? {},
        observed,
        scope,
        now: now(),
        safety: { ...config.safety, force: options.force === true },
      }),
  });
  const result = await pass.catch((e: unknown) => {
    cutShort.abort();
    throw e;
  });
  const check = groupCheck ?? (await checking);
  // A group that does not exist is an error of the pass whatever it had to do, though its rules went elsewhere:
  // the configuration names a group that is not there, and only a person can say which was meant.
  const named = missingGroupErrors(config, result.lastPlan, check);
  const errors = [...result.errors.filter((x) => !(x.code === 'NOT_FOUND' && named.some((e) => e.details.groupId === x.details.groupId))), ...named];
  return {
    ...result,
    errors,
    timings: { ...result.timings, observeMs: result.timings.observeMs - waitedMs },
    passId,
    inventory: inventory ?? (await listing),
    startedAt,
    inventoryMs,
    groupCheck: check,
  };
}

/**
 * Everything a controller pass warns of, each once: the engine's (its plans',
 * and what EC2's reads had not caught up with), the listing's (a region a
 * selector names that no pass lists) and the group check's (pool groups that
 * could not be checked).
 */
export function controllerPassWarnings(result: ControllerPassResult): string[] {
  const unchecked = groupCheckWarning(result.groupCheck);
  return [...new Set([...passWarnings(result), ...(result.inventory.warnings ?? []), ...(unchecked === undefined ? [] : [unchecked])])];
}
