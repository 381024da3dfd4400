import {
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  paginateDescribeInstances,
  type EC2Client,
  type Filter,
  type Instance,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import ipaddr from 'ipaddr.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestSandbox, type TestSandbox } from './helpers.js';

let sb: TestSandbox;
let ec2: EC2Client;
const AMI = 'ami-0123456789abcdef0';

beforeAll(async () => {
  sb = await startTestSandbox({ seed: 21 });
  ec2 = sb.ec2('us-east-1');
});

afterAll(async () => {
  await sb.close();
});

async function launch(extra: Partial<RunInstancesCommandInput> = {}, client = ec2): Promise<Instance[]> {
  const out = await client.send(new RunInstancesCommand({ ImageId: AMI, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', ...extra }));
  return out.Instances!;
}

async function launchOne(extra: Partial<RunInstancesCommandInput> = {}, client = ec2): Promise<string> {
  return (await launch(extra, client))[0]!.InstanceId!;
}

async function describeOne(id: string, client = ec2): Promise<Instance> {
  const out = await client.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  return out.Reservations![0]!.Instances![0]!;
}

async function idsMatching(filters: Filter[]): Promise<string[]> {
  const ids: string[] = [];
  for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 1000 }, { Filters: filters })) {
    for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) ids.push(i.InstanceId!);
  }
  return ids;
}

describe('RunInstances', () => {
  it('answers with pending instances of one reservation that are running right after', async () => {
    const out = await ec2.send(new RunInstancesCommand({ ImageId: AMI, MinCount: 2, MaxCount: 3, InstanceType: 'c7g.large' }));
    expect(out.ReservationId).toMatch(/^r-[0-9a-f]{17}$/);
    expect(out.OwnerId).toBe(sb.sandbox.world.accountId);
    expect(out.Instances!.map((i) => i.State?.Name)).toEqual(['pending', 'pending', 'pending']);
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: out.Instances!.map((i) => i.InstanceId!) }));
    expect(described.Reservations!.map((r) => r.ReservationId)).toEqual([out.ReservationId]);
    const instances = described.Reservations![0]!.Instances!;
    expect(instances.map((i) => [i.State?.Name, i.State?.Code, i.InstanceType, i.ImageId, i.Architecture])).toEqual(
      Array(3).fill(['running', 16, 'c7g.large', AMI, 'arm64']),
    );
  });

  it('places an instance without a group in the default VPC with its default group, and describes it fully', async () => {
    const id = await launchOne({ KeyName: 'ops', TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'role', Value: 'api' }] }] });
    const i = await describeOne(id);
    const groups = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['default'] }] }));
    const defaultGroup = groups.SecurityGroups!.find((g) => g.VpcId === i.VpcId)!;
    expect(i.SecurityGroups).toEqual([{ GroupId: defaultGroup.GroupId, GroupName: 'default' }]);
    expect(i.KeyName).toBe('ops');
    expect(i.Tags).toEqual([{ Key: 'role', Value: 'api' }]);
    expect(i.Placement?.AvailabilityZone).toMatch(/^us-east-1[abc]$/);
    expect(i.SubnetId).toMatch(/^subnet-[0-9a-f]{17}$/);
    expect(i.PrivateIpAddress).toMatch(/^172\.31\.\d+\.\d+$/);
    expect(i.PrivateDnsName).toBe(`ip-${i.PrivateIpAddress!.replace(/\./g, '-')}.ec2.internal`);
    expect(i.PublicDnsName).toBe(`ec2-${i.PublicIpAddress!.replace(/\./g, '-')}.compute-1.amazonaws.com`);
    expect(i.NetworkInterfaces?.[0]?.Association?.PublicIp).toBe(i.PublicIpAddress);
    expect(Date.parse(String(i.LaunchTime))).not.toBeNaN();
  });

  it('launches into the VPC of the given group, in the subnet of the asked zone', async () => {
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.40.0.0/16' }))).Vpc!.VpcId!;
    const groupId = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'fleet', Description: 'fleet', VpcId: vpcId }))).GroupId!;
    const id = await launchOne({ SecurityGroupIds: [groupId], Placement: { AvailabilityZone: 'us-east-1b' } });
    const i = await describeOne(id);
    expect([i.VpcId, i.Placement?.AvailabilityZone, i.SecurityGroups?.[0]?.GroupId]).toEqual([vpcId, 'us-east-1b', groupId]);
    expect(i.PrivateIpAddress).toMatch(/^10\.40\./);
    const again = await describeOne(await launchOne({ SubnetId: i.SubnetId }));
    expect([again.VpcId, again.Placement?.AvailabilityZone]).toEqual([vpcId, 'us-east-1b']);
  });

  it('marks spot launches and refuses to stop a one-time spot instance', async () => {
    const id = await launchOne({ InstanceMarketOptions: { MarketType: 'spot' } });
    expect((await describeOne(id)).InstanceLifecycle).toBe('spot');
    expect(await errorCode(ec2.send(new StopInstancesCommand({ InstanceIds: [id] })))).toBe('UnsupportedOperation');
  });

  it('gives an IPv6 address on request and no public IPv4 when the interface asks for none', async () => {
    const withV6 = await describeOne(await launchOne({ Ipv6AddressCount: 1 }));
    expect(ipaddr.parse(withV6.Ipv6Address!).range()).toBe('unicast');
    expect(withV6.NetworkInterfaces?.[0]?.Ipv6Addresses?.map((a) => a.Ipv6Address)).toEqual([withV6.Ipv6Address]);
    const privateOnly = await describeOne(
      await launchOne({ NetworkInterfaces: [{ DeviceIndex: 0, AssociatePublicIpAddress: false }] }),
    );
    expect(privateOnly.PublicIpAddress).toBeUndefined();
    expect(privateOnly.PrivateIpAddress).toBeDefined();
  });

  it('takes the IPv6 addresses back on terminate, so a terminated instance shows none and another may be given them', async () => {
    const id = await launchOne({ Ipv6AddressCount: 2 });
    const [first, second] = (await describeOne(id)).NetworkInterfaces?.[0]?.Ipv6Addresses?.map((a) => a.Ipv6Address!) ?? [];
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    const gone = await describeOne(id);
    expect([gone.State?.Name, gone.Ipv6Address, gone.NetworkInterfaces ?? []]).toEqual(['terminated', undefined, []]);
    // An address still held would be refused as InvalidIPAddress.InUse.
    const again = await describeOne(await launchOne({ NetworkInterfaces: [{ DeviceIndex: 0, Ipv6Addresses: [{ Ipv6Address: first }, { Ipv6Address: second }] }] }));
    expect(again.NetworkInterfaces?.[0]?.Ipv6Addresses?.map((a) => a.Ipv6Address).sort()).toEqual([first, second].sort());
  });

  const rejected: [string, Partial<RunInstancesCommandInput>, string][] = [
    ['a malformed AMI id', { ImageId: 'ami-123' }, 'InvalidAMIID.Malformed'],
    ['an image id of another kind', { ImageId: 'img-0123456789abcdef0' }, 'InvalidAMIID.Malformed'],
    ['a group that does not exist', { SecurityGroupIds: ['sg-0123456789abcdef0'] }, 'InvalidGroup.NotFound'],
    ['a malformed group id', { SecurityGroupIds: ['default'] }, 'InvalidGroupId.Malformed'],
    ['a subnet that does not exist', { SubnetId: 'subnet-0123456789abcdef0' }, 'InvalidSubnetID.NotFound'],
    ['a zone of another region', { Placement: { AvailabilityZone: 'eu-west-1a' } }, 'InvalidParameterValue'],
    ['MinCount above MaxCount', { MinCount: 3, MaxCount: 2 }, 'InvalidParameterValue'],
    ['a reserved tag key', { TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'aws:x', Value: '1' }] }] }, 'InvalidParameterValue'],
    ['an unknown market type', { InstanceMarketOptions: { MarketType: 'bazaar' as 'spot' } }, 'InvalidParameterValue'],
    ['DryRun', { DryRun: true }, 'DryRunOperation'],
  ];
  it.each(rejected)('refuses %s with %s and launches nothing', async (_what, input, code) => {
    const before = sb.sandbox.world.region('us-east-1')!.instances.size;
    expect(await errorCode(launch(input))).toBe(code);
    expect(sb.sandbox.world.region('us-east-1')!.instances.size).toBe(before);
  });

  it('does not accept a group from another region', async () => {
    const euGroup = (await sb.ec2('eu-west-1').send(new CreateSecurityGroupCommand({ GroupName: 'eu', Description: 'eu' }))).GroupId!;
    expect(await errorCode(launch({ SecurityGroupIds: [euGroup] }))).toBe('InvalidGroup.NotFound');
  });
});

describe('public and private addresses', () => {
  it('assigns a public, non-reserved IPv4 that a stop releases and a start replaces, keeping the private one', async () => {
    const id = await launchOne();
    const first = await describeOne(id);
    expect(ipaddr.parse(first.PublicIpAddress!).range()).toBe('unicast');
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    const stopped = await describeOne(id);
    expect([stopped.PublicIpAddress, stopped.PublicDnsName]).toEqual([undefined, '']);
    expect(stopped.StateReason?.Code).toBe('Client.UserInitiatedShutdown');
    await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    const restarted = await describeOne(id);
    expect(ipaddr.parse(restarted.PublicIpAddress!).range()).toBe('unicast');
    expect(restarted.PublicIpAddress).not.toBe(first.PublicIpAddress);
    expect(restarted.PrivateIpAddress).toBe(first.PrivateIpAddress);
  });

  it('never gives two instances the same address', async () => {
    const launched = await launch({ MinCount: 50, MaxCount: 50 });
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: launched.map((i) => i.InstanceId!) }));
    const instances = described.Reservations!.flatMap((r) => r.Instances!);
    expect(new Set(instances.map((i) => i.PublicIpAddress)).size).toBe(50);
    expect(new Set(instances.map((i) => i.PrivateIpAddress)).size).toBe(50);
  });
});

describe('Stop, Start and Terminate', () => {
  type Action = 'stop' | 'start' | 'terminate';
  const send = (action: Action, ids: string[]) => {
    const input = { InstanceIds: ids };
    if (action === 'stop') return ec2.send(new StopInstancesCommand(input)).then((o) => o.StoppingInstances!);
    if (action === 'start') return ec2.send(new StartInstancesCommand(input)).then((o) => o.StartingInstances!);
    return ec2.send(new TerminateInstancesCommand(input)).then((o) => o.TerminatingInstances!);
  };
  const bringTo = async (state: 'running' | 'stopped' | 'terminated'): Promise<string> => {
    const id = await launchOne();
    if (state === 'stopped') await send('stop', [id]);
    if (state === 'terminated') await send('terminate', [id]);
    return id;
  };

  // from, action, answered [previous, current] or an error, then the state a reader sees
  const table: ['running' | 'stopped' | 'terminated', Action, [string, string] | string, string][] = [
    ['running', 'stop', ['running', 'stopping'], 'stopped'],
    ['stopped', 'stop', ['stopped', 'stopped'], 'stopped'],
    ['terminated', 'stop', 'IncorrectInstanceState', 'terminated'],
    ['stopped', 'start', ['stopped', 'pending'], 'running'],
    ['running', 'start', ['running', 'running'], 'running'],
    ['terminated', 'start', 'IncorrectInstanceState', 'terminated'],
    ['running', 'terminate', ['running', 'shutting-down'], 'terminated'],
    ['stopped', 'terminate', ['stopped', 'shutting-down'], 'terminated'],
    ['terminated', 'terminate', ['terminated', 'terminated'], 'terminated'],
  ];
  it.each(table)('a %s instance asked to %s answers %j and ends %s', async (from, action, answer, end) => {
    const id = await bringTo(from);
    if (typeof answer === 'string') {
      expect(await errorCode(send(action, [id]))).toBe(answer);
    } else {
      const [change] = await send(action, [id]);
      expect([change!.InstanceId, change!.PreviousState?.Name, change!.CurrentState?.Name]).toEqual([id, ...answer]);
    }
    expect((await describeOne(id)).State?.Name).toBe(end);
  });

  it.each([
    ['a malformed id', 'i-nothex', 'InvalidInstanceID.Malformed'],
    ['an unknown id', 'i-0123456789abcdef0', 'InvalidInstanceID.NotFound'],
  ])('refuses %s with %s and changes none of the other instances', async (_what, bad, code) => {
    const good = await launchOne();
    expect(await errorCode(send('stop', [good, bad]))).toBe(code);
    expect((await describeOne(good)).State?.Name).toBe('running');
  });

  it('validates a dry run without stopping anything', async () => {
    const id = await launchOne();
    expect(await errorCode(ec2.send(new StopInstancesCommand({ InstanceIds: [id], DryRun: true })))).toBe('DryRunOperation');
    expect((await describeOne(id)).State?.Name).toBe('running');
  });

  it('does not find an instance of another region', async () => {
    const id = await launchOne({}, sb.ec2('eu-west-1'));
    expect(await errorCode(send('terminate', [id]))).toBe('InvalidInstanceID.NotFound');
  });
});

describe('DescribeInstances', () => {
  it.each([
    ['MaxResults with InstanceIds', { InstanceIds: ['i-0123456789abcdef0'], MaxResults: 5 }, 'InvalidParameterCombination'],
    ['MaxResults below 5', { MaxResults: 4 }, 'InvalidParameterValue'],
    ['MaxResults above 1000', { MaxResults: 1001 }, 'InvalidParameterValue'],
    ['a malformed instance id', { InstanceIds: ['i-xyz'] }, 'InvalidInstanceID.Malformed'],
    ['an unknown instance id', { InstanceIds: ['i-0123456789abcdef0'] }, 'InvalidInstanceID.NotFound'],
    ['an unknown filter', { Filters: [{ Name: 'colour', Values: ['red'] }] }, 'InvalidParameterValue'],
    ['a token it did not issue', { NextToken: 'bm9wZQ', MaxResults: 5 }, 'InvalidParameterValue'],
    // EC2 counts the values of all the filters together.
    [
      '201 filter values',
      { Filters: [{ Name: 'tag:role', Values: Array.from({ length: 101 }, (_, i) => `r${i}`) }, { Name: 'instance-state-name', Values: Array.from({ length: 100 }, () => 'running') }] },
      'FilterLimitExceeded',
    ],
    ['a filter value of 256 characters', { Filters: [{ Name: 'tag:role', Values: ['x'.repeat(256)] }] }, 'FilterLimitExceeded'],
  ])('refuses %s with %s', async (_what, input, code) => {
    expect(await errorCode(ec2.send(new DescribeInstancesCommand(input)))).toBe(code);
  });

  it('takes 200 filter values and values of 255 characters', async () => {
    const values = Array.from({ length: 199 }, (_, i) => `r${i}`);
    const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:role', Values: [...values, 'y'.repeat(255)] }] }));
    expect(out.Reservations).toEqual([]);
  });

  it('walks every instance exactly once, page by page, even as instances launch and expire between pages', async () => {
    const client = sb.ec2('ap-south-1');
    const region = sb.sandbox.world.region('ap-south-1')!;
    const doomed = await launchOne({}, client);
    await launch({ MinCount: 60, MaxCount: 60 }, client);
    await client.send(new TerminateInstancesCommand({ InstanceIds: [doomed] }));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(new DescribeInstancesCommand({ MaxResults: 7, NextToken: token }));
      seen.push(...page.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId!)));
      token = page.NextToken;
      if (++pages === 3) {
        // an hour later the terminated instance is forgotten when the next launch sweeps, and more arrive
        sb.sandbox.world.clock.advance(61 * 60 * 1000);
        await launch({ MinCount: 4, MaxCount: 4 }, client);
      }
    } while (token);
    const expected = [...region.instances.keys()];
    expect(expected).not.toContain(doomed);
    expect(seen.filter((id) => id !== doomed)).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('keeps a terminated instance visible for an hour of sandbox time, then forgets it', async () => {
    const client = sb.ec2('ca-central-1');
    const id = await launchOne({}, client);
    await client.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    sb.sandbox.world.clock.advance(59 * 60 * 1000);
    const late = await describeOne(id, client);
    expect([late.State?.Name, late.PublicIpAddress, late.StateReason?.Code]).toEqual(['terminated', undefined, 'Client.UserInitiatedShutdown']);
    sb.sandbox.world.clock.advance(2 * 60 * 1000);
    expect(await errorCode(client.send(new DescribeInstancesCommand({ InstanceIds: [id] })))).toBe('InvalidInstanceID.NotFound');
    const listed = await client.send(new DescribeInstancesCommand({}));
    expect(listed.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId))).not.toContain(id);
  });

  describe('filters', () => {
    let web: Instance;
    let db: Instance;
    let stopped: string;
    beforeAll(async () => {
      const tag = (role: string) => [{ ResourceType: 'instance' as const, Tags: [{ Key: 'role', Value: role }, { Key: `only-${role}`, Value: 'yes' }] }];
      web = await describeOne(await launchOne({ InstanceType: 'm7i.large', TagSpecifications: tag('web-frontend'), Placement: { AvailabilityZone: 'us-east-1c' } }));
      db = await describeOne(await launchOne({ ImageId: 'ami-0fedcba9876543210', TagSpecifications: tag('db') }));
      stopped = await launchOne({ TagSpecifications: tag('batch') });
      await ec2.send(new StopInstancesCommand({ InstanceIds: [stopped] }));
    });

    const cases: [string, () => Filter[], () => string[], 'exactly' | 'including'][] = [
      ['tag:<key>', () => [{ Name: 'tag:role', Values: ['db'] }], () => [db.InstanceId!], 'exactly'],
      ['tag:<key> with a wildcard', () => [{ Name: 'tag:role', Values: ['web-*'] }], () => [web.InstanceId!], 'exactly'],
      ['tag-key', () => [{ Name: 'tag-key', Values: ['only-db', 'only-batch'] }], () => [db.InstanceId!, stopped], 'exactly'],
      ['instance-id', () => [{ Name: 'instance-id', Values: [web.InstanceId!] }], () => [web.InstanceId!], 'exactly'],
      ['ip-address', () => [{ Name: 'ip-address', Values: [web.PublicIpAddress!] }], () => [web.InstanceId!], 'exactly'],
      ['the interface public-ip', () => [{ Name: 'network-interface.addresses.association.public-ip', Values: [db.PublicIpAddress!] }], () => [db.InstanceId!], 'exactly'],
      ['private-ip-address', () => [{ Name: 'private-ip-address', Values: [db.PrivateIpAddress!] }], () => [db.InstanceId!], 'exactly'],
      ['instance-type', () => [{ Name: 'instance-type', Values: ['m7i.large'] }], () => [web.InstanceId!], 'exactly'],
      ['image-id', () => [{ Name: 'image-id', Values: ['ami-0fedcba9876543210'] }], () => [db.InstanceId!], 'exactly'],
      ['instance-state-name with a tag', () => [{ Name: 'instance-state-name', Values: ['stopped'] }, { Name: 'tag-key', Values: ['only-*'] }], () => [stopped], 'exactly'],
      ['availability-zone', () => [{ Name: 'availability-zone', Values: ['us-east-1c'] }], () => [web.InstanceId!], 'including'],
      ['vpc-id', () => [{ Name: 'vpc-id', Values: [db.VpcId!] }], () => [web.InstanceId!, db.InstanceId!, stopped], 'including'],
    ];
    it.each(cases)('select by %s', async (_name, filters, expected, how) => {
      const ids = await idsMatching(filters());
      if (how === 'exactly') expect(ids.sort()).toEqual(expected().sort());
      else expect(ids).toEqual(expect.arrayContaining(expected()));
    });

    it('excludes what the state filter excludes', async () => {
      const running = await idsMatching([{ Name: 'instance-state-name', Values: ['running'] }]);
      expect(running).toContain(web.InstanceId);
      expect(running).not.toContain(stopped);
    });
  });
});
