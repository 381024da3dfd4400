/**
 * The planner's safety rules (DESIGN.md, "Safety rules") as properties over
 * random worlds. src/core/planner.properties.test.ts covers a narrower world;
 * these add failed and missing inventories, grace and clocks, revoke limits,
 * shared pools, odd addresses, and metamorphic checks (more members, shuffled
 * input, a limit with and without force).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { admits, classifyAddress, hostCidr, isHostCidr, isOpenToWorld, parseCidr } from '../../src/core/addresses.js';
import { desiredRules } from '../../src/core/desired.js';
import type { Member, ObservedRule, Plan, PlanInput, PlannedRevoke, Target } from '../../src/core/model.js';
import { isManagedBy, registeredAtMs, ruleMember, ruleTag, TAG } from '../../src/core/ownership.js';
import { plan } from '../../src/core/planner.js';
import { isReplaced } from '../../src/core/safety.js';
import { canonicalCidr, desiredKey, samePort } from '../../src/core/rule-key.js';
import { matchesSelector } from '../../src/core/selector.js';
import { applyPlanToObserved } from '../../src/core/simulate.js';
import { DEPLOYMENT, nowMs, REGIONS, worldArb } from './planner-world.js';

const RUNS = { numRuns: 250 };

const revokes = (p: Plan): PlannedRevoke[] => p.revoke.flatMap((b) => b.items);
const authorizes = (p: Plan) => p.authorize.flatMap((b) => b.items.map((item) => ({ ...item, groupId: b.groupId })));
const targetOf = (world: PlanInput, name: string): Target => world.targets.find((t) => t.name === name) as Target;
const memberOf = (world: PlanInput, id: string | undefined): Member | undefined => world.members.find((m) => m.instanceId === id);
/** The groups a target's pass looks at: its pool, and the groups it retired. */
const groupsOf = (t: Target | undefined): string[] => (t ? [...t.groupIds, ...(t.retiredGroupIds ?? [])] : []);

function applied(world: PlanInput, first = plan(world)): ObservedRule[] {
  let n = 0;
  return applyPlanToObserved(world.observed, first, () => `sgr-new-${String(++n).padStart(4, '0')}`);
}

/** Every rule this deployment manages for a target, keyed the way the planner matches desired rules. */
function managedKeys(world: PlanInput, observed: ObservedRule[]): Map<string, ObservedRule[]> {
  const keys = new Map<string, ObservedRule[]>();
  for (const r of observed) {
    if (!isManagedBy(r, DEPLOYMENT)) continue;
    const target = world.targets.find((t) => t.name === ruleTag(r, TAG.target));
    const { instanceId } = ruleMember(r);
    if (!target || !target.groupIds.includes(r.groupId) || instanceId === undefined) continue;
    const key = desiredKey(target.name, instanceId, r, r.cidr);
    keys.set(key, [...(keys.get(key) ?? []), r]);
  }
  return keys;
}

describe('the planner, over random worlds', () => {
  it('revokes only rules tagged as managed by this deployment, for one of its targets, in that target\'s pool and scope', () => {
    fc.assert(
      fc.property(worldArb(), (world) => {
        const byId = new Map(world.observed.map((r) => [r.ruleId, r]));
        for (const item of revokes(plan(world))) {
          const rule = byId.get(item.ruleId) as ObservedRule;
          expect(rule).toBeDefined();
          expect(ruleTag(rule, TAG.managedBy)).toBe(DEPLOYMENT);
          // The revoke is the target's whose pool holds the rule's group, or that retired it.
          expect(groupsOf(targetOf(world, item.target))).toContain(rule.groupId);
          const tagged = targetOf(world, ruleTag(rule, TAG.target) ?? '');
          // Only a rule in a group its own target retired (and does not pool) goes as group-retired.
          if (item.reason === 'group-retired') expect([tagged?.groupIds.includes(rule.groupId), tagged?.retiredGroupIds?.includes(rule.groupId)]).toEqual([false, true]);
          if (!groupsOf(tagged).includes(rule.groupId)) {
            // Left behind by a changed configuration (or tagged for no target): a fleet pass's, or the instance's own deregistration.
            expect(['target-removed', 'not-in-pool', 'malformed', 'deregistered']).toContain(item.reason);
            if (item.reason !== 'deregistered') expect(world.scope.kind).toBe('all');
          }
          expect(isOpenToWorld(rule.cidr) && ruleTag(rule, TAG.managedBy) !== DEPLOYMENT).toBe(false);
          if (world.scope.kind === 'instance') expect(ruleMember(rule).instanceId).toBe(world.scope.instanceId);
        }
      }),
      RUNS,
    );
  });

  it('reports every rule it does not own as foreign, and flags those open to the world', () => {
    fc.assert(
      fc.property(worldArb(), (world) => {
        const p = plan(world);
        const inPools = new Set(world.targets.flatMap(groupsOf));
        const foreign = world.observed.filter((r) => inPools.has(r.groupId) && !isManagedBy(r, DEPLOYMENT));
        expect(p.foreign.map((f) => f.ruleId).sort()).toEqual(foreign.map((r) => r.ruleId).sort());
        for (const f of p.foreign) expect(f.dangerous).toBe(isOpenToWorld(f.cidr));
      }),
      RUNS,
    );
  });

  it('keeps the rules of an invisible instance while its region\'s inventory failed or is missing', () => {
    fc.assert(
      fc.property(worldArb(), (world) => {
        const byId = new Map(world.observed.map((r) => [r.ruleId, r]));
        for (const item of revokes(plan(world))) {
          const rule = byId.get(item.ruleId) as ObservedRule;
          const { instanceId, memberRegion } = ruleMember(rule);
          if (memberOf(world, instanceId)) continue;
          // Only facts that need no inventory may remove an invisible instance's rule.
          const inventoryFree = ['port-removed', 'not-selected', 'deregistered', 'duplicate', 'target-removed', 'not-in-pool'].includes(item.reason);
          // A rule sgsync would not write: wider than an address, naming no region to look in, or no target.
          if (item.reason === 'malformed') expect(!isHostCidr(rule.cidr) || memberRegion === undefined || ruleTag(rule, TAG.target) === undefined).toBe(true);
          else if (!inventoryFree) {
            expect(item.reason).toBe('instance-gone');
            expect(world.regionInventory[memberRegion ?? '']?.status).toBe('complete');
          }
        }
      }),
      RUNS,
    );
  });

  it('never treats a rule younger than the grace period (or any rule, when the clock is unreadable) as gone', () => {
    fc.assert(
      fc.property(worldArb(), (world) => {
        const byId = new Map(world.observed.map((r) => [r.ruleId, r]));
        const now = nowMs(world);
        const grace = world.safety.graceSeconds * 1000;
        const gone = revokes(plan(world)).filter((r) => r.reason === 'instance-gone' || (r.reason === 'malformed' && isHostCidr(r.cidr)));
        for (const item of gone) {
          expect(Number.isFinite(now)).toBe(true);
          const at = registeredAtMs(byId.get(item.ruleId) as ObservedRule);
          // Old, or claiming a time further ahead than the grace period, which is not believed.
          if (at !== undefined) expect(now - at >= grace || at - now > grace).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('never fills a group beyond the quota of the target that placed rules there, per family', () => {
    fc.assert(
      fc.property(worldArb(), (world) => {
        const first = plan(world);
        const after = applied(world, first);
        const placedBy = new Map<string, number>();
        for (const item of authorizes(first)) {
          const key = `${item.groupId} ${item.family}`;
          placedBy.set(key, Math.max(placedBy.get(key) ?? 0, targetOf(world, item.target).quota));
        }
        for (const [key, quota] of placedBy) {
          const [groupId, family] = key.split(' ');
          const count = (rules: ObservedRule[]) => rules.filter((r) => r.groupId === groupId && r.family === family).length;
          expect(count(after)).toBeLessThanOrEqual(Math.max(quota, count(world.observed)));
        }
      }),
      RUNS,
    );
  });

  it('authorizes only the single-host CIDR of the member\'s own address, of the kind the target asks for', () => {
    fc.assert(
      fc.property(worldArb(), (world) => {
        for (const item of authorizes(plan(world))) {
          const parsed = parseCidr(item.cidr);
          expect(parsed?.family).toBe(item.family);
          expect(parsed?.prefixLength).toBe(item.family === 'ipv4' ? 32 : 128);
          expect(isOpenToWorld(item.cidr)).toBe(false);
          const target = targetOf(world, item.target);
          const member = memberOf(world, item.instanceId) as Member;
          const text = item.family === 'ipv6' ? member.ipv6[0] : target.address === 'public' ? member.publicIpv4 : member.privateIpv4;
          const address = classifyAddress(text ?? '');
          expect(address && hostCidr(address)).toBe(item.cidr);
          expect(admits(target.address, address!)).toBe(true);
          if (target.address === 'public') expect(address!.class).toBe('public');
          if (item.family === 'ipv4' && target.address === 'private') expect(address!.class).toBe('private');
        }
      }),
      RUNS,
    );
  });

  it('admits only running members of the inventory that the target selects, inside the scope', () => {
    fc.assert(
      fc.property(worldArb(), (world) => {
        for (const item of authorizes(plan(world))) {
          const member = memberOf(world, item.instanceId);
          expect(member?.state).toBe('running');
          expect(item.memberRegion).toBe(member!.region);
          expect(matchesSelector(member!, targetOf(world, item.target).selector)).toBe(true);
          if (world.scope.kind === 'instance') {
            expect(world.scope.deregister).toBe(false);
            expect(item.instanceId).toBe(world.scope.instanceId);
          }
        }
      }),
      RUNS,
    );
  });

  it('leaves every wanted rule where it is: no second copy is added, and only surplus duplicates are revoked', () => {
    fc.assert(
      fc.property(worldArb({ scopes: ['all', 'instance'] }), (world) => {
        const p = plan(world);
        const held = managedKeys(world, world.observed);
        for (const item of authorizes(p)) expect(held.has(desiredKey(item.target, item.instanceId, item.port, item.cidr))).toBe(false);
        const revoked = new Set(revokes(p).map((r) => r.ruleId));
        const wanted = new Set(desiredRules(world.targets, world.members).rules.map((r) => desiredKey(r.target, r.instanceId, r.port, r.cidr)));
        for (const [key, rules] of held) {
          if (!wanted.has(key)) continue;
          // One copy of a wanted rule always survives, in the group it is in.
          expect(rules.filter((r) => !revoked.has(r.ruleId)).length).toBeGreaterThanOrEqual(1);
          for (const r of rules.filter((x) => revoked.has(x.ruleId))) expect(revokes(p).find((x) => x.ruleId === r.ruleId)?.reason).toBe('duplicate');
        }
      }),
      RUNS,
    );
  });

  it('places, blocks or already holds every rule it wants (or a group of the pool holds the same permission), and reports blocked members without evicting anyone', () => {
    const newcomers = fc.array(fc.ipV4(), { minLength: 1, maxLength: 12 }).map((ips) =>
      ips.map((ip, i): Member => ({ instanceId: `i-0ffff${String(i).padStart(4, '0')}`, region: REGIONS[i % REGIONS.length] as string, state: 'running', publicIpv4: ip, privateIpv4: `10.9.0.${i + 1}`, ipv6: [`2600:1f18::${i + 1}`], tags: { role: 'api', env: 'prod' } })),
    );
    fc.assert(
      fc.property(worldArb({ scopes: ['all'] }), newcomers, (world, extra) => {
        const crowded = plan({ ...world, members: [...world.members, ...extra] });
        // Newcomers have no rules: their arrival can take room, never someone's rule. The room they take
        // may leave a member's replacement (a port or family changed) blocked: it then keeps its old rule.
        // (Compared forced: with fewer revokes, a pass the blast radius halted may no longer be.)
        const forced = (w: PlanInput) => plan({ ...w, safety: { ...w.safety, force: true } });
        const [alone, joined] = [forced(world), forced({ ...world, members: [...world.members, ...extra] })];
        const stillRevoked = new Set(revokes(joined).map((r) => r.ruleId));
        const spared = revokes(alone).filter((r) => !stillRevoked.has(r.ruleId));
        expect(revokes(joined)).toEqual(revokes(alone).filter((r) => stillRevoked.has(r.ruleId)));
        const replacementKept = new Set(joined.kept.filter((k) => k.reason === 'replacement-blocked').map((k) => k.ruleId));
        for (const r of spared) expect([r.reason, isReplaced(r.reason), replacementKept.has(r.ruleId)]).toEqual([r.reason, true, true]);
        const held = managedKeys(world, world.observed);
        const planned = new Set([...authorizes(crowded), ...crowded.blocked].map((r) => desiredKey(r.target, r.instanceId, r.port, r.cidr)));
        // The rules standing once the plan lands (revokes out, authorizations in): any with the same permission admits a member.
        const revoked = new Set(revokes(crowded).map((r) => r.ruleId));
        const standing = [
          ...world.observed.filter((o) => !revoked.has(o.ruleId)),
          ...authorizes(crowded).map((a) => ({ groupId: a.groupId, cidr: a.cidr, ...a.port })),
        ];
        const covered = (r: { target: string; port: Parameters<typeof samePort>[0]; cidr: string }) => {
          const pool = targetOf(world, r.target).groupIds;
          return standing.some((o) => pool.includes(o.groupId) && o.cidr !== undefined && samePort(r.port, o) && canonicalCidr(o.cidr) === canonicalCidr(r.cidr));
        };
        for (const r of desiredRules(world.targets, [...world.members, ...extra]).rules) {
          const key = desiredKey(r.target, r.instanceId, r.port, r.cidr);
          expect(held.has(key) || planned.has(key) || covered(r)).toBe(true);
        }
        // A halted pass holds back the new rules of members whose ports changed, with their old rules.
        for (const b of crowded.blocked) expect(b.reason).toBe(b.reason === 'halted' && crowded.halted ? 'halted' : 'capacity');
      }),
      RUNS,
    );
  });

  it('finds nothing to do once its plan is applied, and stays there, unless the pass was halted', () => {
    fc.assert(
      fc.property(worldArb(), (world) => {
        const first = plan(world);
        // A halted pass leaves its revokes, and the room they would free, for later on purpose; planner-blast-radius.test.ts covers the next pass.
        if (first.halted) return;
        const after = applied(world, first);
        const second = plan({ ...world, observed: after });
        expect(authorizes(second)).toEqual([]);
        expect(revokes(second)).toEqual([]);
        expect(plan({ ...world, observed: applied({ ...world, observed: after }, second) })).toEqual(second);
      }),
      RUNS,
    );
  });

  it('revokes nothing when a pass would go over the revoke limit, unless forced, and then exactly what it would have revoked', () => {
    fc.assert(
      fc.property(worldArb({ scopes: ['all'], limits: false }), fc.nat(), (world, seed) => {
        const free = plan(world);
        const wanted = revokes(free).length;
        fc.pre(wanted > 0);
        const count = seed % wanted;
        const halted = plan({ ...world, safety: { ...world.safety, revokeLimit: { count } } });
        expect(revokes(halted)).toEqual([]);
        expect(halted.halted).toMatchObject({ reason: 'blast-radius', wouldRevoke: wanted, limit: count });
        expect(halted.kept.filter((k) => k.reason === 'blast-radius').map((k) => k.ruleId).sort()).toEqual(revokes(free).map((r) => r.ruleId).sort());
        const forced = plan({ ...world, safety: { ...world.safety, revokeLimit: { count }, force: true } });
        expect(revokes(forced)).toEqual(revokes(free));
        expect(forced.halted).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('gives the same changes whatever order the inventory and the rules come in', () => {
    fc.assert(
      fc.property(worldArb(), fc.nat(), (world, seed) => {
        const shuffle = <T>(xs: T[]) => xs.map((x, i) => ({ x, k: (i * 7919 + seed) % 104_729 })).sort((a, b) => a.k - b.k).map(({ x }) => x);
        const a = plan(world);
        const b = plan({ ...world, members: shuffle(world.members), observed: shuffle(world.observed) });
        const sorted = (p: Plan) => ({
          authorize: authorizes(p).map((r) => `${r.groupId} ${desiredKey(r.target, r.instanceId, r.port, r.cidr)}`).sort(),
          revoke: revokes(p).map((r) => `${r.ruleId} ${r.reason}`).sort(),
          blocked: p.blocked.map((r) => desiredKey(r.target, r.instanceId, r.port, r.cidr)).sort(),
        });
        expect(sorted(b)).toEqual(sorted(a));
      }),
      RUNS,
    );
  });
});
