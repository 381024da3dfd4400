import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CapacityLedger, placeRules, spreadStart, type Pool } from './capacity.js';
import type { DesiredRule, Family, ObservedRule, PortSpec } from './model.js';

const PORTS: PortSpec[] = [
  { protocol: 'tcp', fromPort: 443, toPort: 443 },
  { protocol: 'udp', fromPort: 53, toPort: 53 },
];
// Few addresses, so that rules collide with rules already in a group, and with each other.
const CIDRS: Record<Family, string[]> = { ipv4: ['54.0.0.1/32', '54.0.0.2/32', '54.0.0.3/32'], ipv6: ['2a05::1/128', '2a05::2/128'] };
// Few group names, so that a pool may list one group twice, and two pools share one.
const GROUPS = ['sg-a', 'sg-b', 'sg-c', 'sg-d', 'sg-e'];

const familyArb = fc.constantFrom<Family>('ipv4', 'ipv6');
const ruleArb = fc.record({
  target: fc.constantFrom('api', 'db'),
  instanceId: fc.constantFrom('i-0', 'i-1', 'i-0123456789abcdef0', 'i-0fedcba9876543210', 'i-00000001'),
  family: familyArb,
  port: fc.constantFrom(...PORTS),
  n: fc.nat(2),
});
const heldArb = fc.record({ groupId: fc.constantFrom(...GROUPS), family: familyArb, port: fc.constantFrom(...PORTS), n: fc.nat(2) });
const poolArb = fc.record({ groupIds: fc.array(fc.constantFrom(...GROUPS), { maxLength: 6 }), quota: fc.nat(4) });

const cidrOf = (family: Family, n: number) => CIDRS[family][n % CIDRS[family].length] as string;

/**
 * The search as it reads: from the start group round the pool, the first with room that does not hold the rule;
 * with none, blocked, unless a group of the pool holds the rule already (the member is admitted by it).
 */
function reference(rules: DesiredRule[], poolOf: (target: string) => Pool | undefined, ledger: CapacityLedger, spread: boolean) {
  const placed: { rule: DesiredRule; groupId: string }[] = [];
  const blocked: DesiredRule[] = [];
  for (const rule of rules) {
    const pool = poolOf(rule.target);
    const groupIds = pool?.groupIds ?? [];
    const quota = pool && Number.isFinite(pool.quota) ? pool.quota : 0;
    const first = spread ? spreadStart(rule.instanceId, groupIds.length) : 0;
    let groupId: string | undefined;
    for (let k = 0; k < groupIds.length && groupId === undefined; k++) {
      const g = groupIds[(first + k) % groupIds.length] as string;
      if (ledger.used(g, rule.family) < quota && !ledger.holdsPort(g, rule.port, rule.cidr)) groupId = g;
    }
    if (groupId === undefined) {
      if (!groupIds.some((g) => ledger.holdsPort(g, rule.port, rule.cidr))) blocked.push(rule);
    } else {
      ledger.add({ groupId, family: rule.family, ...rule.port, cidr: rule.cidr });
      placed.push({ rule, groupId });
    }
  }
  return { placed, blocked };
}

describe('placement (property)', () => {
  it('places every rule where a plain search of the pool would, and counts the same', () => {
    fc.assert(
      fc.property(
        fc.record({ api: poolArb, db: poolArb }),
        fc.array(heldArb, { maxLength: 12 }),
        fc.array(ruleArb, { maxLength: 30 }),
        fc.boolean(),
        (pools, held, specs, spread) => {
          const observed: ObservedRule[] = held.map((h, i) => ({ ruleId: `sgr-${i}`, groupId: h.groupId, family: h.family, ...h.port, cidr: cidrOf(h.family, h.n), tags: {} }));
          const rules: DesiredRule[] = specs.map((r) => ({ target: r.target, instanceId: r.instanceId, memberRegion: 'eu-west-1', family: r.family, port: r.port, cidr: cidrOf(r.family, r.n) }));
          const poolOf = (target: string) => pools[target as 'api' | 'db'];
          const mine = new CapacityLedger(observed);
          const theirs = new CapacityLedger(observed);
          expect(placeRules(rules, poolOf, mine, { spread })).toEqual(reference(rules, poolOf, theirs, spread));
          for (const g of GROUPS) for (const f of ['ipv4', 'ipv6'] as const) expect(mine.used(g, f)).toBe(theirs.used(g, f));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
