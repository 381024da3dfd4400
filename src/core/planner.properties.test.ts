import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { admits, classifyAddress, parseCidr } from './addresses.js';
import type { Family, InstanceState, Member, ObservedRule, PlanInput, PortSpec, RegionInventory, Scope, Target } from './model.js';
import { isManagedBy, ruleTag, TAG } from './ownership.js';
import { plan } from './planner.js';
import { desiredKey } from './rule-key.js';
import { isReplaced } from './safety.js';
import { applyPlanToObserved } from './simulate.js';

const NOW = Date.UTC(2025, 5, 1, 12);
const REGIONS = ['eu-west-1', 'ap-southeast-2', 'us-west-2'];
const STATES: InstanceState[] = ['pending', 'running', 'running', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'];
// Ids as EC2 gives them: a rule authorized in one call with others names its instance only in its
// description, which reads an id of 8 or 17 hex digits (and AWS gives no other).
const IDS = Array.from({ length: 10 }, (_, n) => `i-0${String(n).padStart(16, '0')}`);
const IPV4 = ['54.0.0.1', '54.0.0.2', '3.3.3.3', '10.0.0.1', '10.0.0.2', '172.16.5.5', '100.64.0.1', '169.254.1.1', '0.0.0.0', '192.0.2.1', 'not-an-ip'];
const IPV6 = ['2a05:d018::1', '2a05:d018::2', 'fd00::1', 'fe80::1', '::', '2001:db8::1'];
const PORTS: PortSpec[] = [
  { protocol: 'tcp', fromPort: 443, toPort: 443 },
  { protocol: 'tcp', fromPort: 8000, toPort: 8100 },
  { protocol: 'udp', fromPort: 53, toPort: 53 },
  { protocol: '-1', fromPort: -1, toPort: -1 },
];
const REGISTERED = [new Date(NOW - 3_600_000).toISOString(), new Date(NOW - 10_000).toISOString(), 'garbled', undefined];

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const memberArb: fc.Arbitrary<Omit<Member, 'instanceId'>> = fc.record({
  region: fc.constantFrom(...REGIONS),
  state: fc.constantFrom(...STATES),
  publicIpv4: maybe(fc.constantFrom(...IPV4)),
  privateIpv4: maybe(fc.constantFrom(...IPV4)),
  ipv6: fc.subarray(IPV6, { maxLength: 2 }),
  tags: fc.constantFrom<Record<string, string>>({}, { role: 'api' }, { role: 'db' }),
});

const targetArb = (name: string): fc.Arbitrary<Target> =>
  fc.record({
    name: fc.constant(name),
    region: fc.constant('us-east-1'),
    groupIds: fc.integer({ min: 1, max: 4 }).map((n) => Array.from({ length: n }, (_, i) => `sg-${name}-${i}`)),
    ports: fc.subarray(PORTS, { minLength: 1 }),
    families: fc.subarray<Family>(['ipv4', 'ipv6'], { minLength: 1 }),
    address: fc.constantFrom('public' as const, 'private' as const),
    quota: fc.integer({ min: 1, max: 5 }),
    selector: fc.record({ regions: maybe(fc.subarray(REGIONS, { minLength: 1 })), tags: maybe(fc.constantFrom({ role: ['api'] }, { role: ['*'] })) }, { requiredKeys: [] }),
  });

/** A rule already in some target group: this deployment's, another's, or hand-made. */
const ruleArb = (groups: string[]): fc.Arbitrary<Omit<ObservedRule, 'ruleId'>> =>
  fc
    .record({
      groupId: fc.constantFrom(...groups),
      port: fc.constantFrom(...PORTS),
      address: fc.oneof(fc.constantFrom(...IPV4, ...IPV6), fc.constant('0.0.0.0')),
      owner: fc.constantFrom('prod', 'prod', 'prod', 'staging', undefined),
      target: fc.constantFrom('t0', 't1', 'ghost'),
      instance: fc.constantFrom(...IDS),
      region: maybe(fc.constantFrom(...REGIONS)),
      registeredAt: fc.constantFrom(...REGISTERED),
    })
    .map(({ groupId, port, address, owner, target, instance, region, registeredAt }) => {
      const family: Family = address.includes(':') ? 'ipv6' : 'ipv4';
      const tags: Record<string, string> = {};
      const set = (k: string, v: string | undefined) => v !== undefined && (tags[k] = v);
      set(TAG.managedBy, owner);
      if (owner !== undefined) {
        set(TAG.target, target);
        set(TAG.instance, instance);
        set(TAG.region, region);
        set(TAG.registeredAt, registeredAt);
      }
      const cidr = address === '0.0.0.0' ? '0.0.0.0/0' : `${address}/${family === 'ipv4' ? 32 : 128}`;
      return { groupId, family, protocol: port.protocol, fromPort: port.fromPort, toPort: port.toPort, cidr, tags };
    });

const worldArb: fc.Arbitrary<PlanInput> = fc
  .tuple(fc.tuple(targetArb('t0'), targetArb('t1')), fc.integer({ min: 1, max: 2 }), fc.uniqueArray(fc.constantFrom(...IDS), { maxLength: 8 }), fc.boolean())
  .chain(([pair, targetCount, memberIds, scoped]) => {
    const targets = pair.slice(0, targetCount);
    const groups = targets.flatMap((t) => t.groupIds);
    return fc.record({
      deployment: fc.constant('prod'),
      targets: fc.constant(targets),
      members: fc.tuple(...memberIds.map((id) => memberArb.map((m): Member => ({ instanceId: id, ...m })))),
      regionInventory: fc
        .tuple(...REGIONS.map(() => fc.constantFrom<RegionInventory>({ status: 'complete' }, { status: 'complete' }, { status: 'failed', reason: 'timeout' })))
        .map((inv) => Object.fromEntries(REGIONS.map((r, i) => [r, inv[i]])) as Record<string, RegionInventory>),
      observed: fc.array(ruleArb(groups), { maxLength: 25 }).map((rules) => rules.map((r, i) => ({ ruleId: `sgr-${i}`, ...r }))),
      scope: scoped ? fc.record({ kind: fc.constant('instance' as const), instanceId: fc.constantFrom(...IDS), deregister: fc.boolean() }) : fc.constant<Scope>({ kind: 'all' }),
      now: fc.constant(NOW),
      safety: fc.record({ graceSeconds: fc.constantFrom(0, 300), revokeLimit: fc.constant({}), force: fc.constant(false) }),
    });
  });

function applied(world: PlanInput) {
  const first = plan(world);
  let n = 0;
  const after = applyPlanToObserved(world.observed, first, () => `sgr-new-${++n}`);
  return { first, after };
}

describe('planner properties', () => {
  it('(a) finds nothing to do after its own plan is applied', () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        const { after } = applied(world);
        const second = plan({ ...world, observed: after });
        expect(second.authorize).toEqual([]);
        expect(second.revoke).toEqual([]);
      }),
    );
  });

  it("(b) revokes only rules this deployment manages, in a group of the revoke's target's pool, and for an unknown target or a group outside its pool only in a fleet pass", () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        const byId = new Map(world.observed.map((r) => [r.ruleId, r]));
        const pools = new Map(world.targets.map((t) => [t.name, new Set(t.groupIds)]));
        for (const batch of plan(world).revoke) {
          for (const item of batch.items) {
            const rule = byId.get(item.ruleId)!;
            expect(isManagedBy(rule, 'prod')).toBe(true);
            expect(pools.get(item.target)?.has(rule.groupId)).toBe(true);
            const tagged = ruleTag(rule, TAG.target);
            if (tagged === undefined || !pools.get(tagged)?.has(rule.groupId)) {
              expect(['target-removed', 'not-in-pool', 'deregistered']).toContain(item.reason);
              if (item.reason !== 'deregistered') expect(world.scope?.kind ?? 'all').toBe('all');
            }
          }
        }
      }),
    );
  });

  it('(c) never fills a group beyond its quota, per family', () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        const { first, after } = applied(world);
        for (const batch of first.authorize) {
          const quota = world.targets.find((t) => t.groupIds.includes(batch.groupId))!.quota;
          for (const family of new Set(batch.items.map((i) => i.family))) {
            expect(after.filter((r) => r.groupId === batch.groupId && r.family === family).length).toBeLessThanOrEqual(quota);
          }
        }
      }),
    );
  });

  it('(d) never moves an existing rule that is still wanted to another group', () => {
    // Plan twice with churn between (some instances terminate), so that many existing rules are still wanted.
    fc.assert(
      fc.property(worldArb, fc.subarray(IDS), (world, terminated) => {
        const members = world.members.map((m): Member => (terminated.includes(m.instanceId) ? { ...m, state: 'terminated' } : m));
        const next = { ...world, members, observed: applied(world).after };
        const existing = new Set(
          next.observed.filter((r) => isManagedBy(r, 'prod')).map((r) => desiredKey(ruleTag(r, TAG.target) ?? '', ruleTag(r, TAG.instance) ?? '', r, r.cidr)),
        );
        for (const batch of plan(next).authorize) {
          for (const item of batch.items) expect(existing.has(desiredKey(item.target, item.instanceId, item.port, item.cidr))).toBe(false);
        }
      }),
    );
  });

  it("(e) a scoped plan touches only its instance's rules", () => {
    fc.assert(
      fc.property(
        worldArb.filter((w) => w.scope.kind === 'instance'),
        (world) => {
          const id = world.scope.kind === 'instance' ? world.scope.instanceId : '';
          const byId = new Map(world.observed.map((r) => [r.ruleId, r]));
          const p = plan(world);
          for (const item of p.revoke.flatMap((b) => b.items)) expect(ruleTag(byId.get(item.ruleId)!, TAG.instance)).toBe(id);
          for (const item of p.authorize.flatMap((b) => b.items)) expect(item.instanceId).toBe(id);
        },
      ),
    );
  });

  it('(f) never throws, and gives the same plan for the same input', () => {
    const chaos = fc.record({
      deployment: fc.string(),
      targets: fc.array(
        fc.record({ name: fc.constantFrom('t0', 't1', ''), region: fc.string(), groupIds: fc.array(fc.constantFrom('sg-a', 'sg-b', '')), ports: fc.array(fc.record({ protocol: fc.string(), fromPort: fc.integer(), toPort: fc.double() })), families: fc.array(fc.string()), address: fc.string(), quota: fc.double(), selector: fc.anything() }),
      ),
      members: fc.array(fc.record({ instanceId: fc.constantFrom('i-1', 'i-2'), region: fc.string(), state: fc.string(), publicIpv4: fc.string(), privateIpv4: fc.string(), ipv6: fc.array(fc.string()), tags: fc.dictionary(fc.string(), fc.string()) })),
      regionInventory: fc.dictionary(fc.string(), fc.constantFrom({ status: 'complete' }, { status: 'failed', reason: 'x' }, { status: 'odd' })),
      observed: fc.array(
        fc.record({ ruleId: fc.constantFrom('r1', 'r2', 'r3'), groupId: fc.constantFrom('sg-a', 'sg-b', 'sg-z'), family: fc.string(), protocol: fc.string(), fromPort: fc.integer(), toPort: fc.integer(), cidr: fc.option(fc.string(), { nil: undefined }), tags: fc.dictionary(fc.constantFrom(...Object.values(TAG), 'x'), fc.string()) }),
      ),
      scope: fc.oneof(fc.constant({ kind: 'all' }), fc.record({ kind: fc.constant('instance'), instanceId: fc.string(), deregister: fc.anything() }), fc.anything()),
      now: fc.oneof(fc.string(), fc.double(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
      safety: fc.record({ graceSeconds: fc.double(), revokeLimit: fc.record({ count: fc.double(), fraction: fc.double() }, { requiredKeys: [] }), force: fc.boolean() }),
      missing: fc.oneof(fc.array(fc.record({ groupId: fc.constantFrom('sg-a', 'sg-b', 3), region: fc.oneof(fc.string(), fc.constant(undefined)) })), fc.anything()),
    }) as unknown as fc.Arbitrary<PlanInput>;
    fc.assert(
      fc.property(fc.oneof(worldArb, chaos), (world) => {
        expect(plan(world)).toEqual(plan(structuredClone(world)));
      }),
    );
  });

  it('(h) never places a rule in a group that does not exist, and revokes and keeps exactly what it would without knowing', () => {
    fc.assert(
      fc.property(worldArb, fc.integer({ min: 0, max: 255 }), (world, mask) => {
        const groups = [...new Set(world.targets.flatMap((t) => t.groupIds))];
        // A group the rule reads found rules in exists, whatever the group listing said.
        const missing = groups.filter((_, i) => (mask >> i) & 1).map((groupId) => ({ groupId, region: 'us-east-1' }));
        const withRules = new Set(world.observed.map((r) => r.groupId));
        const knowing = plan({ ...world, missing });
        const gone = new Set(missing.map((m) => m.groupId).filter((g) => !withRules.has(g)));
        for (const batch of knowing.authorize) expect(gone.has(batch.groupId)).toBe(false);
        const unaware = plan(world);
        // A group that does not exist has no room: a member whose new rule then finds none keeps the rule that
        // rule replaces (make before break), which a plan unaware of it would revoke. Nothing else differs.
        const held = new Set(knowing.kept.filter((k) => k.reason === 'replacement-blocked').map((k) => k.ruleId));
        const heldAnyway = new Set(unaware.kept.filter((k) => k.reason === 'replacement-blocked').map((k) => k.ruleId));
        const items = (p: typeof knowing) => p.revoke.flatMap((b) => b.items);
        expect(items(knowing)).toEqual(items(unaware).filter((r) => !held.has(r.ruleId)));
        expect(items(unaware).filter((r) => held.has(r.ruleId) && !heldAnyway.has(r.ruleId)).every((r) => isReplaced(r.reason))).toBe(true);
        const byRule = (k: typeof knowing.kept) => [...k].sort((a, b) => a.ruleId.localeCompare(b.ruleId));
        expect(byRule(knowing.kept.filter((k) => !held.has(k.ruleId) || heldAnyway.has(k.ruleId)))).toEqual(byRule(unaware.kept));
        expect(new Set(knowing.missing.map((m) => m.groupId))).toEqual(gone);
      }),
    );
  });

  it('(g) authorizes only single-host CIDRs of the kind the target asks for', () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        for (const item of plan(world).authorize.flatMap((b) => b.items)) {
          const cidr = parseCidr(item.cidr)!;
          expect(cidr.prefixLength).toBe(item.family === 'ipv4' ? 32 : 128);
          const address = classifyAddress(item.cidr.split('/')[0]!)!;
          expect(admits(world.targets.find((t) => t.name === item.target)!.address, address)).toBe(true);
          if (item.family === 'ipv4') expect(address.class).toBe(world.targets.find((t) => t.name === item.target)!.address);
        }
      }),
    );
  });
});
