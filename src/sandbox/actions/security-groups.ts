import { Ec2Error, errors } from '../errors.js';
import { compileFilters } from '../filters.js';
import { fingerprintOf, readPageRequest } from '../pagination.js';
import type { Region, SecurityGroup, Tags, Vpc, World } from '../world.js';
import { tagSet, type XmlObject } from '../xml.js';
import type { ActionHandler } from './context.js';
import { addDefaultRules, rulesOf } from './group-rules.js';
import { defaultVpc, findGroupById, findGroupByName, findRequestGroup, findVpc } from './lookup.js';
import { filtered, pageOf } from './page-iterable.js';
import { checkDescription } from './rule-identity.js';
import { permissionsXml } from './rule-xml.js';
import { readTagSpecifications } from './tags.js';

/** Creates a group with AWS's default rules; the caller has checked everything. */
export function createGroup(world: World, region: Region, vpc: Vpc, name: string, description: string, tags: Tags): SecurityGroup {
  const group: SecurityGroup = { id: world.newId('sg'), name, description, vpcId: vpc.id, tags: new Map(tags), ruleIds: new Set() };
  region.groups.set(group.id, group);
  addDefaultRules(world, region, group, vpc);
  return group;
}

function groupArn(region: Region, accountId: string, id: string): string {
  return `arn:aws:ec2:${region.name}:${accountId}:security-group/${id}`;
}

/** CreateSecurityGroup: a named group in a VPC (the default VPC when none is given). */
export const createSecurityGroup: ActionHandler = ({ world, region, params, dryRun }) => {
  const name = params.required('GroupName');
  const description = params.required('GroupDescription');
  checkDescription(name, 'group name');
  checkDescription(description, 'group description');
  if (name.startsWith('sg-')) throw errors.invalidValue(`Group names may not start with 'sg-': '${name}'.`);
  if (name === 'default') throw errors.invalidValue('Cannot use reserved security group name: default');
  const vpcId = params.str('VpcId');
  const vpc = vpcId !== undefined ? findVpc(region, vpcId) : defaultVpc(region);
  if (!vpc) throw new Ec2Error('VPCIdNotSpecified', 'No default VPC for this user.');
  const tags = readTagSpecifications(params, 'security-group');
  for (const group of region.groups.values()) {
    if (group.vpcId === vpc.id && group.name === name) {
      throw new Ec2Error('InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${vpc.id}'`);
    }
  }
  if (dryRun) throw errors.dryRun();
  const group = createGroup(world, region, vpc, name, description, tags);
  return { groupId: group.id, tagSet: tagSet(group.tags), securityGroupArn: groupArn(region, world.accountId, group.id) };
};

function groupXml(world: World, region: Region, group: SecurityGroup): XmlObject {
  const rules = rulesOf(region, group);
  return {
    ownerId: world.accountId,
    groupId: group.id,
    groupName: group.name,
    groupDescription: group.description,
    vpcId: group.vpcId,
    securityGroupArn: groupArn(region, world.accountId, group.id),
    ipPermissions: permissionsXml(rules.filter((r) => !r.isEgress), world.accountId),
    ipPermissionsEgress: permissionsXml(rules.filter((r) => r.isEgress), world.accountId),
    tagSet: tagSet(group.tags),
  };
}

/** DescribeSecurityGroups: by id, by default-VPC name, or by filters, paginated. */
export const describeSecurityGroups: ActionHandler = ({ world, region, params }) => {
  const ids = params.strList('GroupId');
  const names = params.strList('GroupName');
  if (params.has('MaxResults') && (ids.length > 0 || names.length > 0)) {
    throw errors.combination('The parameter MaxResults cannot be used with the parameter GroupId or GroupName.');
  }
  const fingerprint = fingerprintOf(params);
  const page = readPageRequest(params, fingerprint);
  const matches = compileFilters<SecurityGroup>(
    params.filters(),
    {
      'group-id': (g) => g.id,
      'group-name': (g) => g.name,
      description: (g) => g.description,
      'vpc-id': (g) => g.vpcId,
      'owner-id': () => world.accountId,
    },
    (g) => g.tags,
  );
  const named = [...ids.map((id) => findGroupById(region, id)), ...names.map((name) => findGroupByName(region, name))];
  const source = named.length > 0 ? [...new Set(named)] : region.groups.values();
  const { items, nextToken } = pageOf(filtered(source, matches), page, fingerprint);
  return { securityGroupInfo: items.map((g) => groupXml(world, region, g)), nextToken };
};

/** DeleteSecurityGroup: removes a group and its rules, unless something still depends on it. */
export const deleteSecurityGroup: ActionHandler = ({ region, params, dryRun }) => {
  const group = findRequestGroup(region, params.str('GroupId'), params.str('GroupName'));
  if (group.name === 'default') {
    throw new Ec2Error('CannotDelete', `the specified group: "${group.id}" name: "default" cannot be deleted by a user`);
  }
  const dependent = () => new Ec2Error('DependencyViolation', `resource ${group.id} has a dependent object`);
  for (const instance of region.instances.values()) {
    if (instance.state !== 'terminated' && instance.securityGroupIds.includes(group.id)) throw dependent();
  }
  for (const rule of region.rules.values()) {
    if (rule.referencedGroupId === group.id && rule.groupId !== group.id) throw dependent();
  }
  if (dryRun) throw errors.dryRun();
  for (const id of group.ruleIds) region.rules.delete(id);
  region.groups.delete(group.id);
  return { return: true, groupId: group.id };
};
