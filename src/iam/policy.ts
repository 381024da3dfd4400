/**
 * Least-privilege IAM policies, derived from the configuration. Each role gets
 * the EC2 actions its commands send and nothing else: rule changes only on
 * the target groups (by ARN, or by a tag on the groups), revokes only on
 * retired groups (by ARN, whatever the scope), rule creation only
 * with sgsync's ownership tags, tagging only as part of that creation, and
 * the describes (which IAM cannot scope) on `*`.
 */
import type { LoadedConfig } from '../config/index.js';
import { SgsyncError } from '../core/errors.js';
import { TAG } from '../core/ownership.js';

export type IamRole = 'agent' | 'controller' | 'readonly';
export type ScopeBy = 'arn' | 'tag';

export const IAM_ROLES: readonly IamRole[] = ['agent', 'controller', 'readonly'];

/** With `scopeBy: 'tag'`, the tag the target groups must carry, its value the deployment name. */
export const GROUP_SCOPE_TAG = 'sgsync:deployment';

/** Every tag key sgsync puts on a rule it creates; no other key may be set at creation. */
export const RULE_TAG_KEYS: readonly string[] = [TAG.managedBy, TAG.target, TAG.instance, TAG.region, TAG.registeredAt];

export type ConditionBlock = Record<string, Record<string, string | string[]>>;

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string | string[];
  Condition?: ConditionBlock;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export interface IamPolicyOptions {
  role: IamRole;
  config: LoadedConfig;
  /** The account that owns the groups; `*` (any account) when not given. */
  accountId?: string;
  scopeBy?: ScopeBy;
  /** `aws`, `aws-cn` or `aws-us-gov`. */
  partition?: string;
}

/**
 * The describes each role's commands send (see src/aws/ec2-adapter.ts). The
 * agent only reads the rules of its targets' groups; the controller and the
 * read-only commands also list instances and regions, and the pools' groups
 * (a group that does not exist reads as an empty one otherwise). The agent
 * learns of such a group from AWS's refusal of its authorize instead.
 */
export function describeActions(role: IamRole): string[] {
  if (role === 'agent') return ['ec2:DescribeSecurityGroupRules'];
  return ['ec2:DescribeInstances', 'ec2:DescribeRegions', 'ec2:DescribeSecurityGroupRules', 'ec2:DescribeSecurityGroups'];
}

const sortedUnique = (items: Iterable<string>): string[] => [...new Set(items)].sort();

/**
 * The policy document for one role. Pure: the same configuration always gives
 * the same document, so the CloudFormation template can embed it and a test
 * can compare the two.
 *
 * @example iamPolicy({ role: 'agent', config, accountId: '123456789012' })
 */
export function iamPolicy(options: IamPolicyOptions): PolicyDocument {
  const { role, config } = options;
  const account = options.accountId ?? '*';
  if (account !== '*' && !/^\d{12}$/.test(account)) throw new SgsyncError('USAGE', `"${account}" is not an AWS account id (12 digits)`);
  const partition = options.partition ?? 'aws';
  if (!/^aws(?:-[a-z]+)*$/.test(partition)) throw new SgsyncError('USAGE', `"${partition}" is not an AWS partition such as aws, aws-cn or aws-us-gov`);
  const deployment = config.config.deployment;
  const arn = (region: string, resource: string) => `arn:${partition}:ec2:${region}:${account}:${resource}`;
  const regions = sortedUnique(config.targets.map((t) => t.region));

  const statements: PolicyStatement[] = [
    // IAM cannot scope Describe* to resources: they take `*` or nothing.
    { Sid: 'ReadInstancesAndRules', Effect: 'Allow', Action: describeActions(role), Resource: '*' },
  ];
  if (role === 'readonly') return { Version: '2012-10-17', Statement: statements };

  const groups =
    options.scopeBy === 'tag'
      ? {
          Sid: 'ChangeRulesOfTaggedGroups',
          Effect: 'Allow' as const,
          Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'],
          Resource: regions.map((r) => arn(r, 'security-group/*')),
          Condition: { StringEquals: { [`aws:ResourceTag/${GROUP_SCOPE_TAG}`]: deployment } },
        }
      : {
          Sid: 'ChangeRulesOfTargetGroups',
          Effect: 'Allow' as const,
          Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'],
          Resource: sortedUnique(config.targets.flatMap((t) => t.groupIds.map((g) => arn(t.region, `security-group/${g}`)))),
        };
  statements.push(groups);
  // Retired groups are only drained: sgsync revokes there and never authorizes. A group another target still pools is covered above.
  const pooled = options.scopeBy === 'tag' ? new Set<string>() : new Set(config.targets.flatMap((t) => t.groupIds.map((g) => `${t.region} ${g}`)));
  const retired = sortedUnique(config.targets.flatMap((t) => (t.retiredGroupIds ?? []).filter((g) => !pooled.has(`${t.region} ${g}`)).map((g) => arn(t.region, `security-group/${g}`))));
  if (retired.length > 0) statements.push({ Sid: 'RevokeRulesOfRetiredGroups', Effect: 'Allow', Action: ['ec2:RevokeSecurityGroupIngress'], Resource: retired });
  statements.push(
    {
      // The rule being created is a resource of its own: it may only carry this deployment's ownership tag and sgsync's keys.
      Sid: 'CreateOnlyRulesOwnedByThisDeployment',
      Effect: 'Allow',
      Action: ['ec2:AuthorizeSecurityGroupIngress'],
      Resource: regions.map((r) => arn(r, 'security-group-rule/*')),
      Condition: {
        StringEquals: { [`aws:RequestTag/${TAG.managedBy}`]: deployment },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [...RULE_TAG_KEYS] },
      },
    },
    {
      // Tags only as part of creating a rule: never retag an existing (foreign) rule into ownership.
      Sid: 'TagRulesOnlyWhenCreatingThem',
      Effect: 'Allow',
      Action: ['ec2:CreateTags'],
      Resource: regions.map((r) => arn(r, 'security-group-rule/*')),
      Condition: { StringEquals: { 'ec2:CreateAction': 'AuthorizeSecurityGroupIngress' } },
    },
  );
  return { Version: '2012-10-17', Statement: statements };
}
