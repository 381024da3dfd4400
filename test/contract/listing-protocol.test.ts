import { DescribeInstancesCommand, DescribeSecurityGroupRulesCommand, EC2Client, RunInstancesCommand, StopInstancesCommand, TerminateInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toMember } from '../../src/aws/ec2-adapter.js';
import { DESCRIBE_INSTANCES_OUTPUT, LISTED_INSTANCE, ListingProtocol, type Projection } from '../../src/aws/listing-protocol.js';
import { errorCode, startTestSandbox, type TestSandbox } from './helpers.js';

let sb: TestSandbox;
let listing: EC2Client;

/** `value` with only the members `keep` names, lists and nested structures included: what a projection should read. */
function pick(value: unknown, keep: Projection): unknown {
  if (Array.isArray(value)) return value.map((v) => pick(v, keep));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, inner] of Object.entries(keep)) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = inner === true ? v : pick(v, inner);
  }
  return out;
}

const withoutMetadata = <T extends { $metadata?: unknown }>(out: T) => ({ ...out, $metadata: undefined });

beforeAll(async () => {
  sb = await startTestSandbox({ seed: 41, log: () => undefined });
  listing = new EC2Client({ region: 'us-east-1', endpoint: sb.url, credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' }, maxAttempts: 1, protocol: ListingProtocol });
  const ec2 = sb.ec2();
  const run = async (extra: Record<string, unknown>, tags: Record<string, string>) =>
    (await ec2.send(new RunInstancesCommand({
      ImageId: 'ami-12345678', MinCount: 2, MaxCount: 2, ...extra,
      TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
    }))).Instances!.map((i) => i.InstanceId!);
  await run({ Ipv6AddressCount: 1 }, { role: 'api', Name: 'api & <web> "one"', 'tag:with:colons': '' });
  const [stopped] = await run({}, { role: 'db', 'ünïcode ✓': 'värde' });
  await run({ NetworkInterfaces: [{ DeviceIndex: 0, AssociatePublicIpAddress: false }] }, { role: 'batch' });
  const [gone] = await run({}, {});
  await ec2.send(new StopInstancesCommand({ InstanceIds: [stopped!] }));
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [gone!] }));
});
afterAll(async () => {
  listing.destroy();
  await sb.close();
});

describe('ListingProtocol', () => {
  it("reads of DescribeInstances exactly the SDK's values of the members a listing keeps, page by page", async () => {
    let token: string | undefined;
    let pages = 0;
    let instances = 0;
    do {
      const input = { MaxResults: 5, NextToken: token };
      const full = await sb.ec2().send(new DescribeInstancesCommand(input));
      const lean = await listing.send(new DescribeInstancesCommand(input));
      expect(lean.NextToken).toBe(full.NextToken);
      expect(withoutMetadata(lean)).toEqual({ ...pick(full, DESCRIBE_INSTANCES_OUTPUT) as object, $metadata: undefined });
      // The projection leaves out what a listing does not read.
      const first = lean.Reservations![0]!.Instances![0]!;
      expect(first.ImageId).toBeUndefined();
      expect(Object.keys(first).every((k) => k in LISTED_INSTANCE)).toBe(true);
      instances += full.Reservations!.reduce((n, r) => n + r.Instances!.length, 0);
      token = full.NextToken;
      pages++;
    } while (token);
    expect(pages).toBeGreaterThan(1);
    expect(instances).toBe(8);
  });

  it('gives toMember everything it reads: the same members as the full answer', async () => {
    const full = await sb.ec2().send(new DescribeInstancesCommand({}));
    const lean = await listing.send(new DescribeInstancesCommand({}));
    const members = (out: typeof full) => out.Reservations!.flatMap((r) => r.Instances!.map((i: Instance) => toMember('us-east-1', i, r.OwnerId)));
    const expected = members(full);
    expect(members(lean)).toEqual(expected);
    // The fleet exercises every member toMember reads.
    expect(expected.some((m) => m?.ipv6.length === 1)).toBe(true);
    expect(expected.some((m) => m !== undefined && m.publicIpv4 === undefined && m.state === 'running')).toBe(true);
    expect(expected.some((m) => m?.tags.Name === 'api & <web> "one"')).toBe(true);
    expect(new Set(expected.map((m) => m?.state))).toEqual(new Set(['running', 'stopped', 'terminated']));
    expect(expected.every((m) => m !== undefined && typeof m.launchTime === 'string' && typeof m.instanceType === 'string')).toBe(true);
  });

  it('reads every other action as the SDK does', async () => {
    const input = { MaxResults: 5 };
    const full = await sb.ec2().send(new DescribeSecurityGroupRulesCommand(input));
    const lean = await listing.send(new DescribeSecurityGroupRulesCommand(input));
    expect(full.SecurityGroupRules!.length).toBeGreaterThan(0);
    expect(withoutMetadata(lean)).toEqual(withoutMetadata(full));
  });

  it("raises the SDK's errors, a refused DescribeInstances included", async () => {
    const input = { InstanceIds: ['i-nope'] };
    const code = await errorCode(sb.ec2().send(new DescribeInstancesCommand(input)));
    expect(code).toMatch(/^InvalidInstanceID/);
    expect(await errorCode(listing.send(new DescribeInstancesCommand(input)))).toBe(code);
    sb.sandbox.faults.set({ rules: [{ action: 'DescribeInstances', region: '*', internalErrorRate: 0, unavailableRate: 1, latencyMs: 0, jitterMs: 0, dropRate: 0 }] });
    try {
      expect(await errorCode(listing.send(new DescribeInstancesCommand({})))).toBe(await errorCode(sb.ec2().send(new DescribeInstancesCommand({}))));
    } finally {
      sb.sandbox.faults.set({ rules: [] });
    }
  });
});
