import { describe, expect, it } from 'vitest';
import { CapacityLedger, GroupFamilyCounts, placeRules, spreadStart } from './capacity.js';
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

  it('skips every group holding the same rule among several rules for one CIDR, and forgets only the rule revoked', () => {
    // One address, three rules: 443 in sg-a and sg-b (a rule by hand and a stale copy), 8080 in sg-c.
    const cidr = '54.0.0.7/32';
    const rules = [observed('sg-a', 1, { cidr }), observed('sg-b', 2, { cidr }), observed('sg-c', 3, { cidr, fromPort: 8080, toPort: 8080 })];
    const ledger = new CapacityLedger(rules);
    const pool3 = pool(60, ['sg-a', 'sg-b', 'sg-c']);
    expect(where(placeRules([desired(7)], pool3, new CapacityLedger(rules)))).toEqual(['i-7@sg-c']);
    ledger.remove(rules[0]!);
    expect(where(placeRules([desired(7)], pool3, ledger))).toEqual(['i-7@sg-a']);
    expect(ledger.used('sg-b', 'ipv4')).toBe(1);
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

describe('spread placement for an agent (decision 0004)', () => {
  const sixteen = Array.from({ length: 16 }, (_, i) => `sg-${String(i).padStart(2, '0')}`);
  const spread = { spread: true };
  /** Sixteen groups in which the ones listed are full. */
  const fullAt = (...at: number[]) => new CapacityLedger(at.map((i) => observed(sixteen[i] as string, i)));
  const id = 'i-0123456789abcdef0';
  const home = spreadStart(id, sixteen.length);

  it('hashes the instance id with 32-bit FNV-1a', () => {
    expect([spreadStart('', 2 ** 32), spreadStart('a', 2 ** 32), spreadStart('foobar', 2 ** 32)]).toEqual([0x811c9dc5, 0xe40c292c, 0xbf9cf968]);
  });

  it('starts at the same group every time for the same instance', () => {
    expect(spreadStart(id, 16)).toBe(home);
    expect(home).toBeGreaterThanOrEqual(0);
    expect(home).toBeLessThan(16);
  });

  it("lands in the instance's own group when it has room", () => {
    const placement = placeRules([desired(1, { instanceId: id })], pool(1, sixteen), fullAt(), spread);
    expect(placement.placed.map((p) => p.groupId)).toEqual([sixteen[home]]);
  });

  it("wraps round to the next group with room when the instance's own is full", () => {
    // Its own group and the one after are full, and the search crosses the end of the pool if it must.
    const placement = placeRules([desired(1, { instanceId: id })], pool(1, sixteen), fullAt(home, (home + 1) % 16), spread);
    expect(placement.placed.map((p) => p.groupId)).toEqual([sixteen[(home + 2) % 16]]);
  });

  it('still finds the only group with room, wherever it is in the pool', () => {
    for (const free of [0, (home + 15) % 16]) {
      const others = sixteen.map((_, i) => i).filter((i) => i !== free);
      const placement = placeRules([desired(1, { instanceId: id })], pool(1, sixteen), fullAt(...others), spread);
      expect(placement.placed.map((p) => p.groupId)).toEqual([sixteen[free]]);
    }
  });

  it('blocks only when every group is full', () => {
    const ledger = fullAt(...sixteen.map((_, i) => i));
    const placement = placeRules([desired(1, { instanceId: id })], pool(1, sixteen), ledger, spread);
    expect([placement.placed, placement.blocked.map((r) => r.instanceId)]).toEqual([[], [id]]);
  });

  it('skips a group that already holds the same rule', () => {
    const ledger = new CapacityLedger([observed(sixteen[home] as string, 7, { cidr: '54.0.0.7/32' })]);
    const placement = placeRules([desired(7, { instanceId: id })], pool(60, sixteen), ledger, spread);
    expect(placement.placed.map((p) => p.groupId)).toEqual([sixteen[(home + 1) % 16]]);
  });

  it("puts an instance's IPv4 and IPv6 rules in its own group, each family within its quota", () => {
    const ledger = new CapacityLedger([observed(sixteen[home] as string, 1, { family: 'ipv6', cidr: '2a05::1/128' })]);
    const rules = [desired(2, { instanceId: id }), desired(3, { instanceId: id, family: 'ipv6', cidr: '2a05::3/128' })];
    const placement = placeRules(rules, pool(1, sixteen), ledger, spread);
    expect(placement.placed.map((p) => `${p.rule.family}@${p.groupId}`)).toEqual([`ipv4@${sixteen[home]}`, `ipv6@${sixteen[(home + 1) % 16]}`]);
  });

  it('spreads a thousand instances over sixteen groups, every group getting some and none more than 2.5 times its share', () => {
    const counts = new Map<string, number>();
    for (let n = 0; n < 1000; n++) {
      // Ids as EC2 spells them: i- and 17 hex digits.
      const instanceId = `i-0${(0x1f3a5c7e9b0d + n * 7919).toString(16).padStart(16, '0')}`;
      const [placed] = placeRules([desired(n % 250, { instanceId })], pool(60, sixteen), new CapacityLedger(), spread).placed;
      counts.set(placed!.groupId, (counts.get(placed!.groupId) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(sixteen);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(2.5 * (1000 / 16));
  });

  it('without spread, still fills the pool in order whatever the instances', () => {
    const rules = [1, 2, 3].map((n) => desired(n, { instanceId: `i-0${n}ffffffffffffffff` }));
    expect(placeRules(rules, pool(2, sixteen), new CapacityLedger()).placed.map((p) => p.groupId)).toEqual(['sg-00', 'sg-00', 'sg-01']);
  });

  it('starts at the only group of a one-group pool, and blocks in an empty pool', () => {
    expect(spreadStart(id, 1)).toBe(0);
    expect(spreadStart(id, 0)).toBe(0);
    expect(placeRules([desired(1, { instanceId: id })], pool(60, []), new CapacityLedger(), spread).blocked).toHaveLength(1);
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
