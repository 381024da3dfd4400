/**
 * Desired state: the rules that should exist, computed from targets and
 * members alone. Every address goes through the never-widen check (safety
 * rule 5) here, so nothing downstream can build a rule from an unchecked one.
 */
import { admits, admittedHost, classifyAddress, hostCidr } from './addresses.js';
import type { DesiredRule, Family, Member, PortSpec, RefusedMember, Target } from './model.js';
import { canonicalCidr, normalizePort, portKey, portServes } from './rule-key.js';
import { selectorMatcher } from './selector.js';
import { sortByText } from './text-order.js';

export interface DesiredState {
  /** Sorted: target order, member region, instance id, family, port. */
  rules: DesiredRule[];
  /** Selected members that cannot be admitted, with the reason. */
  refused: RefusedMember[];
}

type AddressChoice = { cidr: string } | { refused: RefusedMember['reason']; detail: string };

/** The text of the member address a target uses for a family. */
function addressText(target: Pick<Target, 'address'>, member: Member, family: Family): string | undefined {
  return family === 'ipv6' ? member.ipv6?.[0] : target.address === 'public' ? member.publicIpv4 : member.privateIpv4;
}

/** What a host address becomes as a rule's CIDR. */
export const HOST_SUFFIX: Record<Family, string> = { ipv4: '/32', ipv6: '/128' };

/**
 * The /32 or /128 a target admits for one member and family, or why none.
 * IPv4 uses the public or private address as the target asks; IPv6 uses the
 * member's first IPv6 address either way (see `admits`), first in the order
 * `orderIpv6` gives both the agent and the controller.
 */
export function memberCidr(target: Pick<Target, 'address'>, member: Member, family: Family): AddressChoice {
  const text = addressText(target, member, family);
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

/**
 * The canonical address behind `memberCidr`'s CIDR (which is it plus
 * HOST_SUFFIX), or undefined when `memberCidr` refuses. Builds nothing in the
 * usual case, so a pass can compare a fleet's addresses with existing rules
 * before making a rule of any.
 */
export function admittedAddress(target: Pick<Target, 'address'>, member: Member, family: Family): string | undefined {
  const text = addressText(target, member, family);
  return text === undefined || text === '' ? undefined : admittedHost(target.address, family, text);
}

/**
 * Every address of a member whose rule the target keeps for one family,
 * canonical, the admitted one (`admittedAddress`) first; none when the member
 * is not admitted in that family. IPv4 has one. A member admitted in IPv6
 * holds each of its IPv6 addresses the target admits: a rule for any of them
 * is its rule, whichever side wrote it, and only a rule for an address the
 * member no longer has (or that the target does not admit) is a stale one.
 */
export function heldAddresses(target: Pick<Target, 'address'>, member: Member, family: Family): string[] {
  const admitted = admittedAddress(target, member, family);
  if (admitted === undefined) return [];
  const held = [admitted];
  if (family !== 'ipv6' || !Array.isArray(member.ipv6)) return held;
  for (let i = 1; i < member.ipv6.length; i++) {
    const text = member.ipv6[i];
    const address = typeof text === 'string' && text !== '' ? admittedHost(target.address, family, text) : undefined;
    if (address !== undefined && !held.includes(address)) held.push(address);
  }
  return held;
}

/** Whether `cidr` is the host CIDR of one of the addresses the member holds (see `heldAddresses`). */
export function holdsCidr(target: Pick<Target, 'address'>, member: Member, family: Family, cidr: string | undefined): boolean {
  const wanted = canonicalCidr(cidr);
  return heldAddresses(target, member, family).some((a) => a + HOST_SUFFIX[family] === wanted);
}

/**
 * Records why a member cannot be admitted for one family (see `memberCidr`),
 * once per reason among the entries from `from` on (this member's, for this target).
 */
export function refuseMember(target: Pick<Target, 'name' | 'address'>, member: Member, family: Family, refused: RefusedMember[], from: number): void {
  const choice = memberCidr(target, member, family);
  if (!('refused' in choice)) return;
  for (let i = from; i < refused.length; i++) if (refused[i]?.reason === choice.refused) return;
  refused.push({ target: target.name, instanceId: member.instanceId, memberRegion: member.region, reason: choice.refused, detail: choice.detail });
}

function comparePorts(a: PortSpec, b: PortSpec): number {
  if (a.protocol !== b.protocol) return a.protocol < b.protocol ? -1 : 1;
  return a.fromPort - b.fromPort || a.toPort - b.toPort;
}

/** A target prepared for a pass: its families and ports in rule order, its selector as a function. */
export interface TargetRules {
  target: Target;
  /** Distinct, sorted. */
  families: Family[];
  /** In EC2's form, distinct, sorted. */
  ports: PortSpec[];
  selects: (member: Pick<Member, 'region' | 'tags'>) => boolean;
}

/** Prepares a target once per pass rather than once per member. */
export function targetRules(target: Target): TargetRules {
  const portKeys = new Set<string>();
  const ports = (target.ports ?? [])
    .map((p) => normalizePort(p) as PortSpec)
    .filter((p) => !portKeys.has(portKey(p)) && portKeys.add(portKey(p)))
    .sort(comparePorts);
  return { target, families: [...new Set(target.families ?? [])].sort(), ports, selects: selectorMatcher(target.selector) };
}

/**
 * Appends one running, selected member's rules for one target to `rules`,
 * family by family and port by port. A member is admitted in every family it
 * has an address the target admits; one admitted in none of the target's
 * families is refused, with each reason (once per reason) in `refused`. An
 * IPv4-only instance on a target of both families is admitted, not refused.
 */
export function addMemberRules(t: TargetRules, member: Member, rules: DesiredRule[], refused: RefusedMember[]): void {
  const target = t.target.name;
  const refusedBefore = refused.length;
  let admitted = false;
  for (const family of t.families) {
    const address = admittedAddress(t.target, member, family);
    if (address === undefined) continue;
    admitted = true;
    const cidr = address + HOST_SUFFIX[family];
    for (const port of t.ports) {
      if (portServes(port, family)) rules.push({ target, instanceId: member.instanceId, memberRegion: member.region, family, port, cidr });
    }
  }
  if (!admitted) for (const family of t.families) refuseMember(t.target, member, family, refused, refusedBefore);
}

/**
 * `items` in placement order within one target, as a new array: member
 * region, then instance id, each compared as `<` compares strings; items of
 * one instance keep their order (family, then port). Fast for a fleet's worth.
 */
export function sortForPlacement<T extends Pick<DesiredRule, 'memberRegion' | 'instanceId'>>(items: readonly T[]): T[] {
  return sortByText(
    items,
    (item) => item.instanceId,
    (item) => item.memberRegion,
  );
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

/** `desiredRules` for members already known to have unique ids. */
export function desiredRulesOfUnique(targets: Target[], members: Member[]): DesiredState {
  const rules: DesiredRule[] = [];
  const refused: RefusedMember[] = [];
  // Two targets of one name refuse a member once between them.
  const refusedSeen = new Set<string>();
  const mine: RefusedMember[] = [];
  // Members in placement order: region, then instance id.
  const running = sortByText(
    members.filter((m) => m.state === 'running'),
    (m) => m.instanceId,
    (m) => m.region,
  );
  for (const target of targets) {
    const t = targetRules(target);
    for (const member of running) {
      if (!t.selects(member)) continue;
      mine.length = 0;
      addMemberRules(t, member, rules, mine);
      for (const r of mine) {
        const key = `${r.target}\u0000${r.instanceId}\u0000${r.reason}`;
        if (!refusedSeen.has(key)) {
          refusedSeen.add(key);
          refused.push(r);
        }
      }
    }
  }
  return { rules, refused };
}
