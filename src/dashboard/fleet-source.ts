/**
 * Where the fleet view comes from: a dry controller pass (inventory of every
 * member region, observed rules, plan; nothing applied), joined into rows.
 */
import type { LoadedConfig } from '../config/index.js';
import type { Ec2Port } from '../core/ports.js';
import type { RegionResult } from '../controller/inventory.js';
import { controllerPass, type ControllerPassResult } from '../controller/pass.js';
import { nextTurn } from '../controller/pass-time.js';
import { buildReport } from '../controller/report.js';
import { buildFleetView, type FleetView } from './fleet-view.js';

export interface LoadFleetOptions {
  config: LoadedConfig;
  ec2: Ec2Port;
  /** Only these regions' instances (default: the controller's regions). */
  regions?: string[];
  onRegion?: (r: RegionResult) => void;
  now?: () => number;
}

/** The view of a finished pass (dry or applied: rows reflect its first plan). */
export function viewOfPass(config: LoadedConfig, pass: ControllerPassResult): FleetView {
  return buildFleetView({
    deployment: config.config.deployment,
    targets: config.targets,
    members: pass.inventory.members,
    regions: pass.inventory.regions,
    plan: pass.plan,
    observed: pass.observedRules,
    report: buildReport('plan', pass, config.targets),
    groupCheck: pass.groupCheck,
    at: pass.startedAt,
  });
}

/**
 * Lists the fleet and plans against it without changing anything: what
 * `sgsync inventory`, `sgsync status` and the dashboard show.
 */
export async function loadFleetView(options: LoadFleetOptions): Promise<FleetView> {
  const pass = await controllerPass({
    config: options.config,
    ec2: options.ec2,
    apply: false,
    regions: options.regions,
    // The views show every instance, selected or not.
    listing: 'everything',
    onRegion: options.onRegion,
    now: options.now,
  });
  // The view, in a turn of its own: not in the one that planned.
  await nextTurn();
  return viewOfPass(options.config, pass);
}
