import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupsCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { errorCode, startTestSandbox, type TestSandbox } from './helpers.js';

const started: TestSandbox[] = [];

async function sandboxWithFaults(seed: number, faults: unknown): Promise<TestSandbox> {
  const sb = await startTestSandbox({ seed });
  started.push(sb);
  const res = await fetch(`${sb.url}/_sandbox/faults`, { method: 'PUT', body: JSON.stringify(faults) });
  expect(res.status).toBe(200);
  return sb;
}

/** The error code (or 'none') of each of `n` calls made one after another. */
async function outcomes(sb: TestSandbox, n: number, region = 'us-east-1'): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await errorCode(sb.ec2(region).send(new DescribeSecurityGroupsCommand({}))));
  return out;
}

const flaky = { rules: [{ action: 'DescribeSecurityGroups', internalErrorRate: 0.25, unavailableRate: 0.25 }] };

afterEach(async () => {
  await Promise.all(started.splice(0).map((sb) => sb.close()));
});

describe('fault injection', () => {
  it('gives the same seed and the same calls the same outcomes', async () => {
    const first = await outcomes(await sandboxWithFaults(42, flaky), 40);
    const second = await outcomes(await sandboxWithFaults(42, flaky), 40);
    expect(second).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['none', 'InternalError', 'Unavailable']));
  });

  it('gives another seed other outcomes', async () => {
    const first = await outcomes(await sandboxWithFaults(42, flaky), 40);
    const other = await outcomes(await sandboxWithFaults(43, flaky), 40);
    expect(other).not.toEqual(first);
  });

  it.each([
    ['InternalError', { internalErrorRate: 1 }, 500],
    ['Unavailable', { unavailableRate: 1 }, 503],
    ['UnauthorizedOperation', { error: { code: 'UnauthorizedOperation' } }, 403],
    ['RequestLimitExceeded', { error: { code: 'RequestLimitExceeded' } }, 503],
  ])('answers %s with HTTP %i where a rule says so', async (code, rule, status) => {
    const sb = await sandboxWithFaults(1, { rules: [{ action: 'AuthorizeSecurityGroupIngress', region: 'us-east-1', ...rule }] });
    const authorize = (region: string) =>
      sb.ec2(region).send(
        new AuthorizeSecurityGroupIngressCommand({ GroupName: 'default', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '198.51.100.7/32' }] }] }),
      );
    const error = await authorize('us-east-1').catch((e: unknown) => e as { name: string; $metadata: { httpStatusCode: number } });
    expect(error).toMatchObject({ name: code, $metadata: { httpStatusCode: status } });
    // Another region, and another action in the same region, are untouched.
    expect(await errorCode(authorize('eu-west-1'))).toBe('none');
    expect(await errorCode(sb.ec2('us-east-1').send(new DescribeVpcsCommand({})))).toBe('none');
  });

  it('drops the connection so the client sees a network error, not an answer', async () => {
    const sb = await sandboxWithFaults(1, { rules: [{ action: 'DescribeVpcs', dropRate: 1 }] });
    const error = (await sb.ec2().send(new DescribeVpcsCommand({})).catch((e: unknown) => e)) as { code?: string; $metadata?: { httpStatusCode?: number } };
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('ECONNRESET');
    expect(error.$metadata?.httpStatusCode).toBeUndefined();
  });

  it('counts injected answers as faulted', async () => {
    const sb = await sandboxWithFaults(1, { rules: [{ action: 'DescribeVpcs', internalErrorRate: 1 }] });
    await errorCode(sb.ec2('eu-west-1').send(new DescribeVpcsCommand({})));
    const counters = (await (await fetch(`${sb.url}/_sandbox/counters`)).json()) as Record<string, Record<string, { faulted: number }>>;
    expect(counters['eu-west-1']!.DescribeVpcs).toMatchObject({ calls: 1, faulted: 1 });
  });

  it('stops injecting once the rules are cleared', async () => {
    const sb = await sandboxWithFaults(1, { rules: [{ internalErrorRate: 1 }] });
    expect(await errorCode(sb.ec2().send(new DescribeVpcsCommand({})))).toBe('InternalError');
    await fetch(`${sb.url}/_sandbox/faults`, { method: 'PUT', body: JSON.stringify({ rules: [] }) });
    expect(await errorCode(sb.ec2().send(new DescribeVpcsCommand({})))).toBe('none');
  });
});
