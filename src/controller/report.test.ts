import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { SgsyncError } from '../core/errors.js';
import type { GroupBatch, Member, ObservedRule, PlannedRevoke, PlannedRule } from '../core/model.js';
import type { AuthorizeOutcome, Ec2Port, RevokeOutcome } from '../core/ports.js';
import { controllerPass } from './pass.js';
import { buildReport, type PassReport, type TargetReport } from './report.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const HOUR_AGO = new Date(NOW - 3_600_000).toISOString();

/** EC2 in memory: enough of it for a controller pass, with a switch to make a region or a group fail. */
class MemoryEc2 implements Ec2Port {
  rules: ObservedRule[] = [];
  failRegion = new Map<string, SgsyncError>();
  failGroup = new Map<string, SgsyncError>();
  /** The security groups that exist; a change in any other is refused as EC2 refuses it. */
  groups = new Set([GROUP_A, GROUP_B]);
  /** Why DescribeSecurityGroups fails, when it does (a role without the permission). */
  failGroupListing?: SgsyncError;
  calls: string[] = [];
  private next = 0;
  constructor(public members: Member[]) {}
  enabledRegions(): Promise<string[]> {
    return Promise.resolve(['eu-west-1', 'us-east-1', 'us-west-2']);
  }
  listMembers(region: string): Promise<Member[]> {
    const failure = this.failRegion.get(region);
    return failure ? Promise.reject(failure) : Promise.resolve(this.members.filter((m) => m.region === region));
  }
  listRules(_region: string, groupIds: readonly string[]): Promise<ObservedRule[]> {
    return Promise.resolve(this.rules.filter((r) => groupIds.includes(r.groupId)));
  }
  existingGroups(_region: string, groupIds: readonly string[]): Promise<string[]> {
    this.calls.push('DescribeSecurityGroups');
    return this.failGroupListing ? Promise.reject(this.failGroupListing) : Promise.resolve(groupIds.filter((g) => this.groups.has(g)));
  }
  private notFound(batch: { groupId: string; region: string }): Promise<never> | undefined {
    if (this.groups.has(batch.groupId)) return undefined;
    return Promise.reject(new SgsyncError('NOT_FOUND', `Security group ${batch.groupId} does not exist in ${batch.region}.`, { details: { groupId: batch.groupId, region: batch.region } }));
  }
  authorize(batch: GroupBatch<PlannedRule>): Promise<AuthorizeOutcome> {
    const gone = this.notFound(batch);
    if (gone) return gone;
    const failure = this.failGroup.get(batch.groupId);
    if (failure) return Promise.reject(failure);
    const created = batch.items.map((r) => {
      const ruleId = `sgr-${String(++this.next).padStart(17, '0')}`;
      this.rules.push({ ruleId, groupId: batch.groupId, family: r.family, protocol: r.port.protocol, fromPort: r.port.fromPort, toPort: r.port.toPort, cidr: r.cidr, description: r.description, tags: r.tags });
      return { ruleId, cidr: r.cidr, protocol: r.port.protocol, fromPort: r.port.fromPort, toPort: r.port.toPort };
    });
    return Promise.resolve({ created, duplicate: false });
  }
  revoke(batch: GroupBatch<PlannedRevoke>): Promise<RevokeOutcome> {
    const gone = this.notFound(batch);
    if (gone) return gone;
    const failure = this.failGroup.get(batch.groupId);
    if (failure) return Promise.reject(failure);
    const ids = new Set(batch.items.map((r) => r.ruleId));
    this.rules = this.rules.filter((r) => !ids.has(r.ruleId));
    return Promise.resolve({ revoked: [...ids], notFound: false });
  }
}

const GROUP_A = 'sg-0aaaaaaaaaaaaaaa1';
const GROUP_B = 'sg-0bbbbbbbbbbbbbbb2';

function config(extra = '') {
  return parseConfig(
    `deployment: prod
targets:
  - name: api
    region: us-east-1
    groups: [${GROUP_A}, ${GROUP_B}]
    ports: [443/tcp]
    quota: 3
    members: { regions: [eu-west-1, us-west-2], tags: { role: worker } }
${extra}`,
    'sgsync.yaml',
  );
}

function worker(n: number, region = 'eu-west-1', state: Member['state'] = 'running'): Member {
  return { instanceId: `i-0${String(n).padStart(16, '0')}`, region, state, publicIpv4: `54.0.0.${n}`, ipv6: [], tags: { role: 'worker' } };
}

function managed(id: string, groupId: string, member: Member, registeredAt = HOUR_AGO): ObservedRule {
  return {
    ruleId: id, groupId, family: 'ipv4', protocol: 'tcp', fromPort: 443, toPort: 443, cidr: `${member.publicIpv4 ?? '0.0.0.0'}/32`,
    tags: { 'sgsync:managed-by': 'prod', 'sgsync:target': 'api', 'sgsync:instance': member.instanceId, 'sgsync:region': member.region, 'sgsync:registered-at': registeredAt },
  };
}

const openToWorld: ObservedRule = { ruleId: 'sgr-0f0f0f0f0f0f0f0f0', groupId: GROUP_A, family: 'ipv4', protocol: 'tcp', fromPort: 443, toPort: 443, cidr: '0.0.0.0/0', description: 'public', tags: {} };

async function report(kind: 'plan' | 'reconcile', ec2: MemoryEc2, options: { force?: boolean; extra?: string } = {}): Promise<PassReport> {
  const loaded = config(options.extra);
  const result = await controllerPass({ config: loaded, ec2, apply: kind === 'reconcile', force: options.force, now: () => NOW, passId: 'pass-1' });
  return buildReport(kind, result, loaded.targets);
}

describe('the report of a controller pass', () => {
  it('lists, per target and group, the rules a reconcile would add and revoke, with who, where and why', async () => {
    const running = worker(1);
    const gone = worker(2, 'us-west-2', 'terminated');
    const ec2 = new MemoryEc2([running, gone]);
    ec2.rules = [managed('sgr-00000000000000002', GROUP_A, gone)];
    const r = await report('plan', ec2, { extra: 'safety: { revokeLimit: { fraction: 1 } }' });

    expect(r.outcome).toBe('changes-pending');
    const [api] = r.targets;
    expect(api?.add).toEqual([{ groupId: GROUP_A, instanceId: running.instanceId, memberRegion: 'eu-west-1', cidr: '54.0.0.1/32', port: { protocol: 'tcp', fromPort: 443, toPort: 443 } }]);
    expect(api?.revoke).toMatchObject([{ groupId: GROUP_A, ruleId: 'sgr-00000000000000002', cidr: '54.0.0.2/32', instanceId: gone.instanceId, memberRegion: 'us-west-2', reason: 'instance-terminated' }]);
    expect(api?.capacity.find((c) => c.groupId === GROUP_A)).toMatchObject({ family: 'ipv4', quota: 3, before: 1, after: 1 });
    expect(r.regions.map((g) => [g.region, g.status])).toEqual([['eu-west-1', 'complete'], ['us-west-2', 'complete']]);
  });

  it('warns about a region a selector names that no pass lists, rather than finding nobody there in silence', async () => {
    const loaded = parseConfig(
      `deployment: prod
targets:
  - name: api
    region: us-east-1
    groups: [${GROUP_A}]
    ports: [443]
    members: { regions: [eu-west-1, af-south-1], tags: { role: worker } }
`,
      'sgsync.yaml',
    );
    const result = await controllerPass({ config: loaded, ec2: new MemoryEc2([worker(1)]), apply: false, now: () => NOW });
    const r = buildReport('plan', result, loaded.targets);
    expect(r.warnings).toEqual(['target "api" selects instances in af-south-1, which no pass lists: it is not enabled for the account']);
    expect(r.regions.map((g) => g.region)).toEqual(['eu-west-1']);
    // Asked for by --region, a region list is the user's choice: nothing to warn about.
    const only = await controllerPass({ config: loaded, ec2: new MemoryEc2([worker(1)]), apply: false, now: () => NOW, regions: ['eu-west-1'] });
    expect(buildReport('plan', only, loaded.targets).warnings).toEqual([]);
  });

  it('reports rules it does not own and flags those open to the world, without touching them', async () => {
    const ec2 = new MemoryEc2([]);
    ec2.rules = [openToWorld, { ...openToWorld, ruleId: 'sgr-0e0e0e0e0e0e0e0e0', cidr: '198.51.100.0/24', description: 'office' }];
    const r = await report('reconcile', ec2);
    expect(r.targets[0]?.foreign.map((f) => [f.cidr, f.dangerous])).toEqual([['198.51.100.0/24', false], ['0.0.0.0/0', true]]);
    expect(r.summary).toMatchObject({ foreign: 2, dangerous: 1, revoke: 0 });
    expect(ec2.rules).toHaveLength(2);
  });

  it('keeps the rules of a region whose inventory failed and says why', async () => {
    const ec2 = new MemoryEc2([]);
    const lost = worker(3, 'us-west-2');
    ec2.rules = [managed('sgr-00000000000000003', GROUP_A, lost)];
    ec2.failRegion.set('us-west-2', new SgsyncError('PERMISSION_DENIED', 'AWS denied ec2:DescribeInstances in us-west-2'));
    const r = await report('reconcile', ec2);

    expect(r.regions.find((g) => g.region === 'us-west-2')).toMatchObject({ status: 'failed', code: 'PERMISSION_DENIED' });
    expect(r.targets[0]?.kept).toEqual([
      {
        groupId: GROUP_A,
        ruleId: 'sgr-00000000000000003',
        cidr: '54.0.0.3/32',
        port: { protocol: 'tcp', fromPort: 443, toPort: 443 },
        instanceId: lost.instanceId,
        memberRegion: 'us-west-2',
        reason: 'region-unavailable',
        detail: expect.stringContaining('inventory of us-west-2 failed') as unknown,
      },
    ]);
    expect(r.summary).toMatchObject({ revoke: 0, regionsFailed: 1 });
    // Nothing else to do, yet not in sync: the region's members were not checked.
    expect(r.outcome).toBe('incomplete');
  });

  it('shows a pass halted by the blast radius, what it would have revoked and how to override', async () => {
    const stopped = [1, 2, 3].map((n) => worker(n, 'eu-west-1', 'stopped'));
    const ec2 = new MemoryEc2(stopped);
    ec2.rules = stopped.map((m, i) => managed(`sgr-0000000000000000${i}`, i < 2 ? GROUP_A : GROUP_B, m));
    const halted = await report('reconcile', ec2, { extra: 'safety: { revokeLimit: { count: 2, fraction: 1 } }' });

    expect(halted.outcome).toBe('halted');
    expect(halted.halted).toEqual({ wouldRevoke: 3, limit: 2, managed: 3, override: '--force' });
    expect(halted.targets[0]?.kept.map((k) => [k.reason, k.wouldRevoke])).toEqual([
      ['blast-radius', 'instance-stopped'],
      ['blast-radius', 'instance-stopped'],
      ['blast-radius', 'instance-stopped'],
    ]);
    expect(halted.targets[0]?.kept[0]?.detail).toMatch(/; the limit is 2; this rule would be revoked as instance-stopped$/);
    expect(ec2.rules).toHaveLength(3);

    const forced = await report('reconcile', ec2, { force: true, extra: 'safety: { revokeLimit: { count: 2, fraction: 1 } }' });
    expect(forced.outcome).toBe('applied');
    expect(forced.targets[0]?.revoke.map((x) => x.reason)).toEqual(['instance-stopped', 'instance-stopped', 'instance-stopped']);
    expect(ec2.rules).toHaveLength(0);
  });

  it('after a reconcile, reports the rules that landed with their ids, and capacity counting only those', async () => {
    const members = [1, 2, 3, 4].map((n) => worker(n));
    const ec2 = new MemoryEc2(members);
    ec2.failGroup.set(GROUP_B, new SgsyncError('PERMISSION_DENIED', `AWS denied ec2:AuthorizeSecurityGroupIngress in us-east-1 on ${GROUP_B}`, { details: { region: 'us-east-1', groupId: GROUP_B } }));
    const r = await report('reconcile', ec2);

    expect(r.outcome).toBe('incomplete');
    // Rules planned into the failing group B did not land, so they are neither reported nor counted.
    const landed = ec2.rules.filter((x) => x.groupId === GROUP_A);
    expect(landed.length).toBeGreaterThan(0);
    expect(landed.length).toBeLessThan(members.length);
    expect(r.targets[0]?.add.map((a) => [a.groupId, a.ruleId])).toEqual(landed.map((x) => [GROUP_A, x.ruleId]));
    expect(r.targets[0]?.capacity.map((c) => [c.groupId, c.before, c.after])).toEqual([[GROUP_A, 0, landed.length], [GROUP_B, 0, 0]]);
    expect(r.errors).toEqual([{ code: 'PERMISSION_DENIED', message: expect.stringContaining(GROUP_B) as unknown, region: 'us-east-1', groupId: GROUP_B, action: undefined }]);
  });

  it("counts in a group's after every target's changes there: one target's drain and another's new rules in a group the second pools", async () => {
    const members = [worker(1), worker(2)];
    const ec2 = new MemoryEc2(members);
    ec2.rules = members.map((m, i) => managed(`sgr-0000000000000000${i}`, GROUP_B, m));
    const loaded = parseConfig(
      `deployment: prod
targets:
  - { name: api, region: us-east-1, groups: [${GROUP_A}], retiredGroups: [${GROUP_B}], ports: [443/tcp], quota: 3, members: { tags: { role: worker } } }
  - { name: web, region: us-east-1, groups: [${GROUP_B}], ports: [80/tcp], quota: 5, members: { tags: { role: worker } } }
safety: { revokeLimit: { fraction: 1 } }
`,
      'sgsync.yaml',
    );
    const result = await controllerPass({ config: loaded, ec2, apply: true, now: () => NOW, passId: 'pass-1' });
    const r = buildReport('reconcile', result, loaded.targets);
    expect(r.targets.find((t) => t.name === 'api')?.revoke.map((x) => x.reason)).toEqual(['group-retired', 'group-retired']);
    const web = r.targets.find((t) => t.name === 'web')?.capacity.find((c) => c.groupId === GROUP_B);
    // Two of api's rules left it and two of web's came: it holds two rules, as EC2 says.
    expect([web?.before, web?.after]).toEqual([2, ec2.rules.filter((x) => x.groupId === GROUP_B).length]);
    expect(web?.after).toBe(2);
  });

  it('reports each added and revoked rule with its own port, though a member\'s rules for two ports share a CIDR', async () => {
    const running = worker(1);
    const stopped = worker(2, 'eu-west-1', 'stopped');
    const ec2 = new MemoryEc2([running, stopped]);
    ec2.rules = [managed('sgr-00000000000000002', GROUP_A, { ...stopped, publicIpv4: '54.0.0.2' }), { ...managed('sgr-00000000000000022', GROUP_A, { ...stopped, publicIpv4: '54.0.0.2' }), fromPort: 22, toPort: 22 }];
    const loaded = parseConfig(
      `deployment: prod
targets:
  - name: api
    region: us-east-1
    groups: [${GROUP_A}, ${GROUP_B}]
    ports: [443/tcp, 22/tcp]
    quota: 3
    members: { regions: [eu-west-1, us-west-2], tags: { role: worker } }
safety: { revokeLimit: { fraction: 1 } }
`,
      'sgsync.yaml',
    );
    const result = await controllerPass({ config: loaded, ec2, apply: true, now: () => NOW, passId: 'pass-2' });
    const r = buildReport('reconcile', result, loaded.targets);
    const portOf = (id: string | undefined) => ec2.rules.find((x) => x.ruleId === id)?.fromPort;
    const added = r.targets[0]?.add ?? [];
    expect(added.map((a) => a.port?.fromPort).sort()).toEqual([22, 443]);
    for (const a of added) expect(a.port?.fromPort).toBe(portOf(a.ruleId));
    expect(r.targets[0]?.revoke.map((x) => [x.ruleId, x.port?.fromPort])).toEqual([['sgr-00000000000000002', 443], ['sgr-00000000000000022', 22]]);
  });

  it('reports members that fit in no group of a full pool as blocked, and evicts nobody', async () => {
    const old = [1, 2, 3, 4, 5, 6].map((n) => worker(n));
    const ec2 = new MemoryEc2([...old, worker(7), worker(8, 'us-west-2')]);
    ec2.rules = old.map((m, i) => managed(`sgr-0000000000000000${i}`, i < 3 ? GROUP_A : GROUP_B, m));
    const r = await report('reconcile', ec2);

    expect(r.targets[0]?.blocked.map((b) => [b.instanceId, b.memberRegion, b.reason])).toEqual([
      [worker(7).instanceId, 'eu-west-1', 'capacity'],
      [worker(8).instanceId, 'us-west-2', 'capacity'],
    ]);
    expect(r.summary).toMatchObject({ add: 0, revoke: 0, blocked: 2 });
    expect(ec2.rules.map((x) => x.ruleId).sort()).toEqual(old.map((_, i) => `sgr-0000000000000000${i}`));
  });

  it('says a pass with nothing to add or revoke is in sync', async () => {
    const running = worker(1);
    const ec2 = new MemoryEc2([running]);
    ec2.rules = [managed('sgr-00000000000000001', GROUP_A, running)];
    expect((await report('plan', ec2)).outcome).toBe('in-sync');
    expect((await report('reconcile', ec2)).outcome).toBe('in-sync');
  });

  it('says a pass a stop signal cut short is incomplete, and why it stopped', async () => {
    const loaded = config();
    const result = await controllerPass({ config: loaded, ec2: new MemoryEc2([]), apply: true, now: () => NOW });
    const r = buildReport('reconcile', { ...result, stopped: 'SIGTERM' }, loaded.targets);
    expect(r).toMatchObject({ outcome: 'incomplete', stopped: 'SIGTERM' });
    expect(buildReport('reconcile', result, loaded.targets)).not.toHaveProperty('stopped');
  });

  it('shows where the pass spent its time in whole milliseconds, and the EC2 calls when the driver counted them', async () => {
    const loaded = config();
    const result = await controllerPass({ config: loaded, ec2: new MemoryEc2([]), apply: false, now: () => NOW });
    const r = buildReport('plan', { ...result, inventoryMs: 1.4, timings: { observeMs: 2.5, planMs: 0.3, applyMs: 0 } }, loaded.targets, { DescribeInstances: 3 });
    expect(r.timings).toEqual({ inventoryMs: 1, observeMs: 3, planMs: 0, applyMs: 0 });
    expect(r.calls).toEqual({ DescribeInstances: 3 });
    expect(buildReport('plan', result, loaded.targets)).not.toHaveProperty('calls');
  });

  it("after a reconcile, counts each IPv6 rule that landed in its own family's capacity", async () => {
    const loaded = parseConfig(
      `deployment: prod
targets:
  - { name: api, region: us-east-1, groups: [${GROUP_A}, ${GROUP_B}], ports: [443/tcp], families: [ipv4, ipv6], quota: 3, members: { tags: { role: worker } } }
`,
      'sgsync.yaml',
    );
    const ec2 = new MemoryEc2([{ ...worker(1), ipv6: ['2600:1f18::1'] }]);
    const r = buildReport('reconcile', await controllerPass({ config: loaded, ec2, apply: true, now: () => NOW }), loaded.targets);
    expect(r.targets[0]?.capacity.map((c) => `${c.groupId} ${c.family}:${c.before}->${c.after}`)).toEqual([`${GROUP_A} ipv4:0->1`, `${GROUP_A} ipv6:0->1`, `${GROUP_B} ipv4:0->0`, `${GROUP_B} ipv6:0->0`]);
  });

  describe("a target's retired group", () => {
    // api drains GROUP_B into GROUP_A; web pools GROUP_B and has stale rules of its own there.
    const loaded = parseConfig(
      `deployment: prod
targets:
  - { name: api, region: us-east-1, groups: [${GROUP_A}], retiredGroups: [${GROUP_B}], ports: [443/tcp], quota: 3, members: { tags: { role: worker } } }
  - { name: web, region: us-east-1, groups: [${GROUP_B}], ports: [80/tcp], quota: 5, members: { tags: { role: web } } }
safety: { revokeLimit: { fraction: 1 } }
`,
      'sgsync.yaml',
    );
    /**
     * In GROUP_B, worker 1's rule goes (it gets one in GROUP_A), worker 3's stays (its region could not be listed), and
     * so do web's rules of two terminated instances. In GROUP_A, api's rules of two terminated instances go.
     */
    function world(): MemoryEc2 {
      const ended = [7, 8].map((n) => worker(n, 'eu-west-1', 'terminated'));
      const webEnded = [5, 6].map((n) => ({ ...worker(n, 'eu-west-1', 'terminated'), tags: { role: 'web' } }));
      const ec2 = new MemoryEc2([worker(1), ...ended, ...webEnded]);
      ec2.failRegion.set('us-west-2', new SgsyncError('PERMISSION_DENIED', 'AWS denied ec2:DescribeInstances in us-west-2'));
      const webRule = (m: Member, id: string) => {
        const rule = managed(id, GROUP_B, m);
        return { ...rule, fromPort: 80, toPort: 80, tags: { ...rule.tags, 'sgsync:target': 'web' } };
      };
      ec2.rules = [
        managed('sgr-00000000000000001', GROUP_B, worker(1)),
        managed('sgr-00000000000000003', GROUP_B, worker(3, 'us-west-2')),
        ...webEnded.map((m, i) => webRule(m, `sgr-0000000000000000${5 + i}`)),
        ...ended.map((m, i) => managed(`sgr-0000000000000000${7 + i}`, GROUP_A, m)),
      ];
      return ec2;
    }
    const pass = async (kind: 'plan' | 'reconcile', ec2: MemoryEc2) => buildReport(kind, await controllerPass({ config: loaded, ec2, apply: kind === 'reconcile', now: () => NOW }), loaded.targets);

    it('shows, in a plan, how many of its rules are there and how many the revokes would leave', async () => {
      const r = await pass('plan', world());
      expect(r.targets[0]?.retired).toEqual([{ groupId: GROUP_B, rules: 2, left: 1 }]);
      // A target that retired no group has no such lines.
      expect(r.targets[1]).not.toHaveProperty('retired');
    });

    it("shows, after a reconcile, what is left once the target's own revokes there landed", async () => {
      const r = await pass('reconcile', world());
      expect(r.targets[0]?.revoke.map((x) => x.groupId)).toEqual([GROUP_A, GROUP_A, GROUP_B]);
      expect(r.targets[1]?.revoke.map((x) => x.groupId)).toEqual([GROUP_B, GROUP_B]);
      expect(r.targets[0]?.retired).toEqual([{ groupId: GROUP_B, rules: 2, left: 1 }]);
    });

    it('says so when it does not exist: there is nothing to drain', async () => {
      const ec2 = world();
      ec2.rules = [];
      ec2.groups.delete(GROUP_B);
      const r = await pass('plan', ec2);
      expect(r.targets[0]?.retired).toEqual([{ groupId: GROUP_B, rules: 0, left: 0, missing: true }]);
    });

    it('shows, after a reconcile whose revokes there AWS refused, every rule still there', async () => {
      const ec2 = world();
      ec2.failGroup.set(GROUP_B, new SgsyncError('PERMISSION_DENIED', `AWS denied ec2:RevokeSecurityGroupIngress in us-east-1 on ${GROUP_B}`, { details: { region: 'us-east-1', groupId: GROUP_B } }));
      const r = await pass('reconcile', ec2);
      expect(r.targets[0]?.revoke.map((x) => x.groupId)).toEqual([GROUP_A, GROUP_A]);
      expect(r.targets[0]?.retired).toEqual([{ groupId: GROUP_B, rules: 2, left: 2 }]);
    });
  });

  describe('a pass over several targets', () => {
    const GROUP_C = 'sg-0ccccccccccccccc3';
    const GROUP_D = 'sg-0ddddddddddddddd4';
    // web: one group with room for one rule, and one that does not exist.
    const web = `  - { name: web, region: us-east-1, groups: [${GROUP_C}, ${GROUP_D}], ports: [80/tcp], quota: 1, members: { tags: { role: web } } }
safety: { revokeLimit: { fraction: 1 } }`;
    const webMember = (n: number, over: Partial<Member> = {}): Member => ({ ...worker(n), tags: { role: 'web' }, ...over });
    const YOUNG = new Date(NOW - 60_000).toISOString();

    /** api: one member to add, and the young rule of an instance not listed yet. web: one rule to revoke, one member added, one blocked, one refused. */
    function world(): MemoryEc2 {
      const ec2 = new MemoryEc2([worker(1), webMember(2), webMember(3), webMember(4, { publicIpv4: undefined }), webMember(5, { state: 'terminated' })]);
      ec2.groups.add(GROUP_C);
      const gone = managed('sgr-00000000000000005', GROUP_C, webMember(5));
      ec2.rules = [managed('sgr-00000000000000009', GROUP_A, worker(9), YOUNG), { ...gone, fromPort: 80, toPort: 80, tags: { ...gone.tags, 'sgsync:target': 'web' } }];
      return ec2;
    }

    it("gives each target only its own rules, kept, blocked and refused members, capacity and missing groups, and sums them", async () => {
      const r = await report('plan', world(), { extra: web });
      const [api, webReport] = r.targets;
      const lines = (t: TargetReport | undefined) => ({
        add: t?.add.map((a) => `${a.instanceId}@${a.groupId}:${a.port?.fromPort}`),
        revoke: t?.revoke.map((x) => `${x.ruleId}:${x.reason}`),
        kept: t?.kept.map((k) => `${k.ruleId}:${k.reason}`),
        blocked: t?.blocked.map((b) => `${b.instanceId}:${b.reason}`),
        refused: t?.refused.map((x) => `${x.instanceId}:${x.reason}`),
        capacity: t?.capacity.map((c) => `${c.groupId}:${c.before}->${c.after}`),
        missing: t?.missing,
      });
      expect(lines(api)).toEqual({
        add: [`${worker(1).instanceId}@${GROUP_A}:443`],
        revoke: [],
        kept: ['sgr-00000000000000009:grace'],
        blocked: [],
        refused: [],
        capacity: [`${GROUP_A}:1->2`, `${GROUP_B}:0->0`],
        missing: [],
      });
      expect(lines(webReport)).toEqual({
        add: [`${webMember(2).instanceId}@${GROUP_C}:80`],
        revoke: ['sgr-00000000000000005:instance-terminated'],
        kept: [],
        blocked: [`${webMember(3).instanceId}:capacity`],
        refused: [`${webMember(4).instanceId}:no-public-address`],
        capacity: [`${GROUP_C}:1->1`, `${GROUP_D}:0->0`],
        missing: [GROUP_D],
      });
      expect(r.summary).toMatchObject({ add: 2, revoke: 1, kept: 1, blocked: 1, refused: 1, missing: 1 });
    });

    it('after a reconcile, gives each target only the changes that landed for it, with who, where and what', async () => {
      const r = await report('reconcile', world(), { extra: web });
      const [api, webReport] = r.targets;
      expect(api?.add).toEqual([
        { groupId: GROUP_A, instanceId: worker(1).instanceId, memberRegion: 'eu-west-1', cidr: '54.0.0.1/32', port: { protocol: 'tcp', fromPort: 443, toPort: 443 }, ruleId: expect.stringMatching(/^sgr-/) as unknown },
      ]);
      expect(api?.revoke).toEqual([]);
      expect(webReport?.add.map((a) => [a.instanceId, a.groupId, a.cidr])).toEqual([[webMember(2).instanceId, GROUP_C, '54.0.0.2/32']]);
      expect(webReport?.revoke.map((x) => [x.ruleId, x.reason])).toEqual([['sgr-00000000000000005', 'instance-terminated']]);
      expect(r.summary).toMatchObject({ add: 2, revoke: 1 });
    });
  });

  describe('a pool group that does not exist', () => {
    const denied = () => new SgsyncError('PERMISSION_DENIED', 'AWS denied ec2:DescribeSecurityGroups in us-east-1.', { details: { action: 'DescribeSecurityGroups', region: 'us-east-1' } });

    it('is listed while the rules are read, gets no rule, and is named as an error with where the configuration lists it', async () => {
      const members = [1, 2, 3].map((n) => worker(n));
      const ec2 = new MemoryEc2(members);
      ec2.groups.delete(GROUP_A);
      const r = await report('plan', ec2);

      expect(ec2.calls).toEqual(['DescribeSecurityGroups']);
      expect(r.targets[0]?.add.map((a) => a.groupId)).toEqual([GROUP_B, GROUP_B, GROUP_B]);
      expect(r.targets[0]?.missing).toEqual([GROUP_A]);
      expect(r.targets[0]?.capacity.map((c) => [c.groupId, c.missing ?? false])).toEqual([[GROUP_A, true], [GROUP_B, false]]);
      expect(r.summary).toMatchObject({ missing: 1, errors: 1 });
      expect(r.errors).toEqual([
        {
          code: 'NOT_FOUND',
          message: `Security group ${GROUP_A} (targets[0].groups[0] in sgsync.yaml) does not exist in us-east-1; nothing is placed in it. Correct the id, or take it out of the pool; a group lives in one region, so check the target's region too.`,
          region: 'us-east-1',
          groupId: GROUP_A,
          action: 'DescribeSecurityGroups',
        },
      ]);
      expect(r.outcome).toBe('incomplete');
    });

    it('is not "in sync" even with nothing to add: a pool of groups that do not exist admits nobody', async () => {
      const ec2 = new MemoryEc2([]);
      ec2.groups.clear();
      const r = await report('reconcile', ec2);
      expect(r.targets[0]?.missing).toEqual([GROUP_A, GROUP_B]);
      expect(r.summary.missing).toBe(2);
      expect(r.errors.map((e) => [e.code, e.groupId])).toEqual([['NOT_FOUND', GROUP_A], ['NOT_FOUND', GROUP_B]]);
      expect(r.outcome).toBe('incomplete');
    });

    it('blocks the members of such a pool as having no group, and revokes nothing for it', async () => {
      const running = worker(1);
      const ec2 = new MemoryEc2([running]);
      ec2.groups.clear();
      const r = await report('reconcile', ec2);
      expect(r.targets[0]?.blocked.map((b) => [b.instanceId, b.reason])).toEqual([[running.instanceId, 'no-group']]);
      expect(r.summary).toMatchObject({ add: 0, revoke: 0, blocked: 1 });
    });

    it('goes on as before when AWS denies the listing, and warns that the groups were not checked and what permission to add', async () => {
      const ec2 = new MemoryEc2([worker(1)]);
      ec2.failGroupListing = denied();
      const r = await report('plan', ec2);
      expect(r.outcome).toBe('changes-pending');
      expect(r.errors).toEqual([]);
      expect(r.warnings).toEqual([
        'Could not check that the pool groups exist in us-east-1 (AWS denied ec2:DescribeSecurityGroups): a group that does not exist looks empty until AWS refuses a rule there. Add ec2:DescribeSecurityGroups to the role (`sgsync iam policy` prints it).',
      ]);
    });

    it('without the listing, is found when AWS refuses a rule there, and its rules go to another group of the pool', async () => {
      const members = [1, 2, 3, 4].map((n) => worker(n));
      const ec2 = new MemoryEc2(members);
      ec2.groups.delete(GROUP_A);
      ec2.failGroupListing = denied();
      const r = await report('reconcile', ec2);
      expect(ec2.rules.map((x) => x.groupId)).toEqual([GROUP_B, GROUP_B, GROUP_B]);
      expect(r.targets[0]?.add).toHaveLength(3);
      expect(r.targets[0]?.blocked).toHaveLength(1);
      expect(r.targets[0]?.missing).toEqual([GROUP_A]);
      // The first plan took the group for an empty one; its capacity line says what AWS said since.
      expect(r.targets[0]?.capacity.map((c) => [c.groupId, c.missing ?? false])).toEqual([[GROUP_A, true], [GROUP_B, false]]);
      expect(r.errors.map((e) => [e.code, e.groupId])).toEqual([['NOT_FOUND', GROUP_A]]);
    });
  });
});
