import { Ec2Error, errors } from '../errors.js';
import type { Region, SecurityGroup, Tags, Vpc } from '../world.js';

/**
 * Finding resources by id or name, with the error codes EC2 uses when an id
 * is malformed or names nothing in the request's region. Resources are
 * regional: an id that exists in another region is simply not found.
 */

/** Whether `id` looks like an EC2 id of this kind: prefix, dash, 8 or 17 hex digits. */
export function isWellFormedId(prefix: string, id: string): boolean {
  if (!id.startsWith(`${prefix}-`)) return false;
  const hex = id.slice(prefix.length + 1);
  return (hex.length === 8 || hex.length === 17) && /^[0-9a-f]+$/.test(hex);
}

export function defaultVpc(region: Region): Vpc | undefined {
  for (const vpc of region.vpcs.values()) if (vpc.isDefault) return vpc;
  return undefined;
}

export function findVpc(region: Region, id: string): Vpc {
  if (!isWellFormedId('vpc', id)) throw new Ec2Error('InvalidVpcID.Malformed', `Invalid id: "${id}"`);
  const vpc = region.vpcs.get(id);
  if (!vpc) throw new Ec2Error('InvalidVpcID.NotFound', `The vpc ID '${id}' does not exist`);
  return vpc;
}

export function findGroupById(region: Region, id: string): SecurityGroup {
  if (!isWellFormedId('sg', id)) throw new Ec2Error('InvalidGroupId.Malformed', `Invalid id: "${id}" (expecting "sg-...")`);
  const group = region.groups.get(id);
  if (!group) throw new Ec2Error('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
  return group;
}

/** A group by name; EC2 resolves bare names in the default VPC only. */
export function findGroupByName(region: Region, name: string): SecurityGroup {
  const vpc = defaultVpc(region);
  for (const group of region.groups.values()) {
    if (vpc && group.vpcId === vpc.id && group.name === name) return group;
  }
  throw new Ec2Error('InvalidGroup.NotFound', `The security group '${name}' does not exist in default VPC '${vpc?.id ?? 'none'}'`);
}

/** The group a request names with `GroupId` or, in the default VPC, `GroupName`. */
export function findRequestGroup(region: Region, groupId: string | undefined, groupName: string | undefined): SecurityGroup {
  if (groupId !== undefined && groupId !== '') return findGroupById(region, groupId);
  if (groupName !== undefined && groupName !== '') return findGroupByName(region, groupName);
  throw errors.missing('GroupId');
}

/** A resource that carries tags, and its type as DescribeTags names it. */
export interface Taggable {
  id: string;
  type: 'security-group-rule' | 'security-group' | 'instance' | 'vpc';
  tags: Tags;
}

const KINDS = [
  { prefix: 'sgr', type: 'security-group-rule', malformed: 'InvalidSecurityGroupRuleId.Malformed', notFound: 'InvalidSecurityGroupRuleId.NotFound' },
  { prefix: 'sg', type: 'security-group', malformed: 'InvalidGroupId.Malformed', notFound: 'InvalidGroup.NotFound' },
  { prefix: 'i', type: 'instance', malformed: 'InvalidInstanceID.Malformed', notFound: 'InvalidInstanceID.NotFound' },
  { prefix: 'vpc', type: 'vpc', malformed: 'InvalidVpcID.Malformed', notFound: 'InvalidVpcID.NotFound' },
] as const;

/** Any taggable resource of the region by id, or the NotFound/Malformed error of its kind. */
export function findTaggable(region: Region, id: string): Taggable {
  const kind = KINDS.find((k) => id.startsWith(`${k.prefix}-`));
  if (!kind) throw new Ec2Error('InvalidID', `The ID '${id}' is not valid`);
  if (!isWellFormedId(kind.prefix, id)) throw new Ec2Error(kind.malformed, `Invalid id: "${id}"`);
  const found =
    kind.type === 'security-group-rule' ? region.rules.get(id)
    : kind.type === 'security-group' ? region.groups.get(id)
    : kind.type === 'instance' ? region.instances.get(id)
    : region.vpcs.get(id);
  if (!found) throw new Ec2Error(kind.notFound, `The ${kind.type} ID '${id}' does not exist`);
  return { id, type: kind.type, tags: found.tags };
}
