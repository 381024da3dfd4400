/**
 * `sgsync plan`: a dry run of a controller pass. It lists every member region,
 * reads the target groups and prints what `sgsync reconcile` would do, per
 * target and group, without changing anything. Exit 10 when changes are
 * pending, 0 when the allow-lists are in step (docs/controller.md).
 */
import type { Command } from 'commander';
import { REGION_PATTERN } from '../config/schema.js';
import { SgsyncError } from '../core/errors.js';
import type { AppliedChange } from '../core/reconcile.js';
import { controllerPass, type ControllerPassResult } from '../controller/pass.js';
import { buildReport, type PassReport, type ReportKind } from '../controller/report.js';
import { awsContext, callCounts, type AwsCliOptions, withAwsConnection } from './aws-context.js';
import { createLogger, roundLogger } from './logger.js';
import { logLevelOption } from './options.js';
import { passExitCode, renderPassReport } from './pass-report.js';

export interface PassCliOptions extends AwsCliOptions {
  region?: string[];
  json?: boolean;
  logLevel?: string;
  force?: boolean;
}

/** The options `plan` and `reconcile` share. */
export function withPassOptions(cmd: Command): Command {
  return withAwsConnection(cmd)
    .option('--region <region...>', "list instances only in these regions; other regions' rules are kept, not revoked (default: controller.regions, then every enabled region)")
    .option('--json', 'print the report as JSON on stdout')
    .addOption(logLevelOption());
}

function checkRegions(regions: string[] | undefined): string[] | undefined {
  for (const r of regions ?? []) {
    if (!REGION_PATTERN.test(r)) throw new SgsyncError('USAGE', `--region ${JSON.stringify(r)} is not an AWS region name such as eu-west-1`);
  }
  return regions;
}

/**
 * Runs one controller pass for `plan` (dry run) or `reconcile` (apply),
 * prints its report on stdout and sets the exit code. Every change is passed
 * to `onChange` as it lands (the audit log); `shouldStop` may end the pass
 * between changes (see `PassOptions.shouldStop`); `afterPass` is given the
 * pass and resolves as it does once its own work is done, before anything is
 * reported (the audit log is flushed to disk there), with a way to warn.
 */
export async function runPassCommand(
  kind: ReportKind,
  options: PassCliOptions,
  onChange?: (deployment: string) => (c: AppliedChange & { passId: string }) => void,
  shouldStop?: () => string | undefined,
  afterPass?: (pass: Promise<ControllerPassResult>, warn: (message: string) => void) => Promise<ControllerPassResult>,
): Promise<PassReport> {
  const regions = checkRegions(options.region);
  const log = createLogger({ level: options.logLevel });
  const { loaded, ec2 } = await awsContext(options);
  for (const w of loaded.warnings) log.warn(w);
  try {
    const passing = controllerPass({
      config: loaded,
      ec2,
      apply: kind === 'reconcile',
      force: options.force === true,
      regions,
      onChange: onChange?.(loaded.config.deployment),
      onRegion: (r) => (r.status === 'failed' ? log.warn({ region: r.region, code: r.code }, `inventory of ${r.region} failed: ${r.reason ?? ''}`) : log.debug({ ...r }, `listed ${r.region}`)),
      onRound: roundLogger(log),
      shouldStop,
    });
    const result = await (afterPass ? afterPass(passing, (m) => log.error(m)) : passing);
    const report = buildReport(kind, result, loaded.targets, callCounts(ec2));
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderPassReport(report));
    process.exitCode = passExitCode(report);
    return report;
  } finally {
    ec2.clients.destroy();
  }
}

export function addPlanCommand(program: Command): void {
  withPassOptions(program.command('plan'))
    .description('Show what a controller pass would change, per target and group, without changing anything')
    .addHelpText(
      'after',
      '\nExit codes: 0 nothing pending, 10 changes pending, 8 the blast radius would halt the pass,\n4/6 a region could not be listed (its rules would be kept). See docs/controller.md.',
    )
    .action(async (options: PassCliOptions) => {
      await runPassCommand('plan', options);
    });
}

