/**
 * Rule identity, the way EC2 sees it: protocol, ports and CIDR (the
 * description is not part of it, protocol "6" is "tcp", CIDRs are stored with
 * host bits cleared). Keys are strings so the planner can index thousands of
 * rules in Maps instead of comparing them pairwise.
 */
import { parseCidr } from './addresses.js';
import type { DesiredRule, PortSpec } from './model.js';

const PROTOCOL_NUMBERS: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6', all: '-1' };

/** EC2's protocol names: numbers that have a name get the name, case is ignored. */
export function normalizeProtocol(protocol: string): string {
  const p = String(protocol).trim().toLowerCase();
  return PROTOCOL_NUMBERS[p] ?? p;
}

/** A port spec in EC2's form: "all traffic" has no ports (-1/-1). */
export function normalizePort(port: { protocol: string; fromPort: number; toPort: number }): { protocol: string; fromPort: number; toPort: number } {
  const protocol = normalizeProtocol(port.protocol);
  return protocol === '-1' ? { protocol, fromPort: -1, toPort: -1 } : { protocol, fromPort: port.fromPort, toPort: port.toPort };
}

/** `tcp|443|443`: one port spec, for set membership. */
export function portKey(port: { protocol: string; fromPort: number; toPort: number }): string {
  const p = normalizePort(port);
  return `${p.protocol}|${p.fromPort}|${p.toPort}`;
}

/** The canonical spelling of a CIDR, or the raw text (trimmed, lower case) when it does not parse. */
export function canonicalCidr(cidr: string | undefined): string {
  if (cidr === undefined) return '';
  return parseCidr(cidr)?.canonical ?? String(cidr).trim().toLowerCase();
}

/** What EC2 treats as the same rule within one group: ports and CIDR. */
export function identityKey(port: { protocol: string; fromPort: number; toPort: number }, cidr: string | undefined): string {
  return `${portKey(port)}|${canonicalCidr(cidr)}`;
}

/** One desired rule: the identity plus whose it is. Two targets or two members never share one. */
export function desiredKey(target: string, instanceId: string, port: PortSpec | { protocol: string; fromPort: number; toPort: number }, cidr: string | undefined): string {
  return `${target}\u0000${instanceId}\u0000${identityKey(port, cidr)}`;
}

/**
 * `desiredKey` for a rule sgsync built itself: its CIDR is canonical by
 * construction (see `hostCidr`), so it skips re-parsing it, which matters
 * when a pass computes a hundred thousand of them.
 */
export function keyOfDesired(rule: Pick<DesiredRule, 'target' | 'instanceId' | 'port' | 'cidr'>): string {
  return `${rule.target}\u0000${rule.instanceId}\u0000${portKey(rule.port)}|${rule.cidr}`;
}
