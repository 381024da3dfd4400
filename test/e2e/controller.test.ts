import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { killStragglers, parseReport, PRIMARY, rulesByInstance, startFleet, type Fleet } from './controller-fleet.js';

let fleet: Fleet | undefined;
afterEach(async () => {
  killStragglers();
  await fleet?.close();
  fleet = undefined;
});

async function publicIp(f: Fleet, region: string, id: string): Promise<string | undefined> {
  const out = await f.ec2(region).send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  return out.Reservations?.[0]?.Instances?.[0]?.PublicIpAddress;
}

/** A managed rule for an instance sgsync cannot see, registered at the given time (as an agent would have made it). */
async function ruleFor(f: Fleet, instanceId: string, registeredAt: Date, cidr: string): Promise<string> {
  const tags = { 'sgsync:managed-by': 'e2e', 'sgsync:target': 'api', 'sgsync:instance': instanceId, 'sgsync:region': 'eu-west-1', 'sgsync:registered-at': registeredAt.toISOString() };
  const out = await f.ec2(PRIMARY).send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: f.pool[1],
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: cidr, Description: `sgsync e2e/api ${instanceId} eu-west-1` }] }],
      TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
    }),
  );
  return out.SecurityGroupRules![0]!.SecurityGroupRuleId!;
}

/** Makes chosen calls fail, through the sandbox's control API. */
async function faults(f: Fleet, rules: unknown[]): Promise<void> {
  const res = await fetch(`${f.url}/_sandbox/faults`, { method: 'PUT', body: JSON.stringify({ rules }) });
  expect(res.status).toBe(200);
}

describe('sgsync plan and reconcile', () => {
  it('plans, admits every member in one pass, audits each change, leaves foreign rules alone and then has nothing to do', async () => {
    const f = (fleet = await startFleet());
    const eu = await f.launch('eu-west-1', 3);
    const ap = await f.launch('ap-southeast-2', 2);
    await f.launch('eu-west-1', 2, { role: 'db' });

    const plan = await f.sgsync(['plan', '--json']);
    expect(plan.code).toBe(10);
    const planned = parseReport(plan);
    expect(planned.targets[0]!.add.map((a) => a.instanceId).sort()).toEqual([...eu, ...ap].sort());
    expect(planned.targets[0]!.foreign).toEqual(
      expect.arrayContaining([expect.objectContaining({ cidr: '0.0.0.0/0', dangerous: true }), expect.objectContaining({ cidr: '198.51.100.0/24', dangerous: false })]),
    );
    expect(await f.poolRules()).toHaveLength(2);

    const audit = join(f.dir, 'audit.jsonl');
    const applied = await f.sgsync(['reconcile', '--audit-log', audit]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('applied: 5 added, 0 revoked');
    expect(applied.stdout).toMatch(/foreign +\S+ +\S+ +0\.0\.0\.0\/0 +443\/tcp +OPEN TO THE WORLD/);
    const lines = readFileSync(audit, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.action, l.instance, l.reason]).sort()).toEqual([...eu, ...ap].map((id) => ['authorize', id, 'member']).sort());
    expect(lines.every((l) => typeof l.ruleId === 'string' && typeof l.passId === 'string' && l.group === f.pool[0])).toBe(true);

    const rules = await f.poolRules();
    expect([...rulesByInstance(rules)].sort()).toEqual([...eu, ...ap].map((id) => [id, 1]).sort());
    expect(rules.filter((r) => r.CidrIpv4 === '0.0.0.0/0' || r.CidrIpv4 === '198.51.100.0/24')).toHaveLength(2);

    const again = await f.sgsync(['plan']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('in-sync: 0 to add, 0 to revoke');
  });

  it('revokes the rules of terminated, stopped, re-addressed, untagged and vanished instances in one pass, and admits new members', async () => {
    const f = (fleet = await startFleet());
    const [terminated, stopped, readdressed, untagged, crashed, steady] = await f.launch('eu-west-1', 6);
    expect((await f.sgsync(['reconcile'])).code).toBe(0);
    const oldIp = await publicIp(f, 'eu-west-1', readdressed!);

    const eu = f.ec2('eu-west-1');
    await eu.send(new TerminateInstancesCommand({ InstanceIds: [crashed!] }));
    await eu.send(new StopInstancesCommand({ InstanceIds: [stopped!, readdressed!] }));
    await eu.send(new StartInstancesCommand({ InstanceIds: [readdressed!] }));
    await eu.send(new DeleteTagsCommand({ Resources: [untagged!], Tags: [{ Key: 'role' }] }));
    // The crashed instance registered long ago and has since dropped out of DescribeInstances (terminated over an hour ago).
    const crashedRule = (await f.poolRules()).find((r) => r.Description?.includes(crashed!))!;
    await f.ec2(PRIMARY).send(new CreateTagsCommand({ Resources: [crashedRule.SecurityGroupRuleId!], Tags: [{ Key: 'sgsync:registered-at', Value: new Date(Date.now() - 7_200_000).toISOString() }] }));
    f.running.sandbox.world.clock.advance(2 * 3_600_000);
    await eu.send(new TerminateInstancesCommand({ InstanceIds: [terminated!] })); // still visible: terminated just now
    const [newcomer] = await f.launch('ap-southeast-2', 1);
    const newIp = await publicIp(f, 'eu-west-1', readdressed!);
    expect(newIp).not.toBe(oldIp);

    const run = await f.sgsync(['reconcile', '--json']);
    expect(run.code).toBe(0);
    const report = parseReport(run);
    expect(Object.fromEntries(report.targets[0]!.revoke.map((r) => [r.instanceId, r.reason]))).toEqual({
      [terminated!]: 'instance-terminated',
      [stopped!]: 'instance-stopped',
      [readdressed!]: 'address-changed',
      [untagged!]: 'not-selected',
      [crashed!]: 'instance-gone',
    });
    expect(report.targets[0]!.add.map((a) => [a.instanceId, a.cidr]).sort()).toEqual([[newcomer!, expect.any(String) as unknown], [readdressed!, `${newIp}/32`]].sort());

    const rules = rulesByInstance(await f.poolRules());
    expect([...rules].sort()).toEqual([[newcomer!, 1], [readdressed!, 1], [steady!, 1]].sort());
    expect((await f.sgsync(['plan'])).code).toBe(0);
  });
});

describe('what a pass lists', () => {
  it('lists only the instances the selectors may admit, looks up by id those the rules name, and the views still show every instance', async () => {
    const f = (fleet = await startFleet());
    const [member, untagged] = await f.launch('eu-west-1', 2);
    await f.launch('eu-west-1', 3, { role: 'web' });
    const describes = () => f.running.sandbox.counters.snapshot()['eu-west-1']?.DescribeInstances?.calls ?? 0;

    let before = describes();
    const first = parseReport(await f.sgsync(['reconcile', '--json']));
    expect(first.regions.find((r) => r.region === 'eu-west-1')?.instances).toBe(2);
    expect(describes() - before).toBe(1);

    await f.ec2('eu-west-1').send(new DeleteTagsCommand({ Resources: [untagged!], Tags: [{ Key: 'role' }] }));
    before = describes();
    const second = parseReport(await f.sgsync(['reconcile', '--json']));
    // The listing, then one lookup of the instance a rule names that the listing left out.
    expect(describes() - before).toBe(2);
    expect(second.targets[0]!.revoke.map((r) => [r.instanceId, r.reason])).toEqual([[untagged, 'not-selected']]);
    expect([...rulesByInstance(await f.poolRules()).keys()]).toEqual([member]);

    const view = JSON.parse((await f.sgsync(['inventory', '--json'])).stdout) as { regions: { region: string; instances: number }[] };
    expect(view.regions.find((r) => r.region === 'eu-west-1')?.instances).toBe(5);
  });

  it("lists without the filter of a tag value longer than EC2's filter values may be, and the selector still decides", async () => {
    // AWS lets a tag value be 256 characters long, one more than a filter value.
    const team = 't'.repeat(256);
    const f = (fleet = await startFleet({ memberTags: `{ role: worker, team: ${team} }` }));
    const [member] = await f.launch('eu-west-1', 1, { team });
    const [other] = await f.launch('eu-west-1', 1, { team: 'other' });
    const run = await f.sgsync(['reconcile', '--json']);
    expect(run.code).toBe(0);
    const report = parseReport(run);
    expect(report.regions.map((r) => r.status)).toEqual(['complete', 'complete']);
    // Listed by the role filter alone, both workers; admitted, only the one of the team.
    expect(report.regions.find((r) => r.region === 'eu-west-1')?.instances).toBe(2);
    expect([...rulesByInstance(await f.poolRules()).keys()]).toEqual([member]);
    expect(report.targets[0]!.add.map((a) => a.instanceId)).not.toContain(other);
  });
});

describe('two targets sharing a group', () => {
  it('tags each target\'s rules with its target, so the next pass knows them all and revokes a terminated member\'s', async () => {
    const f = (fleet = await startFleet());
    // A second target, of ap-southeast-2's web instances, sharing the pool's first group.
    const yaml = readFileSync(f.config, 'utf8').replace(
      /^safety:/m,
      `  - name: web\n    region: ${PRIMARY}\n    groups: [${f.pool[0]}]\n    ports: [443/tcp]\n    members: { regions: [ap-southeast-2], tags: { role: web } }\nsafety:`,
    );
    writeFileSync(f.config, yaml);
    await f.launch('eu-west-1', 2);
    const [web] = await f.launch('ap-southeast-2', 2, { role: 'web' });
    const first = await f.sgsync(['reconcile', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const rules = (await f.poolRules()).filter((r) => (r.Tags ?? []).some((t) => t.Key === 'sgsync:managed-by'));
    expect(rules).toHaveLength(4);
    for (const r of rules) expect((r.Tags ?? []).map((t) => t.Key)).toContain('sgsync:target');

    const again = await f.sgsync(['plan', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(parseReport(again)).toMatchObject({ outcome: 'in-sync', warnings: [] });

    await f.ec2('ap-southeast-2').send(new TerminateInstancesCommand({ InstanceIds: [web!] }));
    const gone = parseReport(await f.sgsync(['reconcile', '--json']));
    expect(gone.targets.flatMap((t) => t.revoke.map((r) => [t.name, r.instanceId, r.reason]))).toEqual([['web', web, 'instance-terminated']]);
  });
});

describe('sgsync reconcile keeps what it cannot prove stale', () => {
  it('keeps the rules of a region whose inventory failed, says why, does the rest and exits with the region\'s error', async () => {
    const f = (fleet = await startFleet());
    const [euGone] = await f.launch('eu-west-1', 2);
    const [apGone] = await f.launch('ap-southeast-2', 2);
    expect((await f.sgsync(['reconcile'])).code).toBe(0);
    await f.ec2('eu-west-1').send(new TerminateInstancesCommand({ InstanceIds: [euGone!] }));
    await f.ec2('ap-southeast-2').send(new TerminateInstancesCommand({ InstanceIds: [apGone!] }));
    await faults(f, [{ action: 'DescribeInstances', region: 'ap-southeast-2', error: { code: 'UnauthorizedOperation' } }]);

    const run = await f.sgsync(['reconcile', '--json']);
    expect(run.code).toBe(4);
    const report = parseReport(run);
    expect(report.regions.find((r) => r.region === 'ap-southeast-2')).toMatchObject({ status: 'failed', code: 'PERMISSION_DENIED' });
    expect(report.targets[0]!.revoke.map((r) => r.instanceId)).toEqual([euGone]);
    expect(report.targets[0]!.kept.filter((k) => k.instanceId === apGone)).toEqual([
      expect.objectContaining({ reason: 'region-unavailable', detail: expect.stringContaining('inventory of ap-southeast-2 failed') as unknown }),
    ]);
    expect(rulesByInstance(await f.poolRules()).get(apGone!)).toBe(1);

    const text = await f.sgsync(['plan']);
    expect(text.code).toBe(4);
    expect(text.stdout).toContain('Inventory of ap-southeast-2 failed');
    expect(text.stdout).toContain('rules of its instances were kept');
  });

  it('exits 4 and names the profile when --profile names one the AWS config files do not define', async () => {
    const f = (fleet = await startFleet());
    const run = await f.sgsync(['plan', '--profile', 'nosuch'], { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' });
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr).toMatch(/^sgsync: No AWS credentials were found for \w+ in [a-z0-9-]+.* in the profile "nosuch"\. Check that ~\/\.aws\/config/m);
  });

  it('exits 6 when AWS keeps failing in a region, after retrying, and still keeps that region\'s rules', async () => {
    const f = (fleet = await startFleet());
    const [apMember] = await f.launch('ap-southeast-2', 1);
    expect((await f.sgsync(['reconcile'])).code).toBe(0);
    await f.ec2('ap-southeast-2').send(new TerminateInstancesCommand({ InstanceIds: [apMember!] }));
    await faults(f, [{ action: 'DescribeInstances', region: 'ap-southeast-2', unavailableRate: 1 }]);

    const run = await f.sgsync(['reconcile', '--json']);
    expect(run.code).toBe(6);
    expect(parseReport(run).targets[0]!.kept).toEqual([expect.objectContaining({ instanceId: apMember, reason: 'region-unavailable' })]);
    expect(f.running.sandbox.counters.snapshot()['ap-southeast-2']?.DescribeInstances?.faulted).toBeGreaterThan(1);
    expect(rulesByInstance(await f.poolRules()).get(apMember!)).toBe(1);
  });

  it('revokes nothing and exits 8 when a pass would revoke more than the limit; --force then revokes', async () => {
    const f = (fleet = await startFleet({ extra: 'safety: { revokeLimit: { count: 2, fraction: 1 } }' }));
    const ids = await f.launch('eu-west-1', 4);
    expect((await f.sgsync(['reconcile'])).code).toBe(0);
    await f.ec2('eu-west-1').send(new TerminateInstancesCommand({ InstanceIds: ids.slice(0, 3) }));

    const plan = await f.sgsync(['plan']);
    expect(plan.code).toBe(8);
    expect(plan.stdout).toContain('HALTED by the blast radius: the pass would revoke 3 of 4 managed rules (3 instance-terminated); the limit is 2. A reconcile would revoke none of them.');
    // Each rule held back still says why it is stale, in the table and as data.
    for (const id of ids.slice(0, 3)) expect(plan.stdout).toMatch(new RegExp(`kept .*${id} .*blast-radius: .*; this rule would be revoked as instance-terminated`));
    const planned = parseReport(await f.sgsync(['plan', '--json']));
    expect(planned.targets[0]!.kept.map((k) => [k.instanceId, k.reason, k.wouldRevoke]).sort()).toEqual(ids.slice(0, 3).map((id) => [id, 'blast-radius', 'instance-terminated']).sort());

    const halted = await f.sgsync(['reconcile']);
    expect(halted.code).toBe(8);
    expect(halted.stdout).toContain('None of them was revoked');
    expect(halted.stdout).toContain('sgsync reconcile --force');
    expect(rulesByInstance(await f.poolRules()).size).toBe(4);

    const forced = await f.sgsync(['reconcile', '--force', '--json']);
    expect(forced.code).toBe(0);
    expect(parseReport(forced).targets[0]!.revoke.map((r) => r.reason)).toEqual(['instance-terminated', 'instance-terminated', 'instance-terminated']);
    expect([...rulesByInstance(await f.poolRules()).keys()]).toEqual([ids[3]]);
  });

  it('keeps a rule younger than the grace period whose instance is not visible, and revokes it once it is older', async () => {
    const f = (fleet = await startFleet());
    const young = await ruleFor(f, 'i-0aaaaaaaaaaaaaaa1', new Date(), '203.0.113.1/32');
    const old = await ruleFor(f, 'i-0aaaaaaaaaaaaaaa2', new Date(Date.now() - 3_600_000), '203.0.113.2/32');

    const first = parseReport(await f.sgsync(['reconcile', '--json']));
    expect(first.targets[0]!.revoke).toEqual([expect.objectContaining({ ruleId: old, reason: 'instance-gone' })]);
    expect(first.targets[0]!.kept).toEqual([expect.objectContaining({ ruleId: young, reason: 'grace' })]);

    // Time passes for the rule: it was registered well over the grace period ago.
    await f.ec2(PRIMARY).send(new CreateTagsCommand({ Resources: [young], Tags: [{ Key: 'sgsync:registered-at', Value: new Date(Date.now() - 600_000).toISOString() }] }));
    const second = parseReport(await f.sgsync(['reconcile', '--json']));
    expect(second.targets[0]!.revoke).toEqual([expect.objectContaining({ ruleId: young, reason: 'instance-gone' })]);
    expect(rulesByInstance(await f.poolRules()).size).toBe(0);
  });

  it('reports members that fit nowhere in a full pool as blocked, evicts nobody and exits 5', async () => {
    // Quota 3 per group: the first group also holds the two foreign rules, so the pool has room for four members.
    const f = (fleet = await startFleet({ quota: 3 }));
    for (const g of f.pool) await fetch(`${f.url}/_sandbox/quotas`, { method: 'POST', body: JSON.stringify({ region: PRIMARY, groupId: g, quota: 3 }) });
    const first = await f.launch('eu-west-1', 4);
    expect((await f.sgsync(['reconcile'])).code).toBe(0);
    const late = await f.launch('ap-southeast-2', 2);

    const run = await f.sgsync(['reconcile', '--json']);
    expect(run.code).toBe(5);
    const report = parseReport(run);
    expect(report.targets[0]!.blocked.map((b) => b.instanceId).sort()).toEqual([...late].sort());
    expect(report.summary).toMatchObject({ add: 0, revoke: 0, blocked: 2 });
    expect([...rulesByInstance(await f.poolRules()).keys()].sort()).toEqual([...first].sort());
    expect(report.targets[0]!.capacity.map((c) => [c.before, c.after])).toEqual([[3, 3], [3, 3]]);
  });
});
