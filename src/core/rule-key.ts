/**
 * Rule identity, the way EC2 sees it: protocol, ports and CIDR (the
 * description is not part of it, protocol "6" is "tcp", CIDRs are stored with
 * host bits cleared). Keys are strings so the planner can index thousands of
 * rules in Maps instead of comparing them pairwise.
 */
import { isCanonicalCidr, parseCidr } from './addresses.js';
import { ipv4HostNumber } from './ip-scan.js';
import { hashRange } from './string-index.js';
import type { Family, PortSpec } from './model.js';

const PROTOCOL_NUMBERS: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6', all: '-1' };

/** EC2's protocol names: numbers that have a name get the name, case is ignored. */
export function normalizeProtocol(protocol: string): string {
  // Nearly every rule already says it EC2's way; answer those without new strings.
  if (protocol === 'tcp' || protocol === 'udp' || protocol === '-1' || protocol === 'icmp' || protocol === 'icmpv6') return protocol;
  const p = String(protocol).trim().toLowerCase();
  return PROTOCOL_NUMBERS[p] ?? p;
}

/** A port spec in EC2's form: "all traffic" has no ports (-1/-1). */
export function normalizePort(port: { protocol: string; fromPort: number; toPort: number }): { protocol: string; fromPort: number; toPort: number } {
  const protocol = normalizeProtocol(port.protocol);
  return protocol === '-1' ? { protocol, fromPort: -1, toPort: -1 } : { protocol, fromPort: port.fromPort, toPort: port.toPort };
}

/**
 * The one family a port spec serves, if it serves only one: ICMP runs over
 * IPv4 only and ICMPv6 over IPv6 only. Every other protocol serves both.
 */
export function portFamily(port: { protocol: string }): Family | undefined {
  const protocol = normalizeProtocol(port.protocol);
  return protocol === 'icmp' ? 'ipv4' : protocol === 'icmpv6' ? 'ipv6' : undefined;
}

/**
 * Whether a port spec can admit traffic of a family (see `portFamily`): a
 * rule pairing ICMP or ICMPv6 with the other family's address matches nothing
 * (EC2 accepts it all the same, and counts it against the quota).
 */
export function portServes(port: { protocol: string }, family: Family): boolean {
  const only = portFamily(port);
  return only === undefined || only === family;
}

/** `tcp|443|443`: one port spec, for set membership. */
export function portKey(port: { protocol: string; fromPort: number; toPort: number }): string {
  const p = normalizePort(port);
  return `${p.protocol}|${p.fromPort}|${p.toPort}`;
}

/** The canonical spelling of a CIDR, or the raw text (trimmed, lower case) when it does not parse. */
export function canonicalCidr(cidr: string | undefined): string {
  if (cidr === undefined) return '';
  if (isCanonicalCidr(cidr)) return cidr;
  return parseCidr(cidr)?.canonical ?? String(cidr).trim().toLowerCase();
}

/** Equal as `portKey` compares them (it writes each number as text), without building the keys. */
function sameNumber(a: number, b: number): boolean {
  return a === b || String(a) === String(b);
}

/** Whether two port specs are one in EC2's eyes: `portKey(a) === portKey(b)`, without the strings. */
export function samePort(a: { protocol: string; fromPort: number; toPort: number }, b: { protocol: string; fromPort: number; toPort: number }): boolean {
  const protocol = normalizeProtocol(a.protocol);
  if (protocol !== normalizeProtocol(b.protocol)) return false;
  return protocol === '-1' || (sameNumber(a.fromPort, b.fromPort) && sameNumber(a.toPort, b.toPort));
}

/** A 32-bit hash of an IPv4 address (a 32-bit integer). */
function hostHash(n: number): number {
  const h = Math.imul(n ^ (n >>> 16), 0x45d9f3b);
  return h ^ (h >>> 16);
}

/**
 * A 32-bit hash of `canonicalCidr(cidr)`: equal canonical CIDRs hash alike.
 * An IPv4 /32 (nearly every rule a pass reads) hashes by its address as a
 * number, read in one pass over the text; anything else by its canonical text.
 * A caller that has read `ipv4HostNumber(cidr)` already passes it as `host`.
 */
export function cidrHash(cidr: string | undefined, host = ipv4HostNumber(cidr)): number {
  if (host >= 0) return hostHash(host);
  const canonical = typeof cidr === 'string' && isCanonicalCidr(cidr) ? cidr : canonicalCidr(cidr);
  // The same hash for every spelling of one /32: the canonical text decides.
  const canonicalHost = ipv4HostNumber(canonical);
  return canonicalHost >= 0 ? hostHash(canonicalHost) : hashRange(canonical);
}

/** What EC2 treats as the same rule within one group: ports and CIDR. */
export function identityKey(port: { protocol: string; fromPort: number; toPort: number }, cidr: string | undefined): string {
  return `${portKey(port)}|${canonicalCidr(cidr)}`;
}

/** One desired rule: the identity plus whose it is. Two targets or two members never share one. */
export function desiredKey(target: string, instanceId: string, port: PortSpec | { protocol: string; fromPort: number; toPort: number }, cidr: string | undefined): string {
  return `${target}\u0000${instanceId}\u0000${identityKey(port, cidr)}`;
}
