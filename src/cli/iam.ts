/**
 * `sgsync iam policy`: the least-privilege policy of a role, derived from the
 * configuration, as JSON on stdout; what that policy cannot prevent, on
 * stderr, so that piping the JSON somewhere never hides the warning.
 */
import { Option, type Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { GROUP_SCOPE_TAG, IAM_ROLES, iamPolicy, type IamRole, type ScopeBy } from '../iam/policy.js';
import { policySizeProblem } from '../iam/policy-size.js';
import { policyRisks } from '../iam/risks.js';

interface IamPolicyCliOptions {
  role: IamRole;
  config?: string;
  account?: string;
  scopeBy: ScopeBy;
  partition: string;
}

/** What to do about a policy too large for a role: name each target region once instead of each group, or split. */
function sizeAdvice(scopeBy: ScopeBy, deployment: string): string {
  const split = 'split the targets across deployments, each with its own role';
  if (scopeBy === 'tag') return `To make it smaller, ${split}.`;
  return `Use --scope-by tag, which names each target region once instead of each group (tag the target groups ${GROUP_SCOPE_TAG}=${deployment}), or ${split}.`;
}

/** Adds `sgsync iam policy`. */
export function addIamCommand(program: Command): void {
  const iam = program.command('iam').description('Print least-privilege IAM policies for the agent, the controller and read-only use');

  iam
    .command('policy')
    .description('Print the IAM policy a role needs for this configuration (JSON on stdout; its residual risks on stderr)')
    .addOption(new Option('--role <role>', 'agent: instances running `sgsync agent`; controller: reconcile, controller run, the Lambda; readonly: plan, status, inventory, dashboard').choices(IAM_ROLES).makeOptionMandatory())
    .option('-c, --config <file>', 'configuration file (default: $SGSYNC_CONFIG, then ./sgsync.yaml)')
    .option('--account <id>', 'the 12-digit account that owns the target groups (default: any account, *)')
    .addOption(new Option('--scope-by <how>', 'arn: the target groups by id; tag: any group in a target region tagged sgsync:deployment=<deployment>').choices(['arn', 'tag']).default('arn'))
    .option('--partition <name>', 'AWS partition of the ARNs', 'aws')
    .addHelpText('after', '\nExample:\n  sgsync iam policy --role agent -c sgsync.yaml --account 123456789012 > agent-policy.json\n\nSee docs/iam.md.')
    .action(async (options: IamPolicyCliOptions) => {
      const loaded = await loadConfig({ configPath: options.config, env: process.env });
      const policy = iamPolicy({ role: options.role, config: loaded, accountId: options.account, scopeBy: options.scopeBy, partition: options.partition });
      process.stdout.write(`${JSON.stringify(policy, null, 2)}\n`);
      const tooBig = policySizeProblem(policy, options.role);
      if (tooBig) process.stderr.write(`warning: ${tooBig} ${sizeAdvice(options.scopeBy, loaded.config.deployment)}\n`);
      process.stderr.write(policyRisks({ role: options.role, deployment: loaded.config.deployment, scopeBy: options.scopeBy, accountId: options.account }));
    });
}
