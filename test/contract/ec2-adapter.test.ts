import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, CreateVpcCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Ec2Adapter } from '../../src/aws/ec2-adapter.js';
import { ControllerMetrics } from '../../src/controller/metrics.js';
import { ruleDescription } from '../../src/core/description.js';
import { SgsyncError } from '../../src/core/errors.js';
import { mapLimit } from '../../src/core/limit.js';
import type { GroupBatch, PlannedRevoke, PlannedRule } from '../../src/core/model.js';
import { ownershipTags } from '../../src/core/ownership.js';
import { faultsConfigSchema } from '../../src/sandbox/faults.js';
import { Params } from '../../src/sandbox/query.js';
import { startTestSandbox, type TestSandbox } from './helpers.js';

// The adapter takes credentials from the SDK's default chain, as it does in production.
process.env.AWS_ACCESS_KEY_ID = 'AKIDSANDBOX';
process.env.AWS_SECRET_ACCESS_KEY = 'sandbox';

let sb: TestSandbox;
let vpcId: string;
let groupNo = 0;

beforeAll(async () => {
  sb = await startTestSandbox({ seed: 31, log: () => undefined });
  vpcId = (await sb.ec2().send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }))).Vpc!.VpcId!;
});
afterAll(() => sb.close());
afterEach(() => {
  sb.sandbox.faults.set({ rules: [] });
  sb.sandbox.throttle.mode = { kind: 'off' };
});

const adapter = (maxAttempts = 1) => new Ec2Adapter({ endpoint: sb.url, maxAttempts });

async function group(quota?: number): Promise<string> {
  const id = (await sb.ec2().send(new CreateSecurityGroupCommand({ GroupName: `g${groupNo++}`, Description: 'pool', VpcId: vpcId }))).GroupId!;
  if (quota !== undefined) sb.sandbox.world.region('us-east-1')!.groups.get(id)!.quota = quota;
  return id;
}

/** A batch admitting `hosts` (the last octet of 203.0.113.x) on tcp 443, as the planner builds it. */
function batch(groupId: string, hosts: number[]): GroupBatch<PlannedRule> {
  const items = hosts.map((h): PlannedRule => {
    const rule = { target: 'api', instanceId: `i-0000000000000${String(h).padStart(4, '0')}`, memberRegion: 'eu-west-1' };
    return {
      ...rule,
      family: 'ipv4',
      port: { protocol: 'tcp', fromPort: 443, toPort: 443 },
      cidr: `203.0.113.${h}/32`,
      groupId,
      description: ruleDescription('prod', rule),
      tags: ownershipTags('prod', rule, '2026-01-01T00:00:00.000Z'),
    };
  });
  return { groupId, region: 'us-east-1', items };
}

function revokes(groupId: string, ruleIds: string[]): GroupBatch<PlannedRevoke> {
  return { groupId, region: 'us-east-1', items: ruleIds.map((ruleId) => ({ ruleId, groupId, target: 'api', family: 'ipv4', port: { protocol: 'tcp', fromPort: 443, toPort: 443 }, reason: 'deregistered' })) };
}

const calls = (ec2: Ec2Adapter, action: string) => ec2.clients.stats.total({ action });

/** The samples of an exposition text, by series. */
function metricSamples(text: string): Map<string, number> {
  const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
  return new Map(lines.map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]));
}

describe('Ec2Adapter against the sandbox', () => {
  it('authorizes a batch in one call, with the shared tags on every rule and each member in its description', async () => {
    const g = await group();
    const ec2 = adapter();
    const out = await ec2.authorize(batch(g, [1, 2, 3]));
    expect(calls(ec2, 'AuthorizeSecurityGroupIngress')).toBe(1);
    expect(out.duplicate).toBe(false);
    expect(out.created.map((c) => c.cidr).sort()).toEqual(['203.0.113.1/32', '203.0.113.2/32', '203.0.113.3/32']);

    const observed = await ec2.listRules('us-east-1', [g]);
    expect(observed.map((r) => r.ruleId).sort()).toEqual(out.created.map((c) => c.ruleId).sort());
    for (const r of observed) {
      expect(r.tags).toEqual({ 'sgsync:managed-by': 'prod', 'sgsync:target': 'api', 'sgsync:region': 'eu-west-1', 'sgsync:registered-at': '2026-01-01T00:00:00.000Z' });
      expect(r.description).toMatch(/^sgsync prod\/api i-0+\d+ eu-west-1$/);
    }
  });

  it('tags a single-member batch with its instance too', async () => {
    const g = await group();
    const ec2 = adapter();
    await ec2.authorize(batch(g, [9]));
    const [rule] = await ec2.listRules('us-east-1', [g]);
    expect(rule?.tags['sgsync:instance']).toBe('i-00000000000000009');
  });

  it('reports a duplicate instead of throwing, and adds nothing', async () => {
    const g = await group();
    const ec2 = adapter();
    await ec2.authorize(batch(g, [1]));
    expect(await ec2.authorize(batch(g, [1, 2]))).toEqual({ created: [], duplicate: true });
    expect((await ec2.listRules('us-east-1', [g])).map((r) => r.cidr)).toEqual(['203.0.113.1/32']);
  });

  it('revokes by rule ids in one call; a missing id is reported, and then nothing is revoked', async () => {
    const g = await group();
    const ec2 = adapter();
    const created = (await ec2.authorize(batch(g, [1, 2, 3]))).created.map((c) => c.ruleId);
    expect(await ec2.revoke(revokes(g, created.slice(0, 2)))).toEqual({ revoked: created.slice(0, 2), notFound: false });
    expect(calls(ec2, 'RevokeSecurityGroupIngress')).toBe(1);
    expect(await ec2.revoke(revokes(g, [created[2]!, created[0]!]))).toEqual({ revoked: [], notFound: true });
    expect((await ec2.listRules('us-east-1', [g])).map((r) => r.ruleId)).toEqual([created[2]]);
  });

  it('counts the answers that mean a change is already made apart from errors, so the errors metric does not rise on a race', async () => {
    const g = await group();
    const ec2 = adapter();
    const created = (await ec2.authorize(batch(g, [1]))).created.map((c) => c.ruleId);
    expect((await ec2.authorize(batch(g, [1]))).duplicate).toBe(true);
    expect(await ec2.revoke(revokes(g, created))).toEqual({ revoked: created, notFound: false });
    expect((await ec2.revoke(revokes(g, created))).notFound).toBe(true);
    // EC2's other name for a rule already revoked.
    sb.sandbox.faults.set(faultsConfigSchema.parse({ rules: [{ action: 'RevokeSecurityGroupIngress', error: { code: 'InvalidPermission.NotFound', rate: 1 } }] }));
    expect((await ec2.revoke(revokes(g, created))).notFound).toBe(true);
    sb.sandbox.faults.set({ rules: [] });
    // A group that does not exist is an error all the same.
    await expect(ec2.authorize(batch('sg-0000000000000dead', [2]))).rejects.toThrow(/does not exist/);

    const s = metricSamples(new ControllerMetrics().render(0, ec2.clients.stats.entries()));
    const at = (name: string, action: string) => s.get(`${name}{region="us-east-1",action="${action}"}`);
    expect(at('sgsync_aws_api_calls_total', 'AuthorizeSecurityGroupIngress')).toBe(3);
    expect(at('sgsync_aws_api_already_done_total', 'AuthorizeSecurityGroupIngress')).toBe(1);
    expect(at('sgsync_aws_api_errors_total', 'AuthorizeSecurityGroupIngress')).toBe(1);
    expect(at('sgsync_aws_api_calls_total', 'RevokeSecurityGroupIngress')).toBe(3);
    expect(at('sgsync_aws_api_already_done_total', 'RevokeSecurityGroupIngress')).toBe(2);
    expect(at('sgsync_aws_api_errors_total', 'RevokeSecurityGroupIngress')).toBeUndefined();
  });

  it('pages through more than 1000 rules and more than 1000 instances', async () => {
    const g = await group(1100);
    for (let start = 0; start < 1100; start += 100) {
      const ranges = Array.from({ length: 100 }, (_, i) => ({ CidrIp: `198.18.${Math.floor((start + i) / 250)}.${(start + i) % 250}/32` }));
      await sb.ec2().send(new AuthorizeSecurityGroupIngressCommand({ GroupId: g, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: ranges }] }));
    }
    await sb.ec2('ap-south-1').send(new RunInstancesCommand({ ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.micro', MinCount: 1000, MaxCount: 1000 }));
    await sb.ec2('ap-south-1').send(new RunInstancesCommand({ ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.micro', MinCount: 5, MaxCount: 5 }));

    const ec2 = adapter();
    const rules = await ec2.listRules('us-east-1', [g]);
    expect(rules).toHaveLength(1100);
    expect(new Set(rules.map((r) => r.cidr)).size).toBe(1100);
    expect(calls(ec2, 'DescribeSecurityGroupRules')).toBe(2);
    const members = await ec2.listMembers('ap-south-1');
    expect(members).toHaveLength(1005);
    expect(new Set(members.map((m) => m.instanceId)).size).toBe(1005);
    expect(calls(ec2, 'DescribeInstances')).toBe(2);
  });
});

describe('Ec2Adapter finds which pool groups exist', () => {
  it('lists those of the given groups that exist, in one DescribeSecurityGroups call, without failing on the others', async () => {
    const [a, b] = [await group(), await group()];
    const ec2 = adapter();
    const found = await ec2.existingGroups('us-east-1', [a, 'sg-0123456789abcdef0', b]);
    expect([...found].sort()).toEqual([a, b].sort());
    expect(calls(ec2, 'DescribeSecurityGroups')).toBe(1);
  });

  it('finds none of a group that lives in another region', async () => {
    const west = (await sb.ec2('eu-west-1').send(new CreateSecurityGroupCommand({ GroupName: `west${groupNo++}`, Description: 'elsewhere' }))).GroupId!;
    expect(await adapter().existingGroups('us-east-1', [west])).toEqual([]);
  });

  it('asks about at most 200 groups a call, EC2\'s limit on filter values', async () => {
    const many = await mapLimit(Array.from({ length: 230 }, () => 0), 8, () => group());
    const ec2 = adapter();
    const found = await ec2.existingGroups('us-east-1', [...many, 'sg-0fffffffffffffff0']);
    expect(new Set(found)).toEqual(new Set(many));
    expect(calls(ec2, 'DescribeSecurityGroups')).toBe(2);
  });

  it('reports a denial as PERMISSION_DENIED naming the action, for the pass to go on without the check', async () => {
    sb.sandbox.faults.set({ rules: [{ action: 'DescribeSecurityGroups', region: '*', error: { code: 'UnauthorizedOperation', rate: 1 }, internalErrorRate: 0, unavailableRate: 0, latencyMs: 0, jitterMs: 0, dropRate: 0 }] });
    const error = await adapter().existingGroups('us-east-1', [await group()]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PERMISSION_DENIED', retryable: false });
    expect((error as Error).message).toMatch(/AWS denied ec2:DescribeSecurityGroups in us-east-1/);
  });
});

describe('Ec2Adapter maps what EC2 answers to what a user can act on', () => {
  interface Case {
    when: string;
    code: SgsyncError['code'];
    retryable: boolean;
    says: RegExp;
    call: () => Promise<unknown>;
  }
  const faulted = (action: string, error: { code: string; status?: number }) =>
    sb.sandbox.faults.set({ rules: [{ action, region: '*', error: { ...error, rate: 1 }, internalErrorRate: 0, unavailableRate: 0, latencyMs: 0, jitterMs: 0, dropRate: 0 }] });

  const cases: Case[] = [
    {
      when: 'the group does not exist in the region (it lives in another)',
      code: 'NOT_FOUND',
      retryable: false,
      says: /sg-0123456789abcdef0 does not exist in us-east-1\. Security groups are regional/,
      call: () => adapter().authorize(batch('sg-0123456789abcdef0', [1])),
    },
    {
      when: 'IAM denies the authorize',
      code: 'PERMISSION_DENIED',
      retryable: false,
      says: /AWS denied ec2:AuthorizeSecurityGroupIngress in us-east-1 on sg-/,
      call: async () => {
        const g = await group();
        faulted('AuthorizeSecurityGroupIngress', { code: 'UnauthorizedOperation' });
        return adapter().authorize(batch(g, [1]));
      },
    },
    {
      when: 'the region is not enabled for the account (AWS answers AuthFailure, not a denial)',
      code: 'PERMISSION_DENIED',
      retryable: false,
      says: /AWS did not accept the credentials for ec2:DescribeInstances in af-south-1\. Check that af-south-1 is enabled for the account/,
      call: () => adapter().listMembers('af-south-1'),
    },
    {
      when: 'IAM denies the describe',
      code: 'PERMISSION_DENIED',
      retryable: false,
      says: /AWS denied ec2:DescribeSecurityGroupRules in us-east-1/,
      call: async () => {
        const g = await group();
        faulted('DescribeSecurityGroupRules', { code: 'UnauthorizedOperation' });
        return adapter().listRules('us-east-1', [g]);
      },
    },
    {
      when: 'the group is full',
      code: 'CAPACITY_EXHAUSTED',
      retryable: false,
      says: /has reached its rules quota.*L-0EA8095F/,
      call: async () => adapter().authorize(batch(await group(1), [1, 2])),
    },
    {
      when: 'throttling outlasts the retries',
      code: 'THROTTLED',
      retryable: true,
      says: /AWS kept throttling AuthorizeSecurityGroupIngress in us-east-1/,
      call: async () => {
        const g = await group();
        // Refills this slow add nothing during the call: every attempt is throttled.
        sb.sandbox.throttle.mode = { kind: 'aws', scale: 0.0001 };
        while (sb.sandbox.throttle.take('us-east-1', 'AuthorizeSecurityGroupIngress', Params.parse('')));
        return adapter(2).authorize(batch(g, [1]));
      },
    },
    {
      when: 'EC2 answers 503 Unavailable on every attempt',
      code: 'AWS_UNAVAILABLE',
      retryable: true,
      // One full stop between AWS's sentence and sgsync's, though AWS's ends with one.
      says: /AWS kept failing RevokeSecurityGroupIngress in us-east-1 .*\(HTTP 503\): .*[^.]\. Try again later\.$/,
      call: async () => {
        const g = await group();
        faulted('RevokeSecurityGroupIngress', { code: 'Unavailable' });
        return adapter(2).revoke(revokes(g, ['sgr-0123456789abcdef0']));
      },
    },
  ];

  it.each(cases)('when $when: $code', async ({ code, retryable, says, call }) => {
    const error = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SgsyncError);
    expect(error).toMatchObject({ code, retryable });
    expect((error as Error).message).toMatch(says);
  });
});

describe('pacing against AWS token buckets', () => {
  /** 70 single-rule authorize calls into 70 groups, 8 at a time: 20 more than the shared write bucket's burst of 50. */
  async function authorizeIntoMany(ec2: Ec2Adapter): Promise<{ ok: number; throttled: number }> {
    const groups: string[] = [];
    for (let i = 0; i < 70; i++) groups.push(await group());
    // The client's connection is open before the clock starts, as in a pass that described the groups first.
    await ec2.listRules('us-east-1', [groups[0]!]);
    // AWS's bucket sizes and refill rates; every bucket starts full. At AWS's rates a token takes 200 ms to
    // refill, more than calls' latencies differ by on a busy machine: the one kept in hand covers that, and 70
    // calls cannot take so long that the buckets refill as fast as they are drawn.
    sb.sandbox.throttle.mode = { kind: 'aws', scale: 1 };
    sb.sandbox.counters.reset();
    await mapLimit(groups, 8, (g, i) => ec2.authorize(batch(g, [i + 1])));
    const counts = sb.sandbox.counters.snapshot()['us-east-1']?.['AuthorizeSecurityGroupIngress'];
    return { ok: counts?.ok ?? 0, throttled: counts?.throttled ?? 0 };
  }

  it('spaces writes beyond the burst so that none is throttled', async () => {
    const ec2 = new Ec2Adapter({ endpoint: sb.url, maxAttempts: 8, pacing: { securityGroupWrites: { burst: 50, perSecond: 5 }, describes: { burst: 100, perSecond: 20 } } });
    expect(await authorizeIntoMany(ec2)).toEqual({ ok: 70, throttled: 0 });
    expect(ec2.clients.stats.total({ action: 'AuthorizeSecurityGroupIngress' })).toBe(70);
    // The burst less the token kept in hand went at once; the calls after it (less what refilled meanwhile) waited for a token.
    const [paced] = ec2.clients.stats.pacing().filter((p) => p.action === 'AuthorizeSecurityGroupIngress');
    expect(paced?.waits).toBeGreaterThan(0);
    expect(paced?.waits).toBeLessThanOrEqual(70 - 49);
  });

  it('without pacing the same calls are throttled and retried', async () => {
    const ec2 = new Ec2Adapter({ endpoint: sb.url, maxAttempts: 8, pacing: false });
    const { ok, throttled } = await authorizeIntoMany(ec2);
    expect(ok).toBe(70);
    expect(throttled).toBeGreaterThan(0);
  });
});
