import { canonicalIpv4Cidr, canonicalIpv6Cidr } from '../cidr.js';
import { Ec2Error, errors } from '../errors.js';
import type { Params } from '../query.js';

/**
 * What makes a security-group rule the rule it is. EC2 identifies a rule by
 * direction, protocol, ports and source; the description rides along but is
 * not part of identity, so the same rule with another description is a
 * duplicate.
 */
export interface RuleSpec {
  /** Canonical: 'tcp', 'udp', 'icmp', 'icmpv6', '-1' or a protocol number. */
  protocol: string;
  fromPort: number;
  toPort: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  referencedGroupId?: string;
  description?: string;
}

const NAMED_NUMBERS: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6', all: '-1' };
const NAMED = new Set(['tcp', 'udp', 'icmp', 'icmpv6', '-1']);
const DESCRIPTION = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;

/**
 * The protocol as EC2 stores it: `6` is `tcp`, `all` is `-1`, other numbers
 * (0–255) stay numbers.
 */
export function canonicalProtocol(raw: string): string {
  const lower = raw.trim().toLowerCase();
  const named = NAMED_NUMBERS[lower] ?? lower;
  if (NAMED.has(named)) return named;
  if (/^(0|[1-9]\d{0,2})$/.test(named) && Number(named) <= 255) return named;
  throw errors.invalidValue(`Invalid value '${raw}' for IP protocol. Unknown protocol.`);
}

/**
 * The port range EC2 stores for a protocol. TCP and UDP need both ports
 * (0–65535, from ≤ to); ICMP uses them as type and code (-1 for all); every
 * other protocol covers all ports, whatever the request said.
 */
export function canonicalPorts(protocol: string, from: number | undefined, to: number | undefined): { fromPort: number; toPort: number } {
  if (protocol === 'tcp' || protocol === 'udp') {
    if (from === undefined || to === undefined) {
      throw errors.invalidValue(`Invalid value for portRange. Must specify both from and to ports with TCP/UDP.`);
    }
    if (from < 0 || to > 65535 || from > to) {
      throw errors.invalidValue(`Invalid value for portRange. From port ${from} to port ${to} is not a valid range (0-65535, from <= to).`);
    }
    return { fromPort: from, toPort: to };
  }
  if (protocol === 'icmp' || protocol === 'icmpv6') {
    const type = from ?? -1;
    const code = to ?? -1;
    if (type < -1 || type > 255 || code < -1 || code > 255) {
      throw errors.invalidValue(`Invalid value for ICMP type ${type} or code ${code} (expected -1 to 255).`);
    }
    if (type === -1 && code !== -1) throw errors.invalidValue('ICMP code must be -1 when the ICMP type is -1 (all types).');
    return { fromPort: type, toPort: code };
  }
  return { fromPort: -1, toPort: -1 };
}

/** Refuses a description EC2 would refuse: over 255 characters or outside its character set. */
export function checkDescription(text: string, what = 'description'): void {
  if (text.length > 255 || !DESCRIPTION.test(text)) {
    throw errors.invalidValue(
      `Invalid ${what}: '${text.slice(0, 64)}'. Up to 255 characters from a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*`,
    );
  }
}

/** The identity of a rule within its group: equal keys are the same rule. */
export function ruleKey(spec: RuleSpec, isEgress: boolean): string {
  const source = spec.cidrIpv4 ?? spec.cidrIpv6 ?? `sg:${spec.referencedGroupId ?? ''}`;
  return `${isEgress ? 'out' : 'in'}|${spec.protocol}|${spec.fromPort}|${spec.toPort}|${source}`;
}

/**
 * The quota families a rule counts against. A rule that references a group
 * counts once for IPv4 and once for IPv6, as AWS counts it.
 */
export function familiesOf(spec: RuleSpec): ('ipv4' | 'ipv6')[] {
  if (spec.cidrIpv4 !== undefined) return ['ipv4'];
  if (spec.cidrIpv6 !== undefined) return ['ipv6'];
  return ['ipv4', 'ipv6'];
}

/** Resolves a `Groups.N` entry of a permission to a group id in the request's region. */
export type GroupReferenceResolver = (ref: { groupId?: string; groupName?: string }) => string;

/**
 * Expands one `IpPermissions.N` structure into rule specs, one per source,
 * validating everything EC2 validates. With `checkDescriptions` false
 * (revoke) descriptions are dropped, since they do not take part in matching.
 */
export function readPermission(p: Params, resolveGroup: GroupReferenceResolver, checkDescriptions = true): RuleSpec[] {
  const protocol = canonicalProtocol(p.required('IpProtocol'));
  const ports = canonicalPorts(protocol, p.int('FromPort'), p.int('ToPort'));
  const described = (item: Params): { description?: string } => {
    const description = item.str('Description');
    if (description === undefined || !checkDescriptions) return {};
    checkDescription(description);
    return { description };
  };
  const specs: RuleSpec[] = [];
  for (const range of p.list('IpRanges')) {
    const raw = range.required('CidrIp');
    const cidrIpv4 = canonicalIpv4Cidr(raw);
    if (!cidrIpv4) throw errors.invalidValue(`CIDR block ${raw} is malformed`);
    specs.push({ protocol, ...ports, cidrIpv4, ...described(range) });
  }
  for (const range of p.list('Ipv6Ranges')) {
    const raw = range.required('CidrIpv6');
    const cidrIpv6 = canonicalIpv6Cidr(raw);
    if (!cidrIpv6) throw errors.invalidValue(`CIDR block ${raw} is malformed`);
    specs.push({ protocol, ...ports, cidrIpv6, ...described(range) });
  }
  for (const pair of p.list('Groups')) {
    const referencedGroupId = resolveGroup({ groupId: pair.str('GroupId'), groupName: pair.str('GroupName') });
    specs.push({ protocol, ...ports, referencedGroupId, ...described(pair) });
  }
  const prefixList = p.list('PrefixListIds')[0]?.str('PrefixListId');
  if (prefixList !== undefined) {
    // The sandbox keeps no prefix lists, so every prefix list id is unknown to it.
    throw new Ec2Error('InvalidPrefixListId.NotFound', `The prefix list '${prefixList}' does not exist.`);
  }
  if (specs.length === 0) {
    throw errors.invalidValue('Each IpPermissions entry needs at least one source: IpRanges, Ipv6Ranges or Groups.');
  }
  return specs;
}

/**
 * The older flat form of one rule (`IpProtocol`, `FromPort`, `ToPort`,
 * `CidrIp`) that the API still accepts and the AWS CLI's `--cidr` sends.
 */
export function readFlatPermission(p: Params): RuleSpec {
  const protocol = canonicalProtocol(p.required('IpProtocol'));
  const ports = canonicalPorts(protocol, p.int('FromPort'), p.int('ToPort'));
  const raw = p.required('CidrIp');
  const cidrIpv4 = canonicalIpv4Cidr(raw);
  if (!cidrIpv4) throw errors.invalidValue(`CIDR block ${raw} is malformed`);
  return { protocol, ...ports, cidrIpv4 };
}
