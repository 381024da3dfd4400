import { describe, expect, it } from 'vitest';
import { API_GROUP, DB_GROUP, FakeEc2, FakeInstance, WORKER, agentConfig, fakeDeps } from '../../test/support/agent-fakes.js';
import { parseConfig } from '../config/index.js';
import { SgsyncError } from '../core/errors.js';
import { register, registerOutcome } from './register.js';
import { deregister } from './deregister.js';
import { agentStatus } from './status.js';

/** A rule of this deployment for a target the configuration no longer has (it was renamed). */
function renamedTargetRule(ec2: FakeEc2): void {
  ec2.rules.set('sgr-00000000000000099', {
    ruleId: 'sgr-00000000000000099',
    groupId: API_GROUP,
    family: 'ipv4',
    protocol: 'tcp',
    fromPort: 443,
    toPort: 443,
    cidr: '52.95.9.9/32',
    // This instance's own rule from before the target was renamed: other instances' the agent leaves to the controller unsaid.
    tags: { 'sgsync:managed-by': 'prod', 'sgsync:target': 'old-api', 'sgsync:instance': WORKER.instanceId, 'sgsync:region': 'eu-west-1', 'sgsync:registered-at': '2029-12-31T00:00:00Z' },
  });
}

describe('an agent pass', () => {
  it("passes the planner's warnings on: a rule left alone for a target the configuration does not have", async () => {
    const ec2 = new FakeEc2();
    renamedTargetRule(ec2);
    const warnings: string[] = [];
    await register(fakeDeps(ec2, new FakeInstance(WORKER), agentConfig(), { onWarning: (w) => warnings.push(w) }));
    expect(warnings).toEqual([expect.stringMatching(/^rule sgr-00000000000000099 in sg-\w+ is managed by "prod" for unknown target "old-api"; it is left to fleet passes$/)]);
  });

  it('gives each warning once, not again at each look while waiting for the rules to be visible', async () => {
    const ec2 = new FakeEc2();
    ec2.lagging = true;
    renamedTargetRule(ec2);
    const warnings: string[] = [];
    const deps = fakeDeps(ec2, new FakeInstance(WORKER), agentConfig('waitSeconds: 5'), { onWarning: (w) => warnings.push(w) });
    await expect(register(deps, { wait: true })).rejects.toMatchObject({ code: 'AWS_UNAVAILABLE' });
    expect(ec2.calls.filter((c) => c === 'DescribeSecurityGroupRules').length).toBeGreaterThan(3);
    expect(warnings).toHaveLength(1);
  });
});

describe('an agent pass that AWS refuses for a while', () => {
  it('says so before each further round, with the refusal, and lands its rule in the end', async () => {
    const ec2 = new FakeEc2();
    // Both groups' calls of the first round, and one of the second.
    const throttled = () => new SgsyncError('THROTTLED', 'Rate exceeded', { retryable: true });
    ec2.authorizeFailures.push(throttled(), throttled(), throttled());
    const rounds: [number, number, string | undefined][] = [];
    const deps = fakeDeps(ec2, new FakeInstance(WORKER), agentConfig(), { onRound: (round, max, refusal) => rounds.push([round, max, refusal?.code]) });
    await register(deps);
    expect(rounds).toEqual([
      [2, 8, 'THROTTLED'],
      [3, 8, 'THROTTLED'],
    ]);
    expect(ec2.rulesOf(WORKER.instanceId)).toHaveLength(2);
  });
});

describe('the message of a refusal', () => {
  const noPublicAddress = { ...WORKER, publicIpv4: undefined };

  it('names the targets whose rules were authorized, and then those whose rules were already in place', async () => {
    const ec2 = new FakeEc2();
    const deps = fakeDeps(ec2, new FakeInstance(noPublicAddress));
    await expect(register(deps)).rejects.toMatchObject({ code: 'REFUSED', message: expect.stringMatching(/^target api: .*public IPv4.*\. Its rules for target db were authorized\.$/) });
    await expect(register(deps)).rejects.toMatchObject({ code: 'REFUSED', message: expect.stringMatching(/^target api: .*\. Its rules for target db were already in place\.$/) });
  });

  it('says nothing was authorized when no target admits the instance', async () => {
    const ec2 = new FakeEc2();
    const deps = fakeDeps(ec2, new FakeInstance({ ...noPublicAddress, privateIpv4: undefined }));
    await expect(register(deps)).rejects.toMatchObject({ code: 'REFUSED', message: expect.stringMatching(/\. Nothing was authorized\.$/) });
  });

  it('comes back beside the result, which holds what the pass changed', async () => {
    const ec2 = new FakeEc2();
    const { result, problem } = await registerOutcome(fakeDeps(ec2, new FakeInstance(noPublicAddress)));
    expect(problem?.code).toBe('REFUSED');
    expect(result.targets).toEqual(['api', 'db']);
    expect(result.changes.map((c) => [c.action, c.groupId])).toEqual([['authorize', DB_GROUP]]);
  });
});

describe('a pool group that does not exist', () => {
  const MISSING = 'sg-0dddddddddddddddd';
  const pool = (groups: string[]) =>
    parseConfig(
      ['deployment: prod', 'targets:', `  - { name: api, region: us-east-1, groups: [${groups.join(', ')}], ports: [443], members: { regions: [eu-west-1], tags: { role: worker } } }`, 'agent: { waitSeconds: 0 }'].join('\n'),
      'sgsync.yaml',
    );

  it("admits the instance to another group of the pool once AWS says its own does not exist, and warns naming the group's place in the configuration", async () => {
    const ec2 = new FakeEc2();
    ec2.missingGroups.add(MISSING);
    const warnings: string[] = [];
    // The worker's id picks the second group of two.
    await register(fakeDeps(ec2, new FakeInstance(WORKER), pool([API_GROUP, MISSING]), { onWarning: (w) => warnings.push(w) }));
    expect(ec2.rulesOf(WORKER.instanceId).map((r) => r.groupId)).toEqual([API_GROUP]);
    expect(warnings).toEqual([expect.stringMatching(/^Security group sg-0dddddddddddddddd \(targets\[0\]\.groups\[1\] in sgsync\.yaml\) does not exist in us-east-1; nothing is placed in it\. Correct the id/)]);
  });

  it('fails with NOT_FOUND, naming the groups and their keys, when no group of the pool exists', async () => {
    const ec2 = new FakeEc2();
    ec2.missingGroups.add(MISSING);
    const { problem } = await registerOutcome(fakeDeps(ec2, new FakeInstance(WORKER), pool([MISSING])));
    expect(problem).toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/^No group of the pool of target api exists, so i-0123456789abcdef0 cannot be admitted: Security group sg-0dddddddddddddddd \(targets\[0\]\.groups\[0\] in sgsync\.yaml\) does not exist in us-east-1\./),
    });
  });
});

describe('a retired group', () => {
  const RETIRED = 'sg-0eeeeeeeeeeeeeee5';
  const OTHER = 'i-0fedcba9876543210';
  const retiring = parseConfig(
    ['deployment: prod', 'targets:', `  - { name: api, region: us-east-1, groups: [${API_GROUP}], retiredGroups: [${RETIRED}], ports: [443], members: { regions: [eu-west-1], tags: { role: worker } } }`, 'agent: { waitSeconds: 0 }'].join('\n'),
    'sgsync.yaml',
  );
  /** A rule of `instanceId` in the retired group, from before the group was retired. */
  const oldRule = (ec2: FakeEc2, ruleId: string, instanceId: string, cidr: string) =>
    ec2.rules.set(ruleId, {
      ruleId, groupId: RETIRED, family: 'ipv4', protocol: 'tcp', fromPort: 443, toPort: 443, cidr,
      tags: { 'sgsync:managed-by': 'prod', 'sgsync:target': 'api', 'sgsync:instance': instanceId, 'sgsync:region': 'eu-west-1', 'sgsync:registered-at': '2029-01-01T00:00:00Z' },
    });

  it("gets the instance's rule into the pool before revoking its own rule there, and leaves other instances' rules to the controller", async () => {
    const ec2 = new FakeEc2();
    oldRule(ec2, 'sgr-00000000000000081', WORKER.instanceId, '52.95.0.1/32');
    oldRule(ec2, 'sgr-00000000000000082', OTHER, '52.95.0.2/32');
    const result = await register(fakeDeps(ec2, new FakeInstance(WORKER), retiring));
    expect(result.changes.map((c) => [c.action, c.groupId, c.reason])).toEqual([
      ['authorize', API_GROUP, 'member'],
      ['revoke', RETIRED, 'group-retired'],
    ]);
    expect(ec2.rulesOf(WORKER.instanceId).map((r) => r.groupId)).toEqual([API_GROUP]);
    expect(ec2.rulesOf(OTHER).map((r) => r.ruleId)).toEqual(['sgr-00000000000000082']);
  });

  it('says in status which of its rules sits in a retired group', async () => {
    const ec2 = new FakeEc2();
    oldRule(ec2, 'sgr-00000000000000081', WORKER.instanceId, '52.95.0.1/32');
    const st = await agentStatus(fakeDeps(ec2, new FakeInstance(WORKER), retiring));
    expect(st.rules.map((r) => [r.groupId, r.retired])).toEqual([[RETIRED, true]]);
    expect(st.drift).toBe(true);
  });

  it('never places a new rule there', async () => {
    const ec2 = new FakeEc2();
    await register(fakeDeps(ec2, new FakeInstance(WORKER), retiring));
    expect(ec2.rulesOf(WORKER.instanceId).map((r) => r.groupId)).toEqual([API_GROUP]);
  });

  it('revokes its own rule there on deregistration', async () => {
    const ec2 = new FakeEc2();
    oldRule(ec2, 'sgr-00000000000000081', WORKER.instanceId, '52.95.0.1/32');
    await deregister(fakeDeps(ec2, new FakeInstance(WORKER), retiring));
    expect(ec2.rulesOf(WORKER.instanceId)).toEqual([]);
  });
});
