import { Ec2Error, errors } from '../errors.js';
import { compileFilters, type Filter } from '../filters.js';
import { fingerprintOf, readPageRequest } from '../pagination.js';
import type { Params } from '../query.js';
import type { Region, Rule, SecurityGroup } from '../world.js';
import type { ActionHandler } from './context.js';
import { inboundCounts, insertRule, quotaOf, removeRule, rulesByKey, rulesOf } from './group-rules.js';
import { findGroupById, findGroupByName, findRequestGroup, isWellFormedId } from './lookup.js';
import { filtered, pageOf } from './page-iterable.js';
import { familiesOf, readFlatPermission, readPermission, ruleKey, type GroupReferenceResolver, type RuleSpec } from './rule-identity.js';
import { permissionsXml, revokedRuleXml, ruleXml } from './rule-xml.js';
import { readTagSpecifications } from './tags.js';

/** Rule-source groups must be in the request's region: groups never reach across regions. */
function groupResolver(region: Region): GroupReferenceResolver {
  return ({ groupId, groupName }) => {
    if (groupId !== undefined) return findGroupById(region, groupId).id;
    if (groupName !== undefined) return findGroupByName(region, groupName).id;
    throw errors.missing('IpPermissions.N.Groups.N.GroupId');
  };
}

/**
 * The rule specs of a request: `IpPermissions.N`, or the older flat form
 * (`IpProtocol`, `FromPort`, `ToPort`, `CidrIp`) that the API still accepts.
 */
function readSpecs(params: Params, region: Region, checkDescriptions: boolean): RuleSpec[] {
  const resolve = groupResolver(region);
  const specs = params.list('IpPermissions').flatMap((p) => readPermission(p, resolve, checkDescriptions));
  if (params.has('IpProtocol') || params.has('CidrIp')) {
    specs.push(readFlatPermission(params));
  }
  return specs;
}

function describeSpec(spec: RuleSpec): string {
  const peer = spec.cidrIpv4 ?? spec.cidrIpv6 ?? spec.referencedGroupId ?? '';
  return `peer: ${peer}, ${spec.protocol.toUpperCase()}, from port: ${spec.fromPort}, to port: ${spec.toPort}, ALLOW`;
}

/**
 * AuthorizeSecurityGroupIngress: adds every requested rule, or none. A rule
 * that exists already is a duplicate; one asked for twice in the request is a
 * bad parameter; the group's inbound quota is counted per address family.
 */
export const authorizeSecurityGroupIngress: ActionHandler = ({ world, region, params, dryRun }) => {
  const group = findRequestGroup(region, params.str('GroupId'), params.str('GroupName'));
  const specs = readSpecs(params, region, true);
  if (specs.length === 0) throw errors.missing('IpPermissions');
  const tags = readTagSpecifications(params, 'security-group-rule');

  // The request is checked before the group: EC2 refuses a permission given twice as a bad parameter.
  const asked = new Set<string>();
  for (const spec of specs) {
    const key = ruleKey(spec, false);
    if (asked.has(key)) throw errors.invalidValue('The same permission must not appear multiple times');
    asked.add(key);
  }
  const existing = rulesByKey(region, group, false);
  for (const spec of specs) {
    if (existing.has(ruleKey(spec, false))) throw new Ec2Error('InvalidPermission.Duplicate', `the specified rule "${describeSpec(spec)}" already exists`);
  }
  const counts = inboundCounts(region, group);
  for (const spec of specs) for (const family of familiesOf(spec)) counts[family]++;
  const quota = quotaOf(region, group);
  if (counts.ipv4 > quota || counts.ipv6 > quota) {
    throw new Ec2Error('RulesPerSecurityGroupLimitExceeded', 'The maximum number of rules per security group has been reached.');
  }
  if (dryRun) throw errors.dryRun();

  const created = specs.map((spec) => insertRule(world, region, group, spec, false, tags));
  return { return: true, securityGroupRuleSet: created.map((rule) => ruleXml(region, world.accountId, rule)) };
};

/** The inbound rules of `group` named by `SecurityGroupRuleId.N`; any unknown id fails the request. */
function rulesById(region: Region, group: SecurityGroup, ids: readonly string[]): Rule[] {
  const found = new Map<string, Rule>();
  for (const id of ids) {
    if (!isWellFormedId('sgr', id)) throw new Ec2Error('InvalidSecurityGroupRuleId.Malformed', `Invalid id: "${id}" (expecting "sgr-...")`);
    const rule = region.rules.get(id);
    if (!rule || rule.groupId !== group.id || rule.isEgress) {
      throw new Ec2Error('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${id}' does not exist in group '${group.id}'`);
    }
    found.set(id, rule);
  }
  return [...found.values()];
}

/**
 * RevokeSecurityGroupIngress: removes rules named by id or by permission
 * (description ignored). Outside the default VPC a missing rule fails the
 * whole request; in the default VPC the rest is revoked and the missing ones
 * are reported as unknown.
 */
export const revokeSecurityGroupIngress: ActionHandler = ({ world, region, params, dryRun }) => {
  const group = findRequestGroup(region, params.str('GroupId'), params.str('GroupName'));
  const ids = params.strList('SecurityGroupRuleId');
  const specs = readSpecs(params, region, false);
  if (ids.length > 0 && specs.length > 0) {
    throw errors.combination('Specify either IpPermissions or SecurityGroupRuleIds, not both.');
  }
  if (ids.length === 0 && specs.length === 0) {
    throw errors.missing("Either 'ipPermissions' or 'securityGroupRuleIds'");
  }

  const doomed = new Map<string, Rule>();
  const unknown: RuleSpec[] = [];
  if (ids.length > 0) {
    for (const rule of rulesById(region, group, ids)) doomed.set(rule.id, rule);
  } else {
    const existing = rulesByKey(region, group, false);
    for (const spec of specs) {
      const rule = existing.get(ruleKey(spec, false));
      if (rule) doomed.set(rule.id, rule);
      else unknown.push(spec);
    }
    const inDefaultVpc = region.vpcs.get(group.vpcId)?.isDefault ?? false;
    if (unknown.length > 0 && !inDefaultVpc) {
      throw new Ec2Error('InvalidPermission.NotFound', 'The specified rule does not exist in this security group.');
    }
  }
  if (dryRun) throw errors.dryRun();

  for (const rule of doomed.values()) removeRule(region, group, rule);
  return {
    return: true,
    unknownIpPermissionSet: unknown.length > 0 ? permissionsXml(unknown, world.accountId) : undefined,
    revokedSecurityGroupRuleSet: [...doomed.values()].map(revokedRuleXml),
  };
};

/** Exact values of a filter, when none of them is a wildcard (and so can use an index). */
function exactValues(filters: readonly Filter[], name: string): string[] | undefined {
  const values = filters.filter((f) => f.name === name).flatMap((f) => f.values);
  return values.length > 0 && values.every((v) => !/[*?]/.test(v)) ? [...new Set(values)] : undefined;
}

/**
 * The rules a query can possibly match, narrowed through the per-group
 * index (or straight to the named ids) so a filtered page does not scan the
 * whole region.
 */
function* candidates(region: Region, ids: readonly string[], filters: readonly Filter[]): Generator<Rule> {
  const named = ids.length > 0 ? ids : exactValues(filters, 'security-group-rule-id');
  if (named) {
    for (const id of named) {
      const rule = region.rules.get(id);
      if (rule) yield rule;
    }
    return;
  }
  const groupIds = exactValues(filters, 'group-id');
  if (!groupIds) {
    yield* region.rules.values();
    return;
  }
  for (const id of groupIds) {
    const group = region.groups.get(id);
    if (group) yield* rulesOf(region, group);
  }
}

/** DescribeSecurityGroupRules: by id or filters, in creation order, paginated. */
export const describeSecurityGroupRules: ActionHandler = ({ world, region, params, now, ruleReadLagMs = 0 }) => {
  const ids = [...new Set(params.strList('SecurityGroupRuleId'))];
  for (const id of ids) {
    if (!isWellFormedId('sgr', id)) throw new Ec2Error('InvalidSecurityGroupRuleId.Malformed', `Invalid id: "${id}" (expecting "sgr-...")`);
    if (!region.rules.has(id)) throw new Ec2Error('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${id}' does not exist`);
  }
  const filters = params.filters();
  const fingerprint = fingerprintOf(params);
  const page = readPageRequest(params, fingerprint);
  const matches = compileFilters<Rule>(filters, { 'group-id': (r) => r.groupId, 'security-group-rule-id': (r) => r.id }, (r) => r.tags);
  // Eventual consistency, when asked for: a rule created a moment ago is not listed yet (writes still see it).
  const visible = ruleReadLagMs > 0 ? (r: Rule) => matches(r) && (r.createdAt ?? -Infinity) <= now - ruleReadLagMs : matches;
  const { items, nextToken } = pageOf(filtered(candidates(region, ids, filters), visible), page, fingerprint);
  return { securityGroupRuleSet: items.map((rule) => ruleXml(region, world.accountId, rule)), nextToken };
};
