/**
 * The requests each role must be allowed, and those it must be denied, for
 * the demo configuration (deployment `demo`, target `api` in us-east-1 with
 * groups sg-…01 and sg-…02, members in four other regions) with sg-…09
 * retired (`retiringConfig`).
 */
import { fileURLToPath } from 'node:url';
import { loadConfig, type LoadedConfig } from '../../src/config/index.js';
import type { IamRole, ScopeBy } from '../../src/iam/policy.js';
import { groupArn, requestTags, ruleArn, type IamRequest } from './simulate.js';

export const G1 = 'sg-00000000000000001';
export const G2 = 'sg-00000000000000002';
export const OTHER_GROUP = 'sg-0ffffffffffffffff';
/** A group the demo's target retired (see `retiringConfig`): drained, never added to. */
export const RETIRED = 'sg-00000000000000009';
export const HOME = 'us-east-1';
export const ELSEWHERE = 'eu-west-1';

export function demoConfig(): Promise<LoadedConfig> {
  return loadConfig({ configPath: fileURLToPath(new URL('../../examples/demo.yaml', import.meta.url)), env: {} });
}

/** The demo configuration with RETIRED among the api target's retired groups. */
export async function retiringConfig(): Promise<LoadedConfig> {
  const demo = await demoConfig();
  return { ...demo, targets: demo.targets.map((t) => ({ ...t, retiredGroupIds: [RETIRED] })) };
}

/** The tags of a rule for one instance (agent), and those of a batch of many (controller): see commonTags. */
const ONE_INSTANCE = {
  'sgsync:managed-by': 'demo',
  'sgsync:target': 'api',
  'sgsync:instance': 'i-0123456789abcdef0',
  'sgsync:region': 'eu-west-1',
  'sgsync:registered-at': '2026-01-01T00:00:00.000Z',
};
const MANY_INSTANCES = { 'sgsync:managed-by': 'demo', 'sgsync:target': 'api', 'sgsync:registered-at': '2026-01-01T00:00:00.000Z' };
const CREATE_ACTION = { 'ec2:CreateAction': 'AuthorizeSecurityGroupIngress' };
const GROUP_TAGGED = { 'aws:ResourceTag/sgsync:deployment': 'demo' };

const describe = (action: string): IamRequest => ({ what: action, action: `ec2:${action}`, resource: '*' });

/** Requests on a target group: by ARN the group id decides, by tag the group's tag does. */
function onGroup(scope: ScopeBy, action: string, region: string, group: string, what: string, tagged = true): IamRequest {
  return { what, action: `ec2:${action}`, resource: groupArn(region, group), context: scope === 'tag' && tagged ? GROUP_TAGGED : {} };
}

export function allowed(role: IamRole, scope: ScopeBy): IamRequest[] {
  const reads = role === 'agent' ? ['DescribeSecurityGroupRules'] : ['DescribeInstances', 'DescribeRegions', 'DescribeSecurityGroupRules', 'DescribeSecurityGroups'];
  const out = reads.map(describe);
  if (role === 'readonly') return out;
  for (const g of [G1, G2]) {
    out.push(onGroup(scope, 'AuthorizeSecurityGroupIngress', HOME, g, `authorize on target group ${g}`));
    out.push(onGroup(scope, 'RevokeSecurityGroupIngress', HOME, g, `revoke on target group ${g}`));
  }
  // Named by ARN whatever the scope: a retired group need not carry the tag.
  out.push(onGroup(scope, 'RevokeSecurityGroupIngress', HOME, RETIRED, 'revoke on a retired group', false));
  out.push(
    { what: 'create a rule tagged for one instance', action: 'ec2:AuthorizeSecurityGroupIngress', resource: ruleArn(HOME), context: requestTags(ONE_INSTANCE) },
    { what: 'create rules tagged for a batch of instances', action: 'ec2:AuthorizeSecurityGroupIngress', resource: ruleArn(HOME), context: requestTags(MANY_INSTANCES) },
    { what: 'tag a rule while creating it', action: 'ec2:CreateTags', resource: ruleArn(HOME), context: { ...CREATE_ACTION, ...requestTags(ONE_INSTANCE) } },
  );
  return out;
}

export function denied(role: IamRole, scope: ScopeBy): IamRequest[] {
  const out: IamRequest[] = [
    onGroup(scope, 'AuthorizeSecurityGroupIngress', ELSEWHERE, G1, 'authorize on a group id in another region'),
    onGroup(scope, 'DeleteSecurityGroup', HOME, G1, 'delete a target group'),
    onGroup(scope, 'ModifySecurityGroupRules', HOME, G1, 'modify rules of a target group'),
    onGroup(scope, 'AuthorizeSecurityGroupEgress', HOME, G1, 'add an egress rule'),
    onGroup(scope, 'RevokeSecurityGroupEgress', HOME, G1, 'remove an egress rule'),
    { what: 'create an untagged rule', action: 'ec2:AuthorizeSecurityGroupIngress', resource: ruleArn(HOME), context: {} },
    {
      what: "create a rule claiming another deployment's ownership",
      action: 'ec2:AuthorizeSecurityGroupIngress',
      resource: ruleArn(HOME),
      context: requestTags({ ...ONE_INSTANCE, 'sgsync:managed-by': 'prod' }),
    },
    {
      what: 'create a rule with an extra foreign tag key',
      action: 'ec2:AuthorizeSecurityGroupIngress',
      resource: ruleArn(HOME),
      context: requestTags({ ...ONE_INSTANCE, Owner: 'mallory' }),
    },
    { what: 'create a tagged rule in another region', action: 'ec2:AuthorizeSecurityGroupIngress', resource: ruleArn(ELSEWHERE), context: requestTags(ONE_INSTANCE) },
    { what: 'tag an existing rule (no CreateAction)', action: 'ec2:CreateTags', resource: ruleArn(HOME), context: requestTags(ONE_INSTANCE) },
    { what: 'tag a rule in another region', action: 'ec2:CreateTags', resource: ruleArn(ELSEWHERE), context: { ...CREATE_ACTION, ...requestTags(ONE_INSTANCE) } },
    { what: 'tag a security group', action: 'ec2:CreateTags', resource: groupArn(HOME, G1), context: { ...CREATE_ACTION, ...requestTags(ONE_INSTANCE) } },
    describe('DescribeVpcs'),
    onGroup(scope, 'AuthorizeSecurityGroupIngress', HOME, RETIRED, 'authorize on a retired group', false),
    onGroup(scope, 'RevokeSecurityGroupIngress', ELSEWHERE, RETIRED, 'revoke on a retired group id in another region', false),
  ];
  if (scope === 'arn') {
    out.push(
      onGroup(scope, 'AuthorizeSecurityGroupIngress', HOME, OTHER_GROUP, 'authorize on another group'),
      onGroup(scope, 'RevokeSecurityGroupIngress', HOME, OTHER_GROUP, 'revoke on another group'),
    );
  } else {
    out.push(
      onGroup(scope, 'AuthorizeSecurityGroupIngress', HOME, OTHER_GROUP, 'authorize on an untagged group', false),
      onGroup(scope, 'RevokeSecurityGroupIngress', HOME, OTHER_GROUP, 'revoke on an untagged group', false),
      {
        what: "authorize on a group tagged for another deployment",
        action: 'ec2:AuthorizeSecurityGroupIngress',
        resource: groupArn(HOME, OTHER_GROUP),
        context: { 'aws:ResourceTag/sgsync:deployment': 'prod' },
      },
    );
  }
  // The agent lists no groups: it learns of one that does not exist from AWS's refusal of its authorize.
  if (role === 'agent') out.push(describe('DescribeInstances'), describe('DescribeRegions'), describe('DescribeSecurityGroups'));
  if (role === 'readonly') {
    // Everything the writers may do, the read-only role may not.
    out.push(...allowed('controller', scope).filter((r) => !r.action.startsWith('ec2:Describe')));
  }
  return out;
}
