import { macAddressOf, privateDnsName, publicDnsName } from '../addresses.js';
import { INSTANCE_STATE_CODES, type Instance, type InstanceStateName, type Region } from '../world.js';
import { escapeXml, RawXml, type XmlObject } from '../xml.js';
import { reservationIdOf } from './instances.js';
import { instanceIpv6, listedIpv6 } from './ipv6-addresses.js';

/**
 * Instances as EC2's XML shows them. DescribeInstances renders up to a
 * thousand per page out of fleets of a hundred thousand, so this writes
 * markup directly instead of building an object tree per instance, and
 * escapes only the values a user chose (tags, names).
 */

/** An instance's `{code, name}`, as every instance response shows its state. */
export function stateXml(state: InstanceStateName): XmlObject {
  return { code: INSTANCE_STATE_CODES[state], name: state };
}

const STATE_MESSAGES: Record<string, string> = {
  'Client.UserInitiatedShutdown': 'Client.UserInitiatedShutdown: User initiated shutdown',
};

const NEEDS_ESCAPE = /[&<>"']/;
const text = (value: string): string => (NEEDS_ESCAPE.test(value) ? escapeXml(value) : value);
const element = (name: string, value: string | undefined): string => (value === undefined ? '' : `<${name}>${text(value)}</${name}>`);

function groupSetXml(instance: Instance, region: Region): string {
  let out = '';
  for (const id of instance.securityGroupIds) {
    out += `<item><groupId>${id}</groupId>${element('groupName', region.groups.get(id)?.name)}</item>`;
  }
  return `<groupSet>${out}</groupSet>`;
}

function tagSetXml(tags: ReadonlyMap<string, string>): string {
  if (tags.size === 0) return '';
  let out = '';
  for (const [key, value] of tags) out += `<item><key>${text(key)}</key><value>${text(value)}</value></item>`;
  return `<tagSet>${out}</tagSet>`;
}

/** The interface's IPv6 addresses (see `listedIpv6`), the primary one marked `isPrimaryIpv6`. */
function ipv6SetXml(instance: Instance): string {
  if (!instance.ipv6?.length) return '';
  const primary = instance.primaryIpv6 === true ? instance.ipv6[0] : undefined;
  let out = '';
  for (const a of listedIpv6(instance)) out += `<item><ipv6Address>${a}</ipv6Address>${a === primary ? '<isPrimaryIpv6>true</isPrimaryIpv6>' : ''}</item>`;
  return `<ipv6AddressesSet>${out}</ipv6AddressesSet>`;
}

/**
 * The markup inside one `instancesSet` item. `asLaunched` gives the
 * RunInstances view: `pending`, and no public address yet (AWS assigns it a
 * moment after the call returns).
 */
export function instanceMarkup(instance: Instance, region: Region, ownerId: string, asLaunched = false): string {
  const publicIp = asLaunched ? undefined : instance.publicIp;
  const state = asLaunched ? 'pending' : instance.state;
  const publicDns = publicIp ? publicDnsName(publicIp, region.name) : undefined;
  const stopped = instance.state === 'stopped' || instance.state === 'terminated';
  const reason = stopped && instance.stateReason
    ? `<stateReason>${element('code', instance.stateReason)}${element('message', STATE_MESSAGES[instance.stateReason] ?? instance.stateReason)}</stateReason>`
    : '';
  const association = publicIp ? `<association><publicIp>${publicIp}</publicIp><publicDnsName>${publicDns}</publicDnsName><ipOwnerId>amazon</ipOwnerId></association>` : '';
  const ipv6Set = ipv6SetXml(instance);
  const networkInterface = instance.state === 'terminated' ? '' :
    `<networkInterfaceSet><item><networkInterfaceId>eni-${instance.id.slice(2)}</networkInterfaceId>` +
    `<subnetId>${instance.subnetId}</subnetId><vpcId>${instance.vpcId}</vpcId><ownerId>${ownerId}</ownerId><status>in-use</status>` +
    `<macAddress>${macAddressOf(instance.id)}</macAddress><privateIpAddress>${instance.privateIp}</privateIpAddress>` +
    `<sourceDestCheck>true</sourceDestCheck><attachment><deviceIndex>0</deviceIndex><status>attached</status></attachment>` +
    `${association}${ipv6Set}</item></networkInterfaceSet>`;
  return (
    `<instanceId>${instance.id}</instanceId>${element('imageId', instance.imageId)}` +
    `<instanceState><code>${INSTANCE_STATE_CODES[state]}</code><name>${state}</name></instanceState>` +
    `<privateDnsName>${privateDnsName(instance.privateIp, region.name)}</privateDnsName><dnsName>${publicDns ?? ''}</dnsName>` +
    `${element('keyName', instance.keyName)}${element('instanceType', instance.instanceType)}` +
    `<launchTime>${new Date(instance.launchTime).toISOString()}</launchTime>` +
    `<placement><availabilityZone>${instance.availabilityZone}</availabilityZone><tenancy>default</tenancy></placement>` +
    `<subnetId>${instance.subnetId}</subnetId><vpcId>${instance.vpcId}</vpcId><privateIpAddress>${instance.privateIp}</privateIpAddress>` +
    `${element('ipAddress', publicIp)}${element('ipv6Address', instanceIpv6(instance))}${groupSetXml(instance, region)}${reason}` +
    `<architecture>${architectureOf(instance.instanceType)}</architecture><rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName>` +
    `${instance.spot ? '<instanceLifecycle>spot</instanceLifecycle>' : ''}${tagSetXml(instance.tags)}${networkInterface}`
  );
}

/** One instance as an `instancesSet` item. */
export function instanceXml(instance: Instance, region: Region, ownerId: string, asLaunched = false): RawXml {
  return new RawXml(instanceMarkup(instance, region, ownerId, asLaunched));
}

/** The `reservationSet` item around consecutive instances of one launch. */
export function reservationXml(instances: readonly Instance[], region: Region, ownerId: string): RawXml {
  let items = '';
  for (const instance of instances) items += `<item>${instanceMarkup(instance, region, ownerId)}</item>`;
  return new RawXml(
    `<reservationId>${reservationIdOf(instances[0]!)}</reservationId><ownerId>${ownerId}</ownerId><groupSet></groupSet><instancesSet>${items}</instancesSet>`,
  );
}

/** Graviton families (`m7g`, `t4g`, `c6gn`, `im4gn`…) are arm64; the rest x86_64. */
export function architectureOf(instanceType: string): 'arm64' | 'x86_64' {
  return /^[a-z]+\d+[a-z]*g[a-z]*\./.test(instanceType) ? 'arm64' : 'x86_64';
}
