/**
 * sgsync as a library: what the `sgsync` command runs, for programs that
 * drive it themselves (a scheduler of their own, a test, another tool).
 *
 * - `plan` is the pure planner (members × rules × capacity × safety → plan),
 *   with the model, ownership and address checks of the core.
 * - `loadConfig` / `parseConfig` read `sgsync.yaml` as the CLI does.
 * - `createEc2Adapter` talks to EC2 through the AWS SDK, with sgsync's
 *   pacing, retries and paging.
 * - `reconcile` runs one controller pass: every member region listed, the
 *   groups' rules read, the plan applied (or only made, with `dryRun`).
 *
 * The sandbox is `sgsync/sandbox`. See docs/library.md.
 *
 * @example
 * import { createEc2Adapter, loadConfig, reconcile } from 'sgsync';
 * const config = await loadConfig({ configPath: 'sgsync.yaml' });
 * const result = await reconcile({ config, ec2: createEc2Adapter({ config }) });
 * console.log(result.changes.length, 'changes', result.errors);
 */
import { createEc2Adapter } from './aws/ec2-adapter.js';
import type { LoadedConfig } from './config/index.js';
import { controllerPass, type ControllerPassOptions, type ControllerPassResult } from './controller/pass.js';

export * from './core/index.js';
export type { Ec2Port, ListFilter } from './core/ports.js';
export { passWarnings, type AppliedChange, type PassResult, type PassTimings } from './core/reconcile.js';
export { configJsonSchema, findConfigFile, formatIssue, loadConfig, parseConfig, type ConfigIssue, type LoadedConfig, type SgsyncConfig } from './config/index.js';
export { createEc2Adapter, Ec2Adapter } from './aws/ec2-adapter.js';
export type { AwsOptions } from './aws/clients.js';
export type { ControllerPassResult } from './controller/pass.js';
export type { Inventory, RegionResult } from './controller/inventory.js';
export { EXIT, exitCodeFor } from './cli/exit-codes.js';

export interface ReconcileOptions extends Pick<ControllerPassOptions, 'regions' | 'force' | 'onChange' | 'onRegion' | 'now' | 'shouldStop'> {
  config: LoadedConfig;
  /** How to reach EC2; by default `createEc2Adapter({ config })`. */
  ec2?: ControllerPassOptions['ec2'];
  /** Plan only, change nothing (what `sgsync plan` does). */
  dryRun?: boolean;
}

/**
 * One controller pass over every target, as `sgsync reconcile` makes it:
 * the same safety rules (a region that failed keeps its members' rules,
 * young rules are kept, the blast-radius limit holds unless `force`).
 * Problems with single groups are in `errors`, not thrown; a pass that
 * cannot start (no credentials, no region reachable) throws an
 * `SgsyncError`; `exitCodeFor(error.code)` is the exit code the CLI would
 * give (docs/exit-codes.md). A pass the blast-radius limit held back
 * returns, with `plan.halted` set and none of the rules it counts revoked (a rule wider than one address is revoked all the same).
 */
export async function reconcile(options: ReconcileOptions): Promise<ControllerPassResult> {
  const { config, dryRun, ec2, ...rest } = options;
  return controllerPass({ ...rest, config, ec2: ec2 ?? createEc2Adapter({ config }), apply: dryRun !== true });
}
