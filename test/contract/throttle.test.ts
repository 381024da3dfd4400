import {
  AuthorizeSecurityGroupIngressCommand,
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupRulesCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorCode, startTestSandbox, type TestSandbox } from './helpers.js';

let sb: TestSandbox;

interface Counts {
  [region: string]: Record<string, { calls: number; ok: number; throttled: number }>;
}
interface ThrottleState {
  mode: string;
  buckets: Record<string, Record<string, unknown>>;
}

async function control<T = unknown>(path: string, method = 'GET', body?: unknown): Promise<T> {
  const res = await fetch(`${sb.url}/_sandbox${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return (await res.json()) as T;
}

/** Calls until the first failure; returns how many succeeded and the error that stopped them. */
async function drain(call: () => Promise<unknown>, limit = 500): Promise<{ passed: number; error: { name?: string; $metadata?: { httpStatusCode?: number } } }> {
  for (let passed = 0; passed < limit; passed++) {
    try {
      await call();
    } catch (error) {
      return { passed, error: error as { name?: string } };
    }
  }
  throw new Error(`no call failed within ${limit}`);
}

const describeRules = (region = 'us-east-1') => () =>
  sb.ec2(region).send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'tag-key', Values: ['x'] }] }));
const runOne = (region = 'us-east-1') => () =>
  sb.ec2(region).send(new RunInstancesCommand({ ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }));
/** A revoke of a rule that does not exist: rejected, but it still costs a token. */
const revokeMissing = () =>
  errorCode(sb.ec2().send(new RevokeSecurityGroupIngressCommand({ GroupId: 'sg-0123456789abcdef0', SecurityGroupRuleIds: ['sgr-0123456789abcdef0'] }))).then((code) => {
    if (code === 'RequestLimitExceeded') throw Object.assign(new Error(code), { name: code });
  });

beforeAll(async () => {
  sb = await startTestSandbox({ throttle: { kind: 'aws', scale: 1 } });
});
afterAll(async () => {
  await sb.close();
});
beforeEach(async () => {
  // A frozen clock: only the control API's clock advance refills buckets, so counts are exact.
  sb.sandbox.throttle.useClock(() => 0);
  await control('/throttle', 'PUT', { mode: 'aws', scale: 1 });
});

describe('throttling in aws mode', () => {
  it('lets exactly the burst of 100 describe calls through, then answers 503 RequestLimitExceeded', async () => {
    const { passed, error } = await drain(describeRules());
    expect(passed).toBe(100);
    expect(error.name).toBe('RequestLimitExceeded');
    expect(error.$metadata?.httpStatusCode).toBe(503);
  });

  it('refills the authorize/revoke bucket at 5 tokens a second when the sandbox clock moves', async () => {
    expect((await drain(revokeMissing)).passed).toBe(50);
    const authorize = sb.ec2().send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: 'sg-0123456789abcdef0', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, IpRanges: [{ CidrIp: '203.0.113.1/32' }] }] }),
    );
    expect(await errorCode(authorize)).toBe('RequestLimitExceeded');
    await control('/clock/advance', 'POST', { seconds: 1 });
    expect((await drain(revokeMissing)).passed).toBe(5);
  });

  it('meters unfiltered, unpaginated DescribeInstances in its own, smaller bucket', async () => {
    const unfiltered = () => sb.ec2().send(new DescribeInstancesCommand({}));
    expect((await drain(unfiltered)).passed).toBe(50);
    const paginated = sb.ec2().send(new DescribeInstancesCommand({ MaxResults: 5 }));
    expect(await errorCode(paginated)).toBe('none');
  });

  it('does not let one category drain another', async () => {
    expect((await drain(runOne())).passed).toBe(5);
    expect(await errorCode(sb.ec2().send(new DescribeInstancesCommand({ MaxResults: 5 })))).toBe('none');
    expect(await errorCode(sb.ec2().send(new CreateTagsCommand({ Resources: ['i-0123456789abcdef0'], Tags: [{ Key: 'a', Value: 'b' }] })))).not.toBe('RequestLimitExceeded');
    expect(await errorCode(describeRules()())).toBe('none');
  });

  it('keeps every region in its own buckets', async () => {
    expect((await drain(runOne('us-east-1'))).passed).toBe(5);
    expect((await drain(runOne('eu-west-1'))).passed).toBe(5);
  });

  it('keeps the burst and speeds up the refill with aws:SCALE', async () => {
    await control('/throttle', 'PUT', { mode: 'aws', scale: 10 });
    expect((await drain(runOne())).passed).toBe(5);
    await control('/clock/advance', 'POST', { seconds: 0.1 });
    expect((await drain(runOne())).passed).toBe(2);
  });

  it('counts throttled calls and shows the bucket levels', async () => {
    await control('/counters/reset', 'POST');
    await drain(runOne('sa-east-1'));
    const counters = await control<Counts>('/counters');
    expect(counters['sa-east-1']!.RunInstances).toMatchObject({ calls: 6, ok: 5, throttled: 1 });
    const throttle = await control<ThrottleState>('/throttle');
    expect(throttle).toMatchObject({ mode: 'aws', scale: 1, text: 'aws' });
    expect(throttle.buckets['sa-east-1']!.RunInstances).toEqual({ category: 'RunInstances', tokens: 0, burst: 5, refillPerSecond: 2 });
  });

  it('throttles nothing once switched off', async () => {
    await control('/throttle', 'PUT', { mode: 'off' });
    const results = await Promise.all(Array.from({ length: 20 }, () => errorCode(runOne()())));
    expect(results.every((r) => r === 'none')).toBe(true);
  });
});
