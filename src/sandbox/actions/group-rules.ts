import type { Region, Rule, SecurityGroup, Tags, Vpc, World } from '../world.js';
import { familiesOf, ruleKey, type RuleSpec } from './rule-identity.js';

/**
 * The rules of one group as the world keeps them: in `region.rules` (creation
 * order, the order describe calls page in) and in the group's own id set (the
 * index that makes per-group reads and checks cheap).
 */

/** Adds a rule that has already passed every check. */
export function insertRule(world: World, region: Region, group: SecurityGroup, spec: RuleSpec, isEgress: boolean, tags: Tags): Rule {
  const rule: Rule = {
    id: world.newId('sgr'),
    groupId: group.id,
    isEgress,
    protocol: spec.protocol,
    fromPort: spec.fromPort,
    toPort: spec.toPort,
    tags: new Map(tags),
    createdAt: world.clock.now(),
  };
  if (spec.cidrIpv4 !== undefined) rule.cidrIpv4 = spec.cidrIpv4;
  if (spec.cidrIpv6 !== undefined) rule.cidrIpv6 = spec.cidrIpv6;
  if (spec.referencedGroupId !== undefined) rule.referencedGroupId = spec.referencedGroupId;
  if (spec.description !== undefined) rule.description = spec.description;
  region.rules.set(rule.id, rule);
  group.ruleIds.add(rule.id);
  return rule;
}

export function removeRule(region: Region, group: SecurityGroup, rule: Rule): void {
  region.rules.delete(rule.id);
  group.ruleIds.delete(rule.id);
}

/** The rules of a group, in creation order. */
export function rulesOf(region: Region, group: SecurityGroup): Rule[] {
  const out: Rule[] = [];
  for (const id of group.ruleIds) {
    const rule = region.rules.get(id);
    if (rule) out.push(rule);
  }
  return out;
}

/** A group's rules of one direction by identity key, for duplicate and revoke matching. */
export function rulesByKey(region: Region, group: SecurityGroup, isEgress: boolean): Map<string, Rule> {
  const byKey = new Map<string, Rule>();
  for (const rule of rulesOf(region, group)) {
    if (rule.isEgress === isEgress) byKey.set(ruleKey(rule, isEgress), rule);
  }
  return byKey;
}

/** Inbound rules counted per family, the way the per-group quota counts them. */
export function inboundCounts(region: Region, group: SecurityGroup): { ipv4: number; ipv6: number } {
  const counts = { ipv4: 0, ipv6: 0 };
  for (const rule of rulesOf(region, group)) {
    if (!rule.isEgress) for (const family of familiesOf(rule)) counts[family]++;
  }
  return counts;
}

/** Inbound rules allowed per family for this group. */
export function quotaOf(region: Region, group: SecurityGroup): number {
  return group.quota ?? region.quota;
}

/**
 * The rules AWS puts in a new group: outbound all traffic to 0.0.0.0/0 (and
 * to ::/0 when the VPC has IPv6); a VPC's `default` group also accepts all
 * traffic from its own members.
 */
export function addDefaultRules(world: World, region: Region, group: SecurityGroup, vpc: Vpc): void {
  const all = { protocol: '-1', fromPort: -1, toPort: -1 };
  if (group.name === 'default') insertRule(world, region, group, { ...all, referencedGroupId: group.id }, false, new Map());
  insertRule(world, region, group, { ...all, cidrIpv4: '0.0.0.0/0' }, true, new Map());
  if (vpc.ipv6CidrBlock !== undefined) insertRule(world, region, group, { ...all, cidrIpv6: '::/0' }, true, new Map());
}
