/**
 * `sgsync deploy cloudformation`: the templates that run the controller as a
 * Lambda in the primary region and forward EC2 state-change events to it
 * from every member region.
 */
import { fileProblem, SgsyncError } from '../core/errors.js';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { cloudFormationTemplates, eventRegions, stackPolicySizeProblem } from '../deploy/cloudformation.js';
import { GROUP_SCOPE_TAG } from '../iam/policy.js';
import { makeDirectory } from './make-directory.js';

interface DeployCliOptions {
  config?: string;
  account?: string;
  partition?: string;
  primaryRegion?: string;
  memberRegions?: string;
  out?: string;
}

/**
 * `--member-regions a,b`: the regions, in the order given. An empty entry is
 * refused rather than skipped: `eu-west-1,,us-west-2` is more likely a region
 * lost in editing than a wish for none.
 */
export function memberRegionList(text: string): string[] {
  const regions = text.split(',').map((r) => r.trim());
  const empty = regions.indexOf('');
  if (empty !== -1) {
    throw new SgsyncError('USAGE', `--member-regions ${JSON.stringify(text)}: entry ${empty + 1} is empty. Give region names separated by commas, such as eu-west-1,us-west-2.`);
  }
  return regions;
}

/** Adds `sgsync deploy cloudformation`. */
export function addDeployCommand(program: Command): void {
  const deploy = program.command('deploy').description('Generate deployment artifacts');

  deploy
    .command('cloudformation')
    .description('Generate CloudFormation templates: the controller Lambda in the primary region, and an event forwarder per member region')
    .option('-c, --config <file>', 'configuration file, baked into the function (default: $SGSYNC_CONFIG, then ./sgsync.yaml)')
    .option('--account <id>', 'the 12-digit account that owns the target groups, for the controller policy (default: the account the stack is deployed in)')
    // Kept so that scripts passing it still run: the template takes the partition of the region it is deployed in.
    .addOption(new Option('--partition <name>').hideHelp())
    .option('--primary-region <region>', 'where the controller runs (default: the region of the first target)')
    .option('--member-regions <list>', 'comma-separated regions to forward events from (default: controller.regions, then the targets\' members.regions)')
    .option('--out <dir>', 'write primary-<region>.json and forwarder-<region>.json here instead of printing them')
    .addHelpText('after', '\nExample:\n  sgsync deploy cloudformation -c sgsync.yaml --account 123456789012 --out cfn/\n\nSee docs/deploy.md.')
    .action(async (options: DeployCliOptions) => {
      const loaded = await loadConfig({ configPath: options.config, env: process.env });
      const configYaml = await readFile(loaded.file, 'utf8');
      const memberRegions = options.memberRegions === undefined ? undefined : memberRegionList(options.memberRegions);
      const input = { config: loaded, configYaml, accountId: options.account, primaryRegion: options.primaryRegion, memberRegions };
      const templates = cloudFormationTemplates(input);

      const warn = (line: string) => process.stderr.write(`warning: ${line}\n`);
      const regions = eventRegions(input);
      if (regions.from === 'none') {
        warn('no member regions are listed (controller.regions, members.regions or --member-regions): no events are forwarded; the scheduled pass still covers every region.');
      }
      for (const { region, why } of regions.ignored) {
        warn(`--member-regions ${region}: no forwarder is written, since the controller ignores events from there (${why}). Add it to the configuration, or leave it out.`);
      }
      const tooBig = stackPolicySizeProblem(input);
      if (tooBig) {
        warn(
          `${tooBig} The stack would fail to create the controller's role. deploy cloudformation has no --scope-by: tag the target groups ${GROUP_SCOPE_TAG}=${loaded.config.deployment}, ` +
            'print `sgsync iam policy --role controller --scope-by tag`, and put it in the template\'s ControllerRole in place of this policy; or split the targets across deployments.',
        );
      }
      if (options.partition !== undefined) {
        warn(`--partition ${options.partition} is ignored: the template's ARNs name the partition of the region the stack is deployed in (\${AWS::Partition}).`);
      }
      if (loaded.config.aws.endpoint || loaded.config.aws.profile) warn(`${loaded.file} sets aws.endpoint or aws.profile; the function would use them too.`);

      if (!options.out) {
        process.stdout.write(`${JSON.stringify(Object.fromEntries(templates.map((t) => [t.file, t.template])), null, 2)}\n`);
        return;
      }
      const out = options.out;
      await makeDirectory(out).catch((e: unknown) => {
        throw new SgsyncError('USAGE', `--out ${out}: cannot make the directory (${fileProblem(e)}). Give a directory to write the templates into.`, { cause: e });
      });
      for (const t of templates) {
        const path = join(options.out, t.file);
        await writeFile(path, `${JSON.stringify(t.template, null, 2)}\n`);
        process.stdout.write(`${path}\t(deploy in ${t.region})\n`);
      }
    });
}
