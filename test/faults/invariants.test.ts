import { AuthorizeSecurityGroupIngressCommand, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEPLOYMENT, FaultFleet, PRIMARY } from './fault-fleet.js';

/*
 * The checker itself, shown to fail: each case breaks one invariant by hand
 * and expects the message to name it. A checker that never complains would
 * make every fault case pass.
 */
let fleet: FaultFleet;
let member: string;
let ip: string;

async function authorize(groupId: string, cidr: string, instanceId: string): Promise<string> {
  const out = await fleet.fleet.ec2(PRIMARY).send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: groupId,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: cidr }] }],
      TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: 'sgsync:managed-by', Value: DEPLOYMENT }, { Key: 'sgsync:instance', Value: instanceId }] }],
    }),
  );
  return out.SecurityGroupRules![0]!.SecurityGroupRuleId!;
}

const revoke = (groupId: string, ruleId: string) => fleet.fleet.ec2(PRIMARY).send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: [ruleId] }));

beforeEach(async () => {
  fleet = await FaultFleet.start({ seed: 99 });
  member = (await fleet.launch('eu-west-1', 1))[0]!;
  ip = fleet.sandbox.world.region('eu-west-1')!.instances.get(member)!.publicIp!;
});
afterEach(() => fleet.close());

describe('the invariant checker', () => {
  it('passes a sound world: the member admitted once, foreign rules untouched, the change logged', async () => {
    const before = fleet.view();
    const ruleId = await authorize(fleet.pool[0]!, `${ip}/32`, member);
    expect(fleet.check({ before, changes: [{ action: 'authorize', group: fleet.pool[0]!, ruleId, cidr: `${ip}/32`, instance: member }], converged: true })).toEqual([]);
  });

  it('names invariant 1 when a live member has no rule', () => {
    expect(fleet.check()).toEqual([expect.stringMatching(/^\[1 admitted\] member .* has 0 managed rules/)]);
  });

  it('names invariants 1 and 4 when a member is admitted twice across the pool', async () => {
    await authorize(fleet.pool[0]!, `${ip}/32`, member);
    await authorize(fleet.pool[1]!, `${ip}/32`, member);
    const v = fleet.check();
    expect(v).toContainEqual(expect.stringMatching(/^\[1 admitted\] .* has 2 managed rules/));
    expect(v).toContainEqual(expect.stringMatching(/^\[4 duplicates\] target api: 2 managed rules/));
  });

  it('names invariant 2 when an admitted member loses its rule for a moment, even if it comes back', async () => {
    const ruleId = await authorize(fleet.pool[0]!, `${ip}/32`, member);
    const watch = fleet.watch();
    await revoke(fleet.pool[0]!, ruleId);
    await authorize(fleet.pool[0]!, `${ip}/32`, member);
    const samples = watch.stop();
    expect(fleet.check({ samples })).toEqual([expect.stringMatching(/^\[2 never lost\] member .* lost its rule/)]);
  });

  it('names invariant 3 when a foreign rule is revoked', async () => {
    await authorize(fleet.pool[0]!, `${ip}/32`, member);
    const before = fleet.view();
    const office = before.rules.find((r) => r.cidr === '198.51.100.0/24')!;
    await revoke(office.groupId, office.id);
    expect(fleet.check({ before })).toEqual([expect.stringMatching(/^\[3 foreign\] foreign rule changed or gone: .*198\.51\.100\.0\/24/)]);
  });

  it('names invariant 5 when a group holds more rules than its quota', async () => {
    await authorize(fleet.pool[0]!, `${ip}/32`, member);
    fleet.sandbox.world.region(PRIMARY)!.groups.get(fleet.pool[0]!)!.quota = 2;
    expect(fleet.check()).toEqual([expect.stringMatching(/^\[5 quota\] group .* holds 3 ipv4 rules, over its quota of 2/)]);
  });

  it('names invariant 6 when a change has no line, and when a line has no change', async () => {
    const before = fleet.view();
    await authorize(fleet.pool[0]!, `${ip}/32`, member);
    expect(fleet.check({ before, changes: [] })).toEqual([expect.stringMatching(/^\[6 audit\] rule .* appeared with no authorize line/)]);
    const phantom = { action: 'revoke' as const, group: fleet.pool[1]!, ruleId: 'sgr-0123456789abcdef0', cidr: '203.0.113.9/32', instance: 'i-0123456789abcdef0' };
    expect(fleet.check({ before, changes: [phantom], changesComplete: false })).toEqual([expect.stringMatching(/^\[6 audit\] logged revoke sgr-0123456789abcdef0 .* but no such rule existed/)]);
  });

  it('names a stale managed rule when convergence is required', async () => {
    await authorize(fleet.pool[0]!, `${ip}/32`, member);
    await authorize(fleet.pool[1]!, '203.0.113.9/32', 'i-0123456789abcdef0');
    expect(fleet.check({ converged: true })).toEqual([expect.stringMatching(/^\[converged\] managed rule .*203\.0\.113\.9\/32 .* admits no live member/)]);
  });
});
