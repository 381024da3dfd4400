import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, CreateVpcCommand, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ec2Adapter } from '../../src/aws/ec2-adapter.js';
import type { Member, Scope, Target } from '../../src/core/model.js';
import { isManagedBy, ruleMember } from '../../src/core/ownership.js';
import type { Ec2Port } from '../../src/core/ports.js';
import { spreadStart } from '../../src/core/capacity.js';
import { plan } from '../../src/core/planner.js';
import { groupsByRegion, lagWarnings, runPass, type PassOptions, type PassResult } from '../../src/core/reconcile.js';
import { realPassTime } from '../../src/controller/pass-time.js';
import { faultsConfigSchema } from '../../src/sandbox/faults.js';
import { startTestSandbox, type TestSandbox } from './helpers.js';

// The adapter takes credentials from the SDK's default chain, as it does in production.
process.env.AWS_ACCESS_KEY_ID = 'AKIDSANDBOX';
process.env.AWS_SECRET_ACCESS_KEY = 'sandbox';

let sb: TestSandbox;
let vpcId: string;
let n = 0;

beforeAll(async () => {
  sb = await startTestSandbox({ seed: 41, log: () => undefined });
  vpcId = (await sb.ec2().send(new CreateVpcCommand({ CidrBlock: '10.8.0.0/16' }))).Vpc!.VpcId!;
});
afterAll(() => sb.close());

async function pool(quotas: number[]): Promise<Target> {
  const groupIds: string[] = [];
  for (const quota of quotas) {
    const id = (await sb.ec2().send(new CreateSecurityGroupCommand({ GroupName: `r${n++}`, Description: 'pool', VpcId: vpcId }))).GroupId!;
    sb.sandbox.world.region('us-east-1')!.groups.get(id)!.quota = quota;
    groupIds.push(id);
  }
  return { name: 'api', region: 'us-east-1', groupIds, ports: [{ protocol: 'tcp', fromPort: 443, toPort: 443 }], families: ['ipv4'], address: 'public', quota: Math.max(...quotas), selector: {} };
}

function members(count: number): Member[] {
  return Array.from({ length: count }, () => ({
    instanceId: `i-0${String(++n).padStart(16, '0')}`,
    region: 'eu-west-1',
    state: 'running',
    publicIpv4: `52.95.${Math.floor(n / 250)}.${(n % 250) + 1}`,
    ipv6: [],
    tags: {},
  }));
}

/** One pass of the engine through the real adapter, owning `scope`. */
function pass(ec2: Ec2Port, target: Target, fleet: Member[], scope: Scope, maxRounds?: number, onRound?: PassOptions['onRound']): Promise<PassResult> {
  return runPass({
    ...realPassTime,
    ec2,
    maxRounds,
    onRound,
    groups: groupsByRegion([target]),
    apply: true,
    makePlan: (observed, learned) =>
      plan({
        full: learned.full,
        deployment: 'prod',
        targets: [target],
        members: fleet,
        regionInventory: { 'eu-west-1': { status: 'complete' } },
        observed,
        scope,
        now: Date.now(),
        safety: { graceSeconds: 300, revokeLimit: { fraction: 1 }, force: false },
      }),
  });
}

/** An adapter whose first `listRules` calls wait until `parties` of them arrived: the passes all see the same world. */
function observingTogether(parties: number): Ec2Port {
  const ec2 = new Ec2Adapter({ endpoint: sb.url, maxAttempts: 8 });
  let waiting: (() => void)[] = [];
  let arrived = 0;
  return {
    enabledRegions: () => ec2.enabledRegions(),
    listMembers: (region, options) => ec2.listMembers(region, options),
    async listRules(region, groupIds) {
      const rules = await ec2.listRules(region, groupIds);
      if (arrived < parties) {
        arrived++;
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          if (waiting.length === parties) waiting.forEach((go) => go());
        });
        waiting = [];
      }
      return rules;
    },
    authorize: (batch) => ec2.authorize(batch),
    revoke: (batch) => ec2.revoke(batch),
  };
}

async function managedRules(target: Target) {
  return (await new Ec2Adapter({ endpoint: sb.url }).listRules('us-east-1', target.groupIds)).filter((r) => isManagedBy(r, 'prod'));
}

describe('runPass with the EC2 adapter', () => {
  it('converges when two fleet-wide passes race: one rule per member, and the loser re-observes instead of failing', async () => {
    const target = await pool([60]);
    const fleet = members(4);
    const ec2 = observingTogether(2);
    const [a, b] = await Promise.all([pass(ec2, target, fleet, { kind: 'all' }), pass(ec2, target, fleet, { kind: 'all' })]);

    for (const r of [a, b]) expect(r).toMatchObject({ converged: true, errors: [] });
    expect(a.changes.length + b.changes.length).toBe(4);
    expect(Math.max(a.rounds, b.rounds)).toBe(2);
    const rules = await managedRules(target);
    expect(rules.map((r) => r.cidr).sort()).toEqual(fleet.map((m) => `${m.publicIpv4}/32`).sort());
  });

  it('converges when twelve agent passes race for the last room in a pool: each finds a group, none exceeds its quota', async () => {
    const target = await pool([4, 4, 4]);
    const fleet = members(12);
    const ec2 = observingTogether(12);
    const results = await Promise.all(fleet.map((m) => pass(ec2, target, fleet, { kind: 'instance', instanceId: m.instanceId })));

    for (const r of results) expect(r).toMatchObject({ converged: true, errors: [] });
    const rules = await managedRules(target);
    expect(rules.map((r) => ruleMember(r).instanceId).sort()).toEqual(fleet.map((m) => m.instanceId).sort());
    const perGroup = target.groupIds.map((g) => rules.filter((r) => r.groupId === g).length);
    expect(perGroup).toEqual([4, 4, 4]);
  });

  it('ends with the capacity error, not an endless race, when AWS allows fewer rules per group than the config says', async () => {
    const target = { ...(await pool([2])), quota: 60 };
    const fleet = members(3);
    await pass(new Ec2Adapter({ endpoint: sb.url }), target, fleet.slice(0, 2), { kind: 'all' });
    // Each further round is announced with what AWS refused, so a long pass says what it is doing.
    const rounds: [number, number, string | undefined][] = [];
    const late = await pass(new Ec2Adapter({ endpoint: sb.url }), target, fleet, { kind: 'instance', instanceId: fleet[2]!.instanceId }, 3, (round, most, refusal) => rounds.push([round, most, refusal?.code]));
    // The refusal marks the group full for the rest of the pass: the next look finds no room, and asks AWS no more.
    expect(late).toMatchObject({ converged: false, rounds: 2, changes: [] });
    expect(rounds).toEqual([[2, 3, 'CAPACITY_EXHAUSTED']]);
    expect(late.lastPlan.blocked.map((b) => b.instanceId)).toEqual([fleet[2]!.instanceId]);
    expect(late.errors.map((e) => e.code)).toEqual(['CAPACITY_EXHAUSTED']);
    expect(late.errors[0]?.message).toMatch(/has reached its rules quota.*set it in the config/);
  });

  it('tries the next group of the pool once AWS says the group it picked is full, whatever the config\'s quota', async () => {
    const target = { ...(await pool([1, 60])), quota: 60 };
    // A member whose search starts at the first group, which already holds its one rule.
    const fleet = members(40).filter((m) => spreadStart(m.instanceId, 2) === 0).slice(0, 2);
    await pass(new Ec2Adapter({ endpoint: sb.url }), target, fleet.slice(0, 1), { kind: 'all' });
    const late = await pass(new Ec2Adapter({ endpoint: sb.url }), target, fleet, { kind: 'instance', instanceId: fleet[1]!.instanceId });
    expect(late).toMatchObject({ converged: true, rounds: 2, errors: [] });
    expect(late.changes.map((c) => [c.action, c.groupId])).toEqual([['authorize', target.groupIds[1]]]);
  });

  it('treats a duplicate as success: the rule another pass just made is observed, not made twice', async () => {
    const target = await pool([60]);
    const [member] = members(1);
    const scope: Scope = { kind: 'instance', instanceId: member!.instanceId };
    const ec2 = new Ec2Adapter({ endpoint: sb.url });
    let raced = false;
    const slow: Ec2Port = {

      enabledRegions: () => ec2.enabledRegions(),
      listMembers: (region, options) => ec2.listMembers(region, options),
      listRules: (region, ids) => ec2.listRules(region, ids),
      revoke: (batch) => ec2.revoke(batch),
      // Another pass for the same instance lands between this pass's look and its write.
      async authorize(batch) {
        if (!raced) {
          raced = true;
          await pass(ec2, target, [member!], scope);
        }
        return ec2.authorize(batch);
      },
    };
    const result = await pass(slow, target, [member!], scope);
    expect(result).toMatchObject({ converged: true, errors: [], rounds: 2, changes: [] });
    expect((await managedRules(target)).map((r) => r.cidr)).toEqual([`${member!.publicIpv4}/32`]);
  });

  it('says where the pass spent its time: reading rules, planning and changing them, each round summed', async () => {
    const target = await pool([60]);
    const fleet = members(2);
    const ec2 = new Ec2Adapter({ endpoint: sb.url });
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const slow: Ec2Port = {
      enabledRegions: () => ec2.enabledRegions(),
      listMembers: (region, options) => ec2.listMembers(region, options),
      listRules: async (region, ids) => (await pause(40), ec2.listRules(region, ids)),
      revoke: (batch) => ec2.revoke(batch),
      authorize: async (batch) => (await pause(60), ec2.authorize(batch)),
    };
    const result = await pass(slow, target, fleet, { kind: 'all' });
    expect(result).toMatchObject({ converged: true, rounds: 1 });
    expect(result.timings.observeMs).toBeGreaterThanOrEqual(39);
    expect(result.timings.applyMs).toBeGreaterThanOrEqual(59);
    expect(result.timings.planMs).toBeGreaterThanOrEqual(0);
  });

  it('counts a foreign rule that already admits the member as enough: it is reported, and nothing is authorized twice', async () => {
    const target = await pool([60]);
    const [member] = members(1);
    await sb.ec2().send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: target.groupIds[0], IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: `${member!.publicIpv4}/32`, Description: 'added by hand' }] }] }),
    );
    const result = await pass(new Ec2Adapter({ endpoint: sb.url }), target, [member!], { kind: 'instance', instanceId: member!.instanceId });
    expect(result).toMatchObject({ converged: true, rounds: 1, changes: [], errors: [] });
    expect(result.plan.foreign.map((f) => [f.cidr, f.description])).toEqual([[`${member!.publicIpv4}/32`, 'added by hand']]);
    expect(await managedRules(target)).toEqual([]);
  });
  it("adds the rest of a batch in its last round while EC2's reads still hide rules it made: halved until AWS's Duplicate names one rule", async () => {
    const target = await pool([60]);
    const fleet = members(4);
    const ec2 = new Ec2Adapter({ endpoint: sb.url });
    const first = await pass(ec2, target, fleet.slice(0, 3), { kind: 'all' });
    expect(first).toMatchObject({ converged: true, errors: [] });
    // From now on DescribeSecurityGroupRules hides every rule younger than 30 s: the three just made.
    sb.sandbox.faults.set(faultsConfigSchema.parse({ rules: [], readLag: { rulesSeconds: 30 } }));
    try {
      const calls: number[] = [];
      let round = 0;
      const counting: Ec2Port = {
        enabledRegions: () => ec2.enabledRegions(),
        listMembers: (region, options) => ec2.listMembers(region, options),
        listRules: (region, ids) => (round++, ec2.listRules(region, ids)),
        revoke: (batch) => ec2.revoke(batch),
        authorize: (batch) => (calls.push(round), ec2.authorize(batch)),
      };
      const result = await pass(counting, target, fleet, { kind: 'all' }, 3);
      expect(result).toMatchObject({ converged: true, errors: [], rounds: 3 });
      expect(result.changes.map((c) => c.instanceId)).toEqual([fleet[3]!.instanceId]);
      expect(result.alreadyThere.map((r) => r.instanceId).sort()).toEqual(fleet.slice(0, 3).map((m) => m.instanceId).sort());
      // Rounds 1 and 2 send the batch whole and look again; round 3 halves it: 4 → 2 + 2 → 1 + 1 + 1 + 1.
      expect(calls).toEqual([1, 2, 3, 3, 3, 3, 3, 3, 3]);
      expect(lagWarnings(result)).toEqual([expect.stringMatching(/^3 rule\(s\) AWS says exist were not listed yet .* so they were not added again: /)]);
    } finally {
      sb.sandbox.faults.set(faultsConfigSchema.parse({ rules: [] }));
    }
    expect((await managedRules(target)).map((r) => r.cidr).sort()).toEqual(fleet.map((m) => `${m.publicIpv4}/32`).sort());
  });

  it('revokes the rest of a batch in its last round when the reads still list a rule another writer revoked', async () => {
    const target = await pool([60]);
    const fleet = members(2);
    const ec2 = new Ec2Adapter({ endpoint: sb.url });
    await pass(ec2, target, fleet, { kind: 'all' });
    const listed = await ec2.listRules('us-east-1', target.groupIds);
    const [taken, left] = (await managedRules(target)).sort((a, b) => (ruleMember(a).instanceId! < ruleMember(b).instanceId! ? -1 : 1));
    await sb.ec2().send(new RevokeSecurityGroupIngressCommand({ GroupId: taken!.groupId, SecurityGroupRuleIds: [taken!.ruleId] }));
    // Reads that still show the rule the other writer revoked.
    const stale: Ec2Port = { enabledRegions: () => ec2.enabledRegions(), listMembers: (r, o) => ec2.listMembers(r, o), listRules: () => Promise.resolve(listed), revoke: (b) => ec2.revoke(b), authorize: (b) => ec2.authorize(b) };
    const gone = fleet.map((m) => ({ ...m, state: 'terminated' as const }));
    const result = await pass(stale, target, gone, { kind: 'all' }, 1);
    expect(result).toMatchObject({ converged: true, errors: [], rounds: 1 });
    expect(result.changes.map((c) => [c.action, c.ruleId])).toEqual([['revoke', left!.ruleId]]);
    expect(result.alreadyGone.map((r) => r.ruleId)).toEqual([taken!.ruleId]);
    expect(lagWarnings(result)).toEqual([`1 rule(s) AWS says are gone were still listed (EC2's reads lag its writes), so there was nothing to revoke: ${taken!.ruleId} in ${taken!.groupId}`]);
    expect(await managedRules(target)).toEqual([]);
  });
  it('names at most five of the rules the reads had not caught up with, and counts the rest', () => {
    const rule = (n: number) => ({ target: 'api', instanceId: `i-0${String(n).padStart(16, '0')}`, memberRegion: 'eu-west-1', family: 'ipv4' as const, port: { protocol: 'tcp' as const, fromPort: 443, toPort: 443 }, cidr: `52.95.0.${n}/32`, groupId: 'sg-1', description: '', tags: {} });
    expect(lagWarnings({ alreadyThere: [], alreadyGone: [] })).toEqual([]);
    const [warning] = lagWarnings({ alreadyThere: [1, 2, 3, 4, 5, 6, 7].map(rule), alreadyGone: [] });
    expect(warning).toMatch(/^7 rule\(s\) AWS says exist were not listed yet/);
    expect(warning).toMatch(/52\.95\.0\.5\/32 for i-00000000000000005 in sg-1, and 2 more$/);
    expect(warning).not.toMatch(/52\.95\.0\.6\//);
  });
});
