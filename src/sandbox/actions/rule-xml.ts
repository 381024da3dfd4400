import type { Region, Rule } from '../world.js';
import { escapeXml, RawXml, type XmlObject } from '../xml.js';
import type { RuleSpec } from './rule-identity.js';

/**
 * Rules in the shapes EC2 answers with: one `SecurityGroupRule` per rule
 * (DescribeSecurityGroupRules, Authorize), and `IpPermission`s that gather
 * the sources of one protocol and port range (DescribeSecurityGroups,
 * UnknownIpPermissions).
 */

const SPECIAL = /[&<>"']/;

/** One element, left out when undefined; text is escaped only when it needs to be, which it rarely does. */
function el(name: string, value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  const body = typeof value === 'string' && SPECIAL.test(value) ? escapeXml(value) : String(value);
  return `<${name}>${body}</${name}>`;
}

/**
 * A rule as `SecurityGroupRule`. Rendered straight to markup because
 * DescribeSecurityGroupRules pages of a thousand rules are the sandbox's
 * hottest answer.
 */
export function ruleXml(region: Region, accountId: string, rule: Rule): RawXml {
  let tags = '';
  for (const [key, value] of rule.tags) tags += `<item>${el('key', key)}${el('value', value)}</item>`;
  const referenced = rule.referencedGroupId === undefined ? '' : `<referencedGroupInfo>${el('groupId', rule.referencedGroupId)}${el('userId', accountId)}</referencedGroupInfo>`;
  return new RawXml(
    el('securityGroupRuleId', rule.id) +
      el('groupId', rule.groupId) +
      el('groupOwnerId', accountId) +
      el('isEgress', rule.isEgress) +
      el('ipProtocol', rule.protocol) +
      el('fromPort', rule.fromPort) +
      el('toPort', rule.toPort) +
      el('cidrIpv4', rule.cidrIpv4) +
      el('cidrIpv6', rule.cidrIpv6) +
      referenced +
      el('description', rule.description) +
      `<tagSet>${tags}</tagSet>` +
      el('securityGroupRuleArn', `arn:aws:ec2:${region.name}:${accountId}:security-group-rule/${rule.id}`),
  );
}

/** A rule as `RevokedSecurityGroupRule`. */
export function revokedRuleXml(rule: Rule): XmlObject {
  return {
    securityGroupRuleId: rule.id,
    groupId: rule.groupId,
    isEgress: rule.isEgress,
    ipProtocol: rule.protocol,
    fromPort: rule.fromPort,
    toPort: rule.toPort,
    cidrIpv4: rule.cidrIpv4,
    cidrIpv6: rule.cidrIpv6,
    referencedGroupId: rule.referencedGroupId,
    description: rule.description,
  };
}

/** Whether EC2 shows ports for a protocol in an `IpPermission` (all-traffic and bare numbers have none). */
function showsPorts(protocol: string): boolean {
  return protocol === 'tcp' || protocol === 'udp' || protocol === 'icmp' || protocol === 'icmpv6';
}

/**
 * Gathers rules into `IpPermission`s, one per protocol and port range, in the
 * order each range first appears.
 */
export function permissionsXml(specs: readonly RuleSpec[], accountId: string): XmlObject[] {
  const byRange = new Map<string, { ipRanges: XmlObject[]; ipv6Ranges: XmlObject[]; groups: XmlObject[]; spec: RuleSpec }>();
  for (const spec of specs) {
    const key = `${spec.protocol}|${spec.fromPort}|${spec.toPort}`;
    let entry = byRange.get(key);
    if (!entry) {
      entry = { ipRanges: [], ipv6Ranges: [], groups: [], spec };
      byRange.set(key, entry);
    }
    const description = spec.description;
    if (spec.cidrIpv4 !== undefined) entry.ipRanges.push({ cidrIp: spec.cidrIpv4, description });
    else if (spec.cidrIpv6 !== undefined) entry.ipv6Ranges.push({ cidrIpv6: spec.cidrIpv6, description });
    else entry.groups.push({ description, groupId: spec.referencedGroupId, userId: accountId });
  }
  return [...byRange.values()].map(({ spec, ipRanges, ipv6Ranges, groups }) => ({
    ipProtocol: spec.protocol,
    fromPort: showsPorts(spec.protocol) ? spec.fromPort : undefined,
    toPort: showsPorts(spec.protocol) ? spec.toPort : undefined,
    groups,
    ipRanges,
    ipv6Ranges,
    prefixListIds: [],
  }));
}
