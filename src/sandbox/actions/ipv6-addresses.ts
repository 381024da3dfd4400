import ipaddr from 'ipaddr.js';
import { allocateIpv6, compareIpv6, ipv6SubnetIndex } from '../addresses.js';
import { Ec2Error, errors } from '../errors.js';
import type { Params } from '../query.js';
import type { Instance, Region, Vpc, World } from '../world.js';
import type { ActionHandler } from './context.js';
import { availabilityZones, findInstances } from './instances.js';
import { isWellFormedId } from './lookup.js';

/**
 * An instance's IPv6 addresses: what RunInstances, AssignIpv6Addresses and
 * UnassignIpv6Addresses ask for, checked as EC2 checks it, and how
 * DescribeInstances and IMDS list them. The sandbox gives an instance one
 * network interface, so these are the addresses of its primary interface.
 */

/**
 * IPv6 addresses one network interface may hold. EC2's bound depends on the
 * instance type (as many as its private IPv4 addresses, 50 on the largest);
 * the sandbox applies the largest to every type.
 */
export const MAX_IPV6_PER_INTERFACE = 50;

/** What a request asks for: a number of addresses EC2 picks, or these addresses. */
export type Ipv6Request = { count: number } | { addresses: { name: string; text: string }[] };

/**
 * Reads `Ipv6AddressCount` and the list of specific addresses (`listKey`,
 * each item `Ipv6Address` when `itemKey` is given, else a plain value).
 * Giving both is EC2's InvalidParameterCombination. Undefined when neither.
 */
export function readIpv6Request(source: Params, listKey: string, itemKey?: string): Ipv6Request | undefined {
  const count = source.int('Ipv6AddressCount', { min: 0 });
  const items = source.list(listKey);
  if (count !== undefined && items.length > 0) throw errors.combination('IPv6 addresses and IPv6 address count may not be specified on the same request');
  if (items.length > 0) {
    const texts = itemKey === undefined ? source.strList(listKey) : items.map((item) => item.required(itemKey));
    return { addresses: texts.map((text, i) => ({ name: `${listKey}.${i + 1}${itemKey ? `.${itemKey}` : ''}`, text })) };
  }
  return count === undefined ? undefined : { count };
}

/** How many addresses a request adds. */
export function requestedCount(request: { count: number } | { addresses: readonly unknown[] } | undefined): number {
  if (request === undefined) return 0;
  return 'count' in request ? request.count : request.addresses.length;
}

/** Refuses to give an interface holding `have` IPv6 addresses `adding` more, beyond {@link MAX_IPV6_PER_INTERFACE}. */
export function checkIpv6Room(have: number, adding: number): void {
  if (have + adding > MAX_IPV6_PER_INTERFACE) {
    throw errors.invalidValue(`A network interface can hold at most ${MAX_IPV6_PER_INTERFACE} IPv6 addresses; this request would give it ${have + adding}.`);
  }
}

/**
 * Checks specific addresses: each an IPv6 address, none repeated or already
 * in use, all in one subnet of `vpc` (`zoneIndex`, when the subnet is known).
 * Returns them canonical, and the zone whose subnet holds them.
 */
export function checkIpv6Addresses(
  world: World,
  region: Region,
  vpc: Vpc,
  addresses: readonly { name: string; text: string }[],
  zoneIndex: number | undefined,
): { addresses: string[]; zoneIndex: number | undefined } {
  const zones = availabilityZones(region.name).length;
  const out: string[] = [];
  let zone = zoneIndex;
  for (const { name, text } of addresses) {
    if (!ipaddr.IPv6.isValid(text)) throw errors.invalidValue(`Invalid value '${text}' for ${name}: not an IPv6 address.`);
    const canonical = ipaddr.IPv6.parse(text).toString();
    const at = ipv6SubnetIndex(vpc, canonical, zones);
    if (at === undefined || (zone !== undefined && at !== zone)) throw errors.invalidValue(`Address ${canonical} does not fall within the subnet's address range`);
    zone = at;
    if (out.includes(canonical)) throw errors.invalidValue(`The address ${canonical} is listed more than once.`);
    if (world.publicIps.has(canonical)) throw new Ec2Error('InvalidIPAddress.InUse', `Address ${canonical} is in use.`);
    out.push(canonical);
  }
  return { addresses: out, zoneIndex: zone };
}

/**
 * The addresses a checked request gives an instance in zone `zoneIndex`:
 * the specific ones, or `count` new ones from the zone's subnet. Records
 * them as in use.
 */
export function assignIpv6(world: World, vpc: Vpc, zoneIndex: number, request: { count: number } | { addresses: string[] }): string[] {
  const assigned: string[] = [];
  const count = 'count' in request ? request.count : request.addresses.length;
  for (let n = 0; n < count; n++) {
    const address = 'addresses' in request ? request.addresses[n]! : allocateIpv6(vpc, zoneIndex, world.rng, world.publicIps);
    world.publicIps.add(address);
    assigned.push(address);
  }
  return assigned;
}

/**
 * The IPv6 address DescribeInstances shows on the instance itself: its
 * primary IPv6 address when it has one, else its only address. With several
 * and none primary, which one AWS shows is not documented; the sandbox shows none.
 */
export function instanceIpv6(instance: Instance): string | undefined {
  const all = instance.ipv6 ?? [];
  return instance.primaryIpv6 === true || all.length === 1 ? all[0] : undefined;
}

/**
 * The interface's addresses as DescribeInstances lists them: by value. Neither
 * EC2 nor IMDS documents its order, and IMDS lists them as assigned; the two
 * differ here so that a client that takes "the first" from each finds out.
 */
export function listedIpv6(instance: Instance): string[] {
  return [...(instance.ipv6 ?? [])].sort(compareIpv6);
}

/** The running or stopped instance whose primary interface is `interfaceId` (`eni-` and the instance id's digits). */
function interfaceOwner(region: Region, interfaceId: string, now: number): Instance {
  if (!isWellFormedId('eni', interfaceId)) throw new Ec2Error('InvalidNetworkInterfaceID.Malformed', `Invalid id: "${interfaceId}" (expecting "eni-...")`);
  const instanceId = `i-${interfaceId.slice(4)}`;
  const missing = new Ec2Error('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${interfaceId}' does not exist`);
  const [instance] = region.instances.has(instanceId) ? findInstances(region, [instanceId], now) : [];
  // A terminated instance's interface is deleted with it.
  if (!instance || instance.state === 'terminated' || instance.state === 'shutting-down') throw missing;
  return instance;
}

function zoneIndexOf(region: Region, instance: Instance): number {
  return availabilityZones(region.name).indexOf(instance.availabilityZone);
}

/**
 * AssignIpv6Addresses: gives the interface `Ipv6AddressCount` new addresses
 * or the `Ipv6Addresses.N` listed, after what it holds (IMDS lists them last).
 */
export const assignIpv6Addresses: ActionHandler = ({ world, region, params, now }) => {
  const interfaceId = params.required('NetworkInterfaceId');
  const instance = interfaceOwner(region, interfaceId, now);
  const request = readIpv6Request(params, 'Ipv6Addresses');
  if (request === undefined || requestedCount(request) === 0) throw errors.missing('Ipv6AddressCount or Ipv6Addresses');
  const vpc = region.vpcs.get(instance.vpcId)!;
  const have = instance.ipv6 ?? [];
  checkIpv6Room(have.length, requestedCount(request));
  const zone = zoneIndexOf(region, instance);
  const checked = 'addresses' in request ? { addresses: checkIpv6Addresses(world, region, vpc, request.addresses, zone).addresses } : request;
  const assigned = assignIpv6(world, vpc, zone, checked);
  instance.ipv6 = [...have, ...assigned];
  return { assignedIpv6Addresses: assigned, networkInterfaceId: interfaceId };
};

/**
 * UnassignIpv6Addresses: takes the listed addresses off the interface. Each
 * must be one of its addresses, and a primary IPv6 address stays until the
 * instance is terminated.
 */
export const unassignIpv6Addresses: ActionHandler = ({ world, region, params, now }) => {
  const interfaceId = params.required('NetworkInterfaceId');
  const instance = interfaceOwner(region, interfaceId, now);
  const texts = params.strList('Ipv6Addresses');
  if (texts.length === 0) throw errors.missing('Ipv6Addresses');
  const have = instance.ipv6 ?? [];
  const gone = texts.map((text) => {
    const canonical = ipaddr.IPv6.isValid(text) ? ipaddr.IPv6.parse(text).toString() : text;
    if (!have.includes(canonical)) throw errors.invalidValue(`The address ${text} is not assigned to ${interfaceId}.`);
    if (instance.primaryIpv6 === true && canonical === have[0]) throw errors.invalidValue(`The address ${canonical} is the primary IPv6 address of ${interfaceId}; it stays until the instance is terminated.`);
    return canonical;
  });
  const left = have.filter((a) => !gone.includes(a));
  instance.ipv6 = left.length > 0 ? left : undefined;
  for (const a of gone) world.publicIps.delete(a);
  return { networkInterfaceId: interfaceId, unassignedIpv6Addresses: gone };
};
