import { allocatePrivateIpv4 } from '../addresses.js';
import { Ec2Error, errors } from '../errors.js';
import type { Params } from '../query.js';
import type { Instance, Region, SecurityGroup, Tags, Vpc, World } from '../world.js';
import type { ActionHandler } from './context.js';
import { instanceXml } from './instance-xml.js';
import { availabilityZones, findSubnet, subnetIdOf, sweepTerminated, transition } from './instances.js';
import { assignIpv6, checkIpv6Addresses, checkIpv6Room, readIpv6Request, requestedCount } from './ipv6-addresses.js';
import { defaultVpc, findGroupById, findGroupByName, isWellFormedId } from './lookup.js';
import { checkTag, MAX_TAGS } from './tags.js';

/** The most instances one call launches; EC2's real bound is the account's vCPU quota. */
export const MAX_LAUNCH = 1000;

const TAGGABLE_AT_LAUNCH = new Set(['instance', 'volume', 'network-interface', 'spot-instances-request', 'elastic-gpu']);

/** Where the new instances go: VPC, zone (or a free choice), groups, addresses. */
interface Placement {
  vpc: Vpc;
  availabilityZone?: string;
  groups: SecurityGroup[];
  /** A number of IPv6 addresses to pick, or the addresses asked for (then `availabilityZone` is their subnet's). */
  ipv6: { count: number } | { addresses: string[] };
  /** `EnablePrimaryIpv6` (or the interface's `PrimaryIpv6`): the first IPv6 address is the primary one. */
  primaryIpv6: boolean;
  noPublicIp: boolean;
}

function readInstanceTags(params: Params): Tags {
  const tags: Tags = new Map();
  for (const spec of params.list('TagSpecification')) {
    const type = spec.required('ResourceType');
    if (!TAGGABLE_AT_LAUNCH.has(type)) throw errors.invalidValue(`'${type}' is not a valid taggable resource type for this operation.`);
    for (const { key, value } of spec.tags('Tag')) {
      checkTag(key, value);
      if (type === 'instance') tags.set(key, value);
    }
  }
  if (tags.size > MAX_TAGS) throw new Ec2Error('TagLimitExceeded', `The maximum number of tags (${MAX_TAGS}) for a new instance has been exceeded.`);
  return tags;
}

/**
 * Resolves subnet, zone and groups. Without a subnet, the instances go to the
 * VPC of their groups, or the default VPC: the sandbox has no subnet API, so
 * a group alone is enough to pick a VPC (its pseudo subnets are named in
 * DescribeInstances).
 */
function readPlacement(world: World, region: Region, params: Params): Placement {
  const nics = params.list('NetworkInterface');
  if (nics.length > 1) throw errors.invalidValue('The sandbox attaches one network interface per instance.');
  const nic = nics[0];
  if (nic && (params.has('SubnetId') || params.has('SecurityGroupId') || params.has('SecurityGroup'))) {
    throw errors.combination('Network interfaces and an instance-level subnet ID or security groups may not be specified on the same request');
  }
  if (nic && (nic.int('DeviceIndex') ?? 0) !== 0) throw errors.invalidValue('The primary network interface must have DeviceIndex 0.');
  const source = nic ?? params;
  const subnetId = source.str('SubnetId');
  const subnet = subnetId === undefined ? undefined : findSubnet(region, subnetId);
  const byId = source.strList('SecurityGroupId').map((id) => findGroupById(region, id));
  const byName = params.strList('SecurityGroup').map((name) => findGroupByName(region, name));
  let groups = [...byId, ...byName];
  const vpc = subnet?.vpc ?? (groups[0] ? region.vpcs.get(groups[0].vpcId) : defaultVpc(region));
  if (!vpc) throw new Ec2Error('VPCIdNotSpecified', 'No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.');
  const stray = groups.find((g) => g.vpcId !== vpc.id);
  if (stray) throw new Ec2Error('InvalidParameter', `Security group ${stray.id} and subnet ${subnetId ?? vpc.id} belong to different networks.`);
  if (groups.length === 0) {
    const fallback = [...region.groups.values()].find((g) => g.vpcId === vpc.id && g.name === 'default');
    if (!fallback) throw new Ec2Error('InvalidGroup.NotFound', `The VPC '${vpc.id}' has no default security group`);
    groups = [fallback];
  }
  groups = [...new Map(groups.map((g) => [g.id, g])).values()];

  let availabilityZone = subnet?.availabilityZone;
  const zone = member(params, 'Placement.AvailabilityZone');
  if (zone !== undefined) {
    if (!availabilityZones(region.name).includes(zone)) throw errors.invalidValue(`Invalid availability zone: [${zone}]`);
    if (availabilityZone && zone !== availabilityZone) {
      throw errors.combination(`The subnet ${subnetId} is in ${availabilityZone}, not in the requested zone ${zone}.`);
    }
    availabilityZone = zone;
  }
  const noPublicIp = nic?.bool('AssociatePublicIpAddress') === false;
  const { ipv6, zoneIndex } = readIpv6(world, region, params, nic, vpc, availabilityZone);
  if (zoneIndex !== undefined) availabilityZone = availabilityZones(region.name)[zoneIndex];
  const primaryIpv6 = (nic ? nic.bool('PrimaryIpv6') : params.bool('EnablePrimaryIpv6')) === true;
  if (primaryIpv6 && requestedCount(ipv6) === 0) throw errors.invalidValue('A primary IPv6 address needs an IPv6 address: give Ipv6AddressCount or Ipv6Addresses.');
  return { vpc, availabilityZone, groups, ipv6, primaryIpv6, noPublicIp };
}

/**
 * The IPv6 addresses asked for, on the instance (`Ipv6AddressCount`,
 * `Ipv6Address.N.Ipv6Address`) or on its interface (`NetworkInterface.1.Ipv6AddressCount`,
 * `NetworkInterface.1.Ipv6Addresses.N.Ipv6Address`), never both; specific
 * addresses only for a single instance, and the zone whose subnet holds them.
 */
function readIpv6(world: World, region: Region, params: Params, nic: Params | undefined, vpc: Vpc, zone: string | undefined): { ipv6: Placement['ipv6']; zoneIndex?: number } {
  const onInstance = readIpv6Request(params, 'Ipv6Address', 'Ipv6Address');
  if (nic && onInstance) throw errors.combination('Network interfaces and an instance-level IPv6 address or IPv6 address count may not be specified on the same request');
  const request = nic ? readIpv6Request(nic, 'Ipv6Addresses', 'Ipv6Address') : onInstance;
  if (request === undefined) return { ipv6: { count: 0 } };
  checkIpv6Room(0, requestedCount(request));
  if ('count' in request) return { ipv6: request };
  if ((params.int('MaxCount', { min: 1 }) ?? 1) > 1) throw errors.combination('Specific IPv6 addresses can only be given when launching one instance (MaxCount 1).');
  const zoneIndex = zone === undefined ? undefined : availabilityZones(region.name).indexOf(zone);
  const checked = checkIpv6Addresses(world, region, vpc, request.addresses, zoneIndex);
  return { ipv6: { addresses: checked.addresses }, zoneIndex: checked.zoneIndex };
}

/** A member of a structure parameter, such as `Placement.AvailabilityZone`. */
/**
 * `InstanceMetadataTags`: `enabled` or `disabled`. The sandbox shows tags in
 * IMDS unless told `disabled`; AWS's default is `disabled`.
 */
export function readMetadataTags(value: string | undefined, name: string): 'enabled' | 'disabled' | undefined {
  if (value === undefined || value === 'enabled' || value === 'disabled') return value;
  throw errors.invalidValue(`Invalid value '${value}' for ${name}. Valid values: enabled, disabled.`);
}

function member(params: Params, dotted: string): string | undefined {
  return params.flat().find(([name]) => name === dotted)?.[1];
}

/**
 * RunInstances: launches MinCount–MaxCount instances (up to {@link MAX_LAUNCH})
 * of any well-formed AMI id. The response shows them `pending`; they are
 * `running`, with a public IPv4, as soon as the call returns.
 */
export const runInstances: ActionHandler = (ctx) => {
  const { world, region, params, now } = ctx;
  const imageId = params.required('ImageId');
  if (!isWellFormedId('ami', imageId)) throw new Ec2Error('InvalidAMIID.Malformed', `Invalid id: "${imageId}" (expecting "ami-...")`);
  const minCount = params.int('MinCount', { min: 1 });
  const maxCount = params.int('MaxCount', { min: 1 });
  if (minCount === undefined) throw errors.missing('MinCount');
  if (maxCount === undefined) throw errors.missing('MaxCount');
  if (minCount > maxCount) throw errors.invalidValue(`MinCount (${minCount}) must not be greater than MaxCount (${maxCount}).`);
  if (minCount > MAX_LAUNCH) {
    throw new Ec2Error('InstanceLimitExceeded', `Your quota allows for ${MAX_LAUNCH} more running instance(s). You requested at least ${minCount}.`);
  }
  const instanceType = params.str('InstanceType') ?? 'm1.small';
  if (!/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/.test(instanceType)) throw errors.invalidValue(`Invalid value '${instanceType}' for InstanceType.`);
  const market = member(params, 'InstanceMarketOptions.MarketType');
  if (market !== undefined && market !== 'spot' && market !== 'capacity-block') {
    throw errors.invalidValue(`Invalid value '${market}' for InstanceMarketOptions.MarketType.`);
  }
  const keyName = params.str('KeyName');
  const metadataTags = readMetadataTags(member(params, 'MetadataOptions.InstanceMetadataTags'), 'MetadataOptions.InstanceMetadataTags');
  const tags = readInstanceTags(params);
  const placement = readPlacement(world, region, params);
  if (ctx.dryRun) throw errors.dryRun();

  sweepTerminated(region, now);
  const reservationId = world.newId('r');
  const zones = availabilityZones(region.name);
  const launched: Instance[] = [];
  for (let n = 0; n < Math.min(maxCount, MAX_LAUNCH); n++) {
    const zone = placement.availabilityZone ?? zones[world.rng.int(0, zones.length - 1)]!;
    const instance: Instance = {
      id: world.newId('i'),
      reservationId,
      imageId,
      instanceType,
      state: 'pending',
      launchTime: now,
      vpcId: placement.vpc.id,
      subnetId: subnetIdOf(placement.vpc.id, zone),
      availabilityZone: zone,
      privateIp: allocatePrivateIpv4(placement.vpc, region),
      wantsIpv6: requestedCount(placement.ipv6) > 0,
      securityGroupIds: placement.groups.map((g) => g.id),
      tags: new Map(tags),
      keyName,
      spot: market === 'spot',
      noPublicIp: placement.noPublicIp || undefined,
      ...(metadataTags === 'disabled' ? { metadataTags } : {}),
      ...(placement.primaryIpv6 ? { primaryIpv6: true } : {}),
    };
    if (instance.wantsIpv6) instance.ipv6 = assignIpv6(world, placement.vpc, zones.indexOf(zone), placement.ipv6);
    region.instances.set(instance.id, instance);
    transition(ctx, instance, ['pending', 'running']);
    launched.push(instance);
  }
  return {
    reservationId,
    ownerId: world.accountId,
    groupSet: [],
    instancesSet: launched.map((i) => instanceXml(i, region, world.accountId, true)),
  };
};
