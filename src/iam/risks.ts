/**
 * What a policy cannot prevent, said plainly next to the policy itself.
 * IAM scopes which groups a role may change and which tags a new rule
 * carries, but not the addresses it opens nor which rules it removes; the
 * controller's reports are how misuse is seen.
 */
import { GROUP_SCOPE_TAG, type IamRole, type ScopeBy } from './policy.js';

export interface RiskOptions {
  role: IamRole;
  deployment: string;
  scopeBy?: ScopeBy;
  accountId?: string;
}

const DETECTION = [
  'How misuse is detected:',
  '  - every rule in a target group without the tag sgsync:managed-by=<deployment> is a foreign rule: `sgsync plan`',
  '    and `sgsync status` list it, and flag a rule open to the world (0.0.0.0/0, ::/0) as dangerous;',
  '  - `sgsync status` exits 10 when something needs attention (foreign or dangerous rules, drift), so a cron job or CI',
  '    check can alert on it;',
  '  - the controller writes every change it makes to its audit log (who, what, why), and CloudTrail records every',
  '    AuthorizeSecurityGroupIngress and RevokeSecurityGroupIngress with the calling role and instance;',
  '  - a managed rule whose instance is gone, or whose address is wrong, is revoked by the next controller pass.',
];

/**
 * The text printed on stderr beside `sgsync iam policy`: the residual risk of
 * the role, and how the controller notices when it is abused.
 */
export function policyRisks(options: RiskOptions): string {
  const lines: string[] = [];
  if (options.role === 'readonly') {
    lines.push(
      'Role readonly: changes nothing. It can read every instance (addresses, tags) and every security group rule in',
      'the account, in every region: IAM cannot limit Describe* calls to some resources.',
    );
  } else {
    const who = options.role === 'agent' ? 'Every instance running the agent' : 'The controller';
    lines.push(
      `What IAM cannot restrict (role ${options.role}):`,
      `  - the CIDR: ${who.toLowerCase()} may authorize any address range, 0.0.0.0/0 included, on the`,
      '    groups it may change, on any port. No IAM condition key covers the rule\'s CIDR or ports.',
      '  - revocation: RevokeSecurityGroupIngress cannot be limited to tagged rules, so the role may revoke any inbound',
      `    rule of those groups: foreign rules${options.role === 'agent' ? ', and the rules of every other instance' : ''}.`,
      '  - untagged rules: AWS checks the security-group-rule resource (and so the ownership-tag conditions) only when',
      '    the request has TagSpecifications; an authorize without tags is checked against the group alone, and',
      '    creates a rule sgsync treats as foreign.',
    );
    if (options.role === 'agent') {
      lines.push('  - one compromised instance can therefore open or empty the target groups; give the agent role only to', '    instances you would trust with those groups.');
    }
    if (options.scopeBy === 'tag') {
      lines.push(
        `  - with --scope-by tag, any group tagged ${GROUP_SCOPE_TAG}=${options.deployment} in a target region is in scope:`,
        '    whoever may tag security groups decides what this role may change. Tag the target groups, and keep',
        '    ec2:CreateTags on security groups away from other roles.',
      );
    }
    lines.push('', ...DETECTION);
  }
  // The read-only policy has no ARNs (IAM scopes Describe* to nothing narrower than *): no account to pin.
  if (options.accountId === undefined && options.role !== 'readonly') {
    lines.push('', 'No --account given: the ARNs name any account (*). Pass --account to pin them to the account of the groups.');
  }
  return `${lines.join('\n')}\n`;
}
