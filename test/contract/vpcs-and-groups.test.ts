import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  paginateDescribeSecurityGroups,
  type CreateSecurityGroupCommandInput,
  type DescribeSecurityGroupsCommandInput,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEverything, errorCode, startTestSandbox, type TestSandbox } from './helpers.js';

let sb: TestSandbox;
let ec2: EC2Client;
let defaultVpcId: string;
let westVpcId: string;
let westGroupId: string;
let knownGroupId: string;
let nameCount = 0;

beforeAll(async () => {
  sb = await startTestSandbox({ seed: 5 });
  ec2 = sb.ec2('us-east-1');
  const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }));
  defaultVpcId = vpcs.Vpcs![0]!.VpcId!;
  const west = sb.ec2('eu-west-1');
  westVpcId = (await west.send(new DescribeVpcsCommand({}))).Vpcs![0]!.VpcId!;
  westGroupId = await createGroup({}, west);
  knownGroupId = await createGroup();
});

afterAll(async () => {
  await sb.close();
});

const uniqueName = () => `group-${++nameCount}`;

async function createGroup(input: Partial<CreateSecurityGroupCommandInput> = {}, client = ec2): Promise<string> {
  const out = await client.send(new CreateSecurityGroupCommand({ GroupName: uniqueName(), Description: 'under test', ...input }));
  return out.GroupId!;
}

describe('VPCs', () => {
  it.each(['us-east-1', 'eu-west-1', 'ap-southeast-2'])('%s starts with a default VPC and its default group', async (region) => {
    const client = sb.ec2(region);
    const vpcs = await client.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }));
    expect(vpcs.Vpcs).toEqual([expect.objectContaining({ IsDefault: true, CidrBlock: '172.31.0.0/16', State: 'available' })]);
    const groups = await client.send(new DescribeSecurityGroupsCommand({ GroupNames: ['default'] }));
    expect(groups.SecurityGroups).toEqual([expect.objectContaining({ GroupName: 'default', VpcId: vpcs.Vpcs![0]!.VpcId })]);
  });

  it('creates a VPC with its block made canonical, an Amazon IPv6 /56 and tags', async () => {
    const out = await ec2.send(
      new CreateVpcCommand({
        CidrBlock: '10.1.2.3/16',
        AmazonProvidedIpv6CidrBlock: true,
        TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'Name', Value: 'primary' }] }],
      }),
    );
    const vpc = out.Vpc!;
    expect(vpc).toMatchObject({ CidrBlock: '10.1.0.0/16', IsDefault: false, Tags: [{ Key: 'Name', Value: 'primary' }] });
    expect(vpc.VpcId).toMatch(/^vpc-[0-9a-f]{17}$/);
    expect(vpc.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock).toMatch(/^2600:1f[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,2}00::\/56$/);
    const described = await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpc.VpcId!] }));
    expect(described.Vpcs![0]).toMatchObject({ VpcId: vpc.VpcId, CidrBlock: '10.1.0.0/16', State: 'available' });
  });

  it("gives a new VPC its own default group that lets the group's members in and everything out", async () => {
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.2.0.0/16' }))).Vpc!.VpcId!;
    const groups = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }));
    expect(groups.SecurityGroups).toHaveLength(1);
    const group = groups.SecurityGroups![0]!;
    expect(group.GroupName).toBe('default');
    expect(group.IpPermissions).toEqual([expect.objectContaining({ IpProtocol: '-1', UserIdGroupPairs: [expect.objectContaining({ GroupId: group.GroupId })] })]);
    expect(group.IpPermissionsEgress).toEqual([expect.objectContaining({ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] })]);
  });

  it('filters VPCs by id, default flag, block and tag', async () => {
    const tagged = (await ec2.send(
      new CreateVpcCommand({ CidrBlock: '10.3.0.0/24', TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'env', Value: 'filter-test' }] }] }),
    )).Vpc!.VpcId!;
    const ids = async (filters: { Name: string; Values: string[] }[]) =>
      (await ec2.send(new DescribeVpcsCommand({ Filters: filters }))).Vpcs!.map((v) => v.VpcId);
    expect(await ids([{ Name: 'vpc-id', Values: [tagged] }])).toEqual([tagged]);
    expect(await ids([{ Name: 'cidr', Values: ['10.3.0.0/24'] }])).toEqual([tagged]);
    expect(await ids([{ Name: 'tag:env', Values: ['filter-test'] }])).toEqual([tagged]);
    expect(await ids([{ Name: 'is-default', Values: ['true'] }])).toEqual([defaultVpcId]);
    expect(await ids([{ Name: 'is-default', Values: ['false'] }, { Name: 'tag-key', Values: ['env'] }])).toEqual([tagged]);
  });

  it.each([
    ['a block that is not a CIDR', 'InvalidParameterValue', { CidrBlock: '10.0.0.0' }],
    ['a block wider than /16', 'InvalidVpc.Range', { CidrBlock: '10.0.0.0/8' }],
    ['a block narrower than /28', 'InvalidVpc.Range', { CidrBlock: '10.0.0.0/29' }],
    ['tags for another resource type', 'InvalidParameterValue', { CidrBlock: '10.9.0.0/16', TagSpecifications: [{ ResourceType: 'instance' as const, Tags: [{ Key: 'a', Value: 'b' }] }] }],
    ['a dry run', 'DryRunOperation', { CidrBlock: '10.9.0.0/16', DryRun: true }],
  ])('refuses %s with %s and creates nothing', async (_, code, input) => {
    const before = await describeEverything(ec2);
    expect(await errorCode(ec2.send(new CreateVpcCommand(input)))).toBe(code);
    expect(await describeEverything(ec2)).toEqual(before);
  });

  it.each([
    ['an unknown VPC', 'InvalidVpcID.NotFound', 'vpc-0123456789abcdef0'],
    ['a malformed VPC id', 'InvalidVpcID.Malformed', 'vpc-zz'],
  ])('answers a describe of %s with %s', async (_, code, id) => {
    expect(await errorCode(ec2.send(new DescribeVpcsCommand({ VpcIds: [id] })))).toBe(code);
  });
});

describe('CreateSecurityGroup', () => {
  it('creates a tagged group in the default VPC when no VPC is named, with the default outbound rule', async () => {
    const out = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: 'web',
        Description: 'web tier',
        TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'team', Value: 'edge' }] }],
      }),
    );
    expect(out.GroupId).toMatch(/^sg-[0-9a-f]{17}$/);
    expect(out.Tags).toEqual([{ Key: 'team', Value: 'edge' }]);
    const described = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [out.GroupId!] }))).SecurityGroups![0]!;
    expect(described).toMatchObject({ GroupName: 'web', Description: 'web tier', VpcId: defaultVpcId, IpPermissions: [] });
    const rules = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [out.GroupId!] }] }));
    expect(rules.SecurityGroupRules!.map((r) => [r.IsEgress, r.IpProtocol, r.CidrIpv4])).toEqual([[true, '-1', '0.0.0.0/0']]);
  });

  it('allows the same name in another VPC', async () => {
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.4.0.0/16' }))).Vpc!.VpcId!;
    const name = uniqueName();
    await createGroup({ GroupName: name });
    expect(await errorCode(createGroup({ GroupName: name, VpcId: vpcId }))).toBe('none');
  });

  it.each([
    ['a name taken in the VPC', 'InvalidGroup.Duplicate', () => ({ GroupName: 'taken' })],
    ['the reserved name default', 'InvalidParameterValue', () => ({ GroupName: 'default' })],
    ['a name that looks like an id', 'InvalidParameterValue', () => ({ GroupName: 'sg-web' })],
    ['a description EC2 refuses', 'InvalidParameterValue', () => ({ Description: 'tab\there' })],
    ['a description over 255 characters', 'InvalidParameterValue', () => ({ Description: 'x'.repeat(256) })],
    ['an unknown VPC', 'InvalidVpcID.NotFound', () => ({ VpcId: 'vpc-0123456789abcdef0' })],
    ['a VPC of another region', 'InvalidVpcID.NotFound', () => ({ VpcId: westVpcId })],
    ['a dry run', 'DryRunOperation', () => ({ DryRun: true })],
  ])('refuses %s with %s and creates nothing', async (_, code, input) => {
    await createGroup({ GroupName: 'taken' }).catch(() => undefined);
    const before = await describeEverything(ec2);
    expect(await errorCode(createGroup(input()))).toBe(code);
    expect(await describeEverything(ec2)).toEqual(before);
  });
});

describe('DescribeSecurityGroups', () => {
  it('groups inbound sources by protocol and port range, as EC2 lists them', async () => {
    const groupId = await createGroup();
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '203.0.113.1/32', Description: 'one' }, { CidrIp: '203.0.113.2/32' }] },
          { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '203.0.113.1/32' }] },
          { IpProtocol: '6', FromPort: 443, ToPort: 443, Ipv6Ranges: [{ CidrIpv6: '2001:db8::1/128' }] },
        ],
      }),
    );
    const group = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))).SecurityGroups![0]!;
    expect(group.IpPermissions).toEqual([
      {
        IpProtocol: 'tcp', FromPort: 443, ToPort: 443, UserIdGroupPairs: [], PrefixListIds: [],
        IpRanges: [{ CidrIp: '203.0.113.1/32', Description: 'one' }, { CidrIp: '203.0.113.2/32' }],
        Ipv6Ranges: [{ CidrIpv6: '2001:db8::1/128' }],
      },
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [], PrefixListIds: [], IpRanges: [{ CidrIp: '203.0.113.1/32' }], Ipv6Ranges: [] },
    ]);
  });

  it('finds groups by name in the default VPC and by filters', async () => {
    const name = uniqueName();
    const groupId = await createGroup({ GroupName: name, TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'tier', Value: 'db' }] }] });
    const ids = async (input: DescribeSecurityGroupsCommandInput) =>
      (await ec2.send(new DescribeSecurityGroupsCommand(input))).SecurityGroups!.map((g) => g.GroupId);
    expect(await ids({ GroupNames: [name] })).toEqual([groupId]);
    expect(await ids({ Filters: [{ Name: 'group-name', Values: [name] }] })).toEqual([groupId]);
    expect(await ids({ Filters: [{ Name: 'group-id', Values: [groupId] }] })).toEqual([groupId]);
    expect(await ids({ Filters: [{ Name: 'tag:tier', Values: ['db'] }] })).toEqual([groupId]);
    expect(await ids({ Filters: [{ Name: 'tag-key', Values: ['tier'] }, { Name: 'vpc-id', Values: [defaultVpcId] }] })).toEqual([groupId]);
  });

  it('walks every group exactly once, page by page', async () => {
    for (let i = 0; i < 12; i++) await createGroup({ TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'walk', Value: 'groups' }] }] });
    const seen: string[] = [];
    for await (const page of paginateDescribeSecurityGroups({ client: ec2, pageSize: 5 }, { Filters: [{ Name: 'tag:walk', Values: ['groups'] }] })) {
      seen.push(...page.SecurityGroups!.map((g) => g.GroupId!));
    }
    expect(seen).toHaveLength(12);
    expect(new Set(seen).size).toBe(12);
  });

  it('lists for a group-id filter only the groups that exist, page by page, where GroupIds refuses the call', async () => {
    const existing: string[] = [];
    for (let i = 0; i < 7; i++) existing.push(await createGroup());
    const unknown = ['sg-0123456789abcdef0', 'sg-0fedcba987654321f', westGroupId];
    const seen: string[] = [];
    let calls = 0;
    for await (const page of paginateDescribeSecurityGroups({ client: ec2, pageSize: 5 }, { Filters: [{ Name: 'group-id', Values: [...unknown, ...existing] }] })) {
      calls++;
      seen.push(...page.SecurityGroups!.map((g) => g.GroupId!));
    }
    expect(seen.sort()).toEqual([...existing].sort());
    expect(calls).toBe(2);
    // Rules filtered by a group that does not exist: none, as for an empty group.
    expect((await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [unknown[0]!] }] }))).SecurityGroupRules).toEqual([]);
    expect(await errorCode(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [existing[0]!, unknown[0]!] })))).toBe('InvalidGroup.NotFound');
  });

  it.each([
    ['MaxResults with GroupIds', 'InvalidParameterCombination', () => ({ GroupIds: [knownGroupId], MaxResults: 5 })],
    ['MaxResults 4', 'InvalidParameterValue', () => ({ MaxResults: 4 })],
    ['MaxResults 1001', 'InvalidParameterValue', () => ({ MaxResults: 1001 })],
    ['an unknown group', 'InvalidGroup.NotFound', () => ({ GroupIds: ['sg-0123456789abcdef0'] })],
    ['a group of another region', 'InvalidGroup.NotFound', () => ({ GroupIds: [westGroupId] })],
    ['a malformed group id', 'InvalidGroupId.Malformed', () => ({ GroupIds: ['sg-nope'] })],
    ['an unknown group name', 'InvalidGroup.NotFound', () => ({ GroupNames: ['no-such-group'] })],
    ['an unknown filter', 'InvalidParameterValue', () => ({ Filters: [{ Name: 'colour', Values: ['red'] }] })],
  ])('answers %s with %s', async (_, code, input) => {
    expect(await errorCode(ec2.send(new DescribeSecurityGroupsCommand(input())))).toBe(code);
  });
});

describe('DeleteSecurityGroup', () => {
  it('removes the group and its rules', async () => {
    const groupId = await createGroup();
    const rule = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, IpRanges: [{ CidrIp: '192.0.2.1/32' }] }] }),
    );
    const out = await ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }));
    expect(out.Return).toBe(true);
    expect(await errorCode(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })))).toBe('InvalidGroup.NotFound');
    const ruleId = rule.SecurityGroupRules![0]!.SecurityGroupRuleId!;
    expect(await errorCode(ec2.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [ruleId] })))).toBe('InvalidSecurityGroupRuleId.NotFound');
  });

  it('refuses to delete a group another group refers to', async () => {
    const source = await createGroup();
    const target = await createGroup();
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: target, IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: source }] }] }));
    expect(await errorCode(ec2.send(new DeleteSecurityGroupCommand({ GroupId: source })))).toBe('DependencyViolation');
  });

  it.each([
    ['the default group', 'CannotDelete', async () => (await ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: ['default'] }))).SecurityGroups![0]!.GroupId!, {}],
    ['an unknown group', 'InvalidGroup.NotFound', () => Promise.resolve('sg-0123456789abcdef0'), {}],
    ['a malformed id', 'InvalidGroupId.Malformed', () => Promise.resolve('sg-1'), {}],
    ['a group of another region', 'InvalidGroup.NotFound', () => Promise.resolve(westGroupId), {}],
    ['a dry run', 'DryRunOperation', () => createGroup(), { DryRun: true }],
  ])('refuses %s with %s and deletes nothing', async (_, code, groupId, extra) => {
    const id = await groupId();
    const before = await describeEverything(ec2);
    expect(await errorCode(ec2.send(new DeleteSecurityGroupCommand({ GroupId: id, ...extra })))).toBe(code);
    expect(await describeEverything(ec2)).toEqual(before);
  });
});
