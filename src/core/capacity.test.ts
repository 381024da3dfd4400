import { describe, expect, it } from 'vitest';
import { CapacityLedger, GroupFamilyCounts, placeRules } from './capacity.js';
import type { DesiredRule, ObservedRule } from './model.js';

const port = { protocol: 'tcp' as const, fromPort: 443, toPort: 443 };

function desired(n: number, over: Partial<DesiredRule> = {}): DesiredRule {
  return { target: 'api', instanceId: `i-${n}`, memberRegion: 'eu-west-1', family: 'ipv4', port, cidr: `54.0.0.${n}/32`, ...over };
}

function observed(groupId: string, n: number, over: Partial<ObservedRule> = {}): ObservedRule {
  return { ruleId: `sgr-${groupId}-${n}`, groupId, family: 'ipv4', protocol: 'tcp', fromPort: 443, toPort: 443, cidr: `99.0.0.${n}/32`, tags: {}, ...over };
}

const pool = (quota: number, groupIds = ['sg-a', 'sg-b']) => () => ({ groupIds, quota });
const where = (placement: ReturnType<typeof placeRules>) => placement.placed.map((p) => `${p.rule.instanceId}@${p.groupId}`);

describe('capacity and placement', () => {
  it('fills the first group of the pool before the next', () => {
    const placement = placeRules([1, 2, 3].map((n) => desired(n)), pool(2), new CapacityLedger());
    expect(where(placement)).toEqual(['i-1@sg-a', 'i-2@sg-a', 'i-3@sg-b']);
  });

  it('counts foreign rules against the quota, as AWS does', () => {
    const ledger = new CapacityLedger([observed('sg-a', 1), observed('sg-a', 2)]);
    expect(where(placeRules([desired(1)], pool(2), ledger))).toEqual(['i-1@sg-b']);
  });

  it('counts IPv4 and IPv6 separately', () => {
    const ledger = new CapacityLedger([observed('sg-a', 1), observed('sg-a', 2, { family: 'ipv6', cidr: '2a05::2/128' })]);
    const placement = placeRules([desired(1, { family: 'ipv6', cidr: '2a05::1/128' }), desired(2)], pool(1), ledger);
    expect(where(placement)).toEqual(['i-1@sg-b', 'i-2@sg-b']);
  });

  it('blocks what fits nowhere and moves nothing to make room', () => {
    const ledger = new CapacityLedger([observed('sg-a', 1), observed('sg-b', 2)]);
    const placement = placeRules([desired(3)], pool(1), ledger);
    expect(placement.placed).toEqual([]);
    expect(placement.blocked.map((r) => r.instanceId)).toEqual(['i-3']);
    expect([ledger.used('sg-a', 'ipv4'), ledger.used('sg-b', 'ipv4')]).toEqual([1, 1]);
  });

  it('uses room freed by a revoke in the same pass', () => {
    const old = observed('sg-a', 1);
    const ledger = new CapacityLedger([old]);
    ledger.remove(old);
    expect(where(placeRules([desired(1)], pool(1), ledger))).toEqual(['i-1@sg-a']);
  });

  it('skips a group that already holds the same rule, which EC2 would refuse as a duplicate', () => {
    const ledger = new CapacityLedger([observed('sg-a', 7, { cidr: '54.0.0.7/32', protocol: '6' })]);
    expect(where(placeRules([desired(7)], pool(60), ledger))).toEqual(['i-7@sg-b']);
  });

  it.each([
    ['an empty pool', []],
    ['a zero quota', ['sg-a']],
  ])('blocks everything with %s', (_case, groupIds) => {
    const placement = placeRules([desired(1)], pool(0, groupIds), new CapacityLedger());
    expect(placement.blocked).toHaveLength(1);
  });

  it('told which CIDRs will be placed, still skips a group holding one of them, however spelled', () => {
    const rules = [observed('sg-a', 7, { cidr: '54.0.0.7/032' }), observed('sg-a', 8)];
    const ledger = new CapacityLedger(rules, { cidrs: new Set(['54.0.0.7/32']) });
    expect(where(placeRules([desired(7)], pool(60), ledger))).toEqual(['i-7@sg-b']);
    expect(ledger.used('sg-a', 'ipv4')).toBe(2);
  });

  it('takes counts made elsewhere, and then needs only the rules that could collide', () => {
    const counted = new GroupFamilyCounts();
    counted.add('sg-a', 'ipv4', 2);
    const ledger = new CapacityLedger([], { counted });
    expect(where(placeRules([desired(1), desired(2)], pool(3), ledger))).toEqual(['i-1@sg-a', 'i-2@sg-b']);
    expect(counted.get('sg-a', 'ipv4')).toBe(2);
  });
});

describe('counts per group and family', () => {
  it('add up, per group and per family, and read zero where nothing was counted', () => {
    const a = new GroupFamilyCounts();
    a.add('sg-a', 'ipv4');
    a.add('sg-b', 'ipv4');
    a.add('sg-a', 'ipv4');
    const b = new GroupFamilyCounts();
    b.add('sg-a', 'ipv6', 3);
    const total = GroupFamilyCounts.sum(a, b);
    expect([total.get('sg-a', 'ipv4'), total.get('sg-a', 'ipv6'), total.get('sg-b', 'ipv4'), total.get('sg-c', 'ipv4')]).toEqual([2, 3, 1, 0]);
  });
});
