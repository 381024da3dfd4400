import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { Ec2Error } from './errors.js';
import type { Random } from './random.js';
import type { Region, Vpc } from './world.js';

/**
 * Addresses for sandbox instances. Public IPv4 addresses come from public,
 * non-reserved space (as AWS's do), so that address checks in clients treat
 * them as real; nothing is ever sent to them.
 */

/**
 * A public IPv4 address not in `inUse`: globally routable unicast, never
 * private, shared, documentation, benchmarking or multicast space, and never
 * a `.0` or `.255` address that a reader might mistake for a network or
 * broadcast address.
 */
export function allocatePublicIpv4(rng: Random, inUse: ReadonlySet<string>): string {
  for (;;) {
    const n = rng.nextU32();
    const last = n & 0xff;
    if (last === 0 || last === 255) continue;
    const text = numberToIpv4(n);
    if (isPublicIpv4(text) && !inUse.has(text)) return text;
  }
}

/** True for an address in globally routable unicast IPv4 space. */
export function isPublicIpv4(text: string): boolean {
  // ipaddr.js names every special-purpose block (RFC 6890 and successors); the rest is "unicast".
  return ipaddr.IPv4.isValidFourPartDecimal(text) && ipaddr.IPv4.parse(text).range() === 'unicast';
}

/** The first host numbers of every subnet AWS reserves (network, router, DNS, future use). */
const RESERVED_LOW = 4;

/**
 * The next private IPv4 address in the VPC, skipping AWS's reserved first
 * four and the last address. When the counter reaches the end of the block it
 * looks for addresses released by instances that are gone.
 */
export function allocatePrivateIpv4(vpc: Vpc, region: Region): string {
  const [base, prefix] = ipaddr.IPv4.parseCIDR(vpc.cidrBlock);
  const start = (ipv4ToNumber(base.toString()) & (prefix === 0 ? 0 : ~0 << (32 - prefix))) >>> 0;
  const size = 2 ** (32 - prefix);
  const last = size - 2;
  if (vpc.nextHost < RESERVED_LOW) vpc.nextHost = RESERVED_LOW;
  if (vpc.nextHost <= last) return numberToIpv4(start + vpc.nextHost++);
  const taken = new Set<string>();
  for (const instance of region.instances.values()) {
    if (instance.vpcId === vpc.id && instance.state !== 'terminated') taken.add(instance.privateIp);
  }
  for (let host = RESERVED_LOW; host <= last; host++) {
    const candidate = numberToIpv4(start + host);
    if (!taken.has(candidate)) return candidate;
  }
  throw new Ec2Error('InsufficientFreeAddressesInSubnet', `There are not enough free addresses in VPC '${vpc.id}' (${vpc.cidrBlock}).`);
}

/**
 * The /56 an instance's IPv6 address comes from: the VPC's own block, or a
 * stable sandbox block in AWS's global unicast range derived from the VPC id.
 */
export function ipv6BlockOf(vpc: Vpc): string {
  if (vpc.ipv6CidrBlock) return vpc.ipv6CidrBlock;
  const h = createHash('sha256').update(vpc.id).digest();
  return `2600:1f${h.toString('hex', 0, 1)}:${h.toString('hex', 1, 3)}:${h.toString('hex', 3, 4)}00::/56`;
}

/** A random address in the /64 of the VPC block numbered `subnetIndex` (one /64 per availability zone). */
export function allocateIpv6(vpc: Vpc, subnetIndex: number, rng: Random, inUse: ReadonlySet<string>): string {
  const [base] = ipaddr.IPv6.parseCIDR(ipv6BlockOf(vpc));
  const parts = base.parts.slice(0, 4);
  parts[3] = (parts[3]! & 0xff00) | (subnetIndex & 0xff);
  for (;;) {
    const host = [rng.nextU32() >>> 16, rng.nextU32() >>> 16, rng.nextU32() >>> 16, rng.nextU32() >>> 16];
    const text = new ipaddr.IPv6([...parts, ...host]).toString();
    if (!inUse.has(text)) return text;
  }
}

/**
 * The availability zone (by index) whose /64 of the VPC block holds
 * `address`, or undefined when the address lies in none of the VPC's subnets
 * (see `allocateIpv6`: one /64 per zone, numbered by the zone's index).
 */
export function ipv6SubnetIndex(vpc: Vpc, address: string, zoneCount: number): number | undefined {
  if (!ipaddr.IPv6.isValid(address)) return undefined;
  const [base] = ipaddr.IPv6.parseCIDR(ipv6BlockOf(vpc));
  const parts = ipaddr.IPv6.parse(address).parts;
  if (parts.slice(0, 3).some((p, i) => p !== base.parts[i]) || (parts[3]! & 0xff00) !== (base.parts[3]! & 0xff00)) return undefined;
  const index = parts[3]! & 0xff;
  return index < zoneCount ? index : undefined;
}

/** Orders IPv6 addresses by their value (as 128-bit numbers), for lists that are sorted by address. */
export function compareIpv6(a: string, b: string): number {
  const x = ipaddr.IPv6.parse(a).toByteArray();
  const y = ipaddr.IPv6.parse(b).toByteArray();
  for (let i = 0; i < 16; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

/** `ip-172-31-0-10.ec2.internal` in us-east-1, `ip-….REGION.compute.internal` elsewhere. */
export function privateDnsName(privateIp: string, region: string): string {
  const host = `ip-${privateIp.replace(/\./g, '-')}`;
  return region === 'us-east-1' ? `${host}.ec2.internal` : `${host}.${region}.compute.internal`;
}

/** `ec2-203-0-113-25.compute-1.amazonaws.com` in us-east-1, `ec2-….REGION.compute.amazonaws.com` elsewhere. */
export function publicDnsName(publicIp: string, region: string): string {
  const host = `ec2-${publicIp.replace(/\./g, '-')}`;
  return region === 'us-east-1' ? `${host}.compute-1.amazonaws.com` : `${host}.${region}.compute.amazonaws.com`;
}

/**
 * A stable, locally administered MAC address for an instance's primary
 * interface, from the random hex digits of its id (cheap enough to compute
 * for every instance of a thousand-item page).
 */
export function macAddressOf(instanceId: string): string {
  const hex = instanceId.slice(instanceId.indexOf('-') + 1).padStart(10, '0').slice(-10);
  return `0a:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}:${hex.slice(8, 10)}`;
}

function ipv4ToNumber(text: string): number {
  return text.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}
