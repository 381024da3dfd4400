/**
 * Desired state: the rules that should exist, computed from targets and
 * members alone. Every address goes through the never-widen check (safety
 * rule 5) here, so nothing downstream can build a rule from an unchecked one.
 */
import { admits, classifyAddress, hostCidr } from './addresses.js';
import type { DesiredRule, Family, Member, PortSpec, RefusedMember, Target } from './model.js';
import { normalizePort, portKey } from './rule-key.js';
import { matchesSelector } from './selector.js';

export interface DesiredState {
  /** Sorted: target order, member region, instance id, family, port. */
  rules: DesiredRule[];
  /** Selected members that cannot be admitted, with the reason. */
  refused: RefusedMember[];
}

type AddressChoice = { cidr: string } | { refused: RefusedMember['reason']; detail: string };

/**
 * The /32 or /128 a target admits for one member and family, or why none.
 * IPv4 uses the public or private address as the target asks; IPv6 uses the
 * member's first IPv6 address either way (see `admits`).
 */
export function memberCidr(target: Pick<Target, 'address'>, member: Member, family: Family): AddressChoice {
  const text = family === 'ipv6' ? member.ipv6?.[0] : target.address === 'public' ? member.publicIpv4 : member.privateIpv4;
  if (text === undefined || text === '') {
    if (family === 'ipv6') return { refused: 'no-ipv6-address', detail: `${member.instanceId} has no IPv6 address` };
    return target.address === 'public'
      ? { refused: 'no-public-address', detail: `${member.instanceId} has no public IPv4 address` }
      : { refused: 'no-private-address', detail: `${member.instanceId} has no private IPv4 address` };
  }
  const address = classifyAddress(text);
  if (!address || address.family !== family) {
    return { refused: 'invalid-address', detail: `${member.instanceId}: "${text}" is not an ${family} address` };
  }
  if (!admits(target.address, address)) {
    const reason = target.address === 'public' ? 'address-not-public' : 'address-not-private';
    return { refused: reason, detail: `${member.instanceId}: ${address.canonical} is ${address.label}, not a ${target.address} address` };
  }
  return { cidr: hostCidr(address) };
}

function comparePorts(a: PortSpec, b: PortSpec): number {
  if (a.protocol !== b.protocol) return a.protocol < b.protocol ? -1 : 1;
  return a.fromPort - b.fromPort || a.toPort - b.toPort;
}

/**
 * Members in placement order: region, then instance id. Sorted by id, then
 * bucketed by region: input already in id order (as the planner passes it)
 * sorts in linear time, and the few regions need no comparator at all.
 */
export function sortMembers(members: Member[]): Member[] {
  const byId = [...members].sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0));
  const regions = new Map<string, Member[]>();
  for (const member of byId) {
    const bucket = regions.get(member.region);
    if (bucket) bucket.push(member);
    else regions.set(member.region, [member]);
  }
  return [...regions.keys()].sort().flatMap((region) => regions.get(region) ?? []);
}

/**
 * Computes the desired rules of every target. Only `running` members are
 * admitted: a `pending` instance may not have its public address yet, and
 * the planner leaves a pending member's existing rules alone rather than
 * adding or removing anything for it. An instance listed twice counts once
 * (its first entry), and a port listed twice gives one rule.
 */
export function desiredRules(targets: Target[], members: Member[]): DesiredState {
  const ids = new Set<string>();
  return desiredRulesOfUnique(
    targets,
    members.filter((m) => !ids.has(m.instanceId) && ids.add(m.instanceId)),
  );
}

/** `desiredRules` for members already known to have unique ids (the planner indexes them anyway). */
export function desiredRulesOfUnique(targets: Target[], members: Member[]): DesiredState {
  const rules: DesiredRule[] = [];
  const refused: RefusedMember[] = [];
  const refusedSeen = new Set<string>();
  const running = sortMembers(members.filter((m) => m.state === 'running'));
  for (const target of targets) {
    const families = [...new Set(target.families ?? [])].sort();
    const portKeys = new Set<string>();
    const ports = (target.ports ?? [])
      .map((p) => normalizePort(p) as PortSpec)
      .filter((p) => !portKeys.has(portKey(p)) && portKeys.add(portKey(p)))
      .sort(comparePorts);
    for (const member of running) {
      if (!matchesSelector(member, target.selector)) continue;
      for (const family of families) {
        const choice = memberCidr(target, member, family);
        if ('refused' in choice) {
          const key = `${target.name}\u0000${member.instanceId}\u0000${choice.refused}`;
          if (!refusedSeen.has(key)) {
            refusedSeen.add(key);
            refused.push({ target: target.name, instanceId: member.instanceId, memberRegion: member.region, reason: choice.refused, detail: choice.detail });
          }
          continue;
        }
        for (const port of ports) {
          rules.push({ target: target.name, instanceId: member.instanceId, memberRegion: member.region, family, port, cidr: choice.cidr });
        }
      }
    }
  }
  return { rules, refused };
}
