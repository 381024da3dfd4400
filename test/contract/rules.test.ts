import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupIngressCommand,
  paginateDescribeSecurityGroupRules,
  type EC2Client,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEverything, errorCode, startTestSandbox, type TestSandbox } from './helpers.js';

let sb: TestSandbox;
let ec2: EC2Client;
let customVpcId: string;
let groupCount = 0;

beforeAll(async () => {
  sb = await startTestSandbox({ seed: 11 });
  ec2 = sb.ec2('us-east-1');
  customVpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }))).Vpc!.VpcId!;
});

afterAll(async () => {
  await sb.close();
});

/** A fresh group in a non-default VPC (or the default VPC), so each test starts empty. */
async function newGroup(where: 'custom' | 'default' = 'custom', client = ec2): Promise<string> {
  const created = await client.send(
    new CreateSecurityGroupCommand({
      GroupName: `rules-${++groupCount}`,
      Description: 'rules under test',
      VpcId: where === 'custom' ? customVpcId : undefined,
    }),
  );
  return created.GroupId!;
}

function tcp(port: number, cidr: string, description?: string): IpPermission {
  const ipv6 = cidr.includes(':');
  return {
    IpProtocol: 'tcp',
    FromPort: port,
    ToPort: port,
    ...(ipv6 ? { Ipv6Ranges: [{ CidrIpv6: cidr, Description: description }] } : { IpRanges: [{ CidrIp: cidr, Description: description }] }),
  };
}

function authorize(groupId: string, permissions: IpPermission[], extra: { DryRun?: boolean } = {}) {
  return ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: permissions, ...extra }));
}

/** The group's inbound rules as a reader would list them. */
async function inbound(groupId: string): Promise<string[]> {
  const out = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }));
  return out
    .SecurityGroupRules!.filter((r) => !r.IsEgress)
    .map((r) => `${r.IpProtocol} ${r.FromPort}-${r.ToPort} ${r.CidrIpv4 ?? r.CidrIpv6 ?? r.ReferencedGroupInfo?.GroupId}`);
}

const v4 = (i: number) => `198.51.100.${i}/32`;
const v6 = (i: number) => `2001:db8::${i.toString(16)}/128`;
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('AuthorizeSecurityGroupIngress', () => {
  it('answers with each created rule, its id, tags and canonical CIDR', async () => {
    const groupId = await newGroup();
    const out = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: '6', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '100.68.0.18/18', Description: 'fleet' }], Ipv6Ranges: [{ CidrIpv6: '2001:DB8:0::7/128' }] }],
        TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: 'sgsync:managed-by', Value: 'prod' }] }],
      }),
    );
    expect(out.Return).toBe(true);
    expect(out.SecurityGroupRules).toEqual([
      expect.objectContaining({ GroupId: groupId, IsEgress: false, IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIpv4: '100.68.0.0/18', Description: 'fleet', Tags: [{ Key: 'sgsync:managed-by', Value: 'prod' }] }),
      expect.objectContaining({ GroupId: groupId, IsEgress: false, CidrIpv6: '2001:db8::7/128', Tags: [{ Key: 'sgsync:managed-by', Value: 'prod' }] }),
    ]);
    expect(out.SecurityGroupRules!.every((r) => /^sgr-[0-9a-f]{17}$/.test(r.SecurityGroupRuleId!))).toBe(true);
    expect(await inbound(groupId)).toEqual(['tcp 443-443 100.68.0.0/18', 'tcp 443-443 2001:db8::7/128']);
  });

  it.each([
    ['all traffic', { IpProtocol: '-1', IpRanges: [{ CidrIp: '192.0.2.0/24' }] }, '-1 -1--1 192.0.2.0/24'],
    ['"all" as all traffic, ports ignored', { IpProtocol: 'all', FromPort: 5, ToPort: 6, IpRanges: [{ CidrIp: '192.0.2.0/24' }] }, '-1 -1--1 192.0.2.0/24'],
    ['udp by number', { IpProtocol: '17', FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: '192.0.2.1/32' }] }, 'udp 53-53 192.0.2.1/32'],
    ['icmp echo', { IpProtocol: 'icmp', FromPort: 8, ToPort: 0, IpRanges: [{ CidrIp: '192.0.2.1/32' }] }, 'icmp 8-0 192.0.2.1/32'],
    ['icmpv6 by number', { IpProtocol: '58', FromPort: -1, ToPort: -1, Ipv6Ranges: [{ CidrIpv6: '2001:db8::/32' }] }, 'icmpv6 -1--1 2001:db8::/32'],
    ['another protocol number', { IpProtocol: '50', IpRanges: [{ CidrIp: '192.0.2.1/32' }] }, '50 -1--1 192.0.2.1/32'],
  ] as [string, IpPermission, string][])('stores %s the way EC2 does', async (_, permission, stored) => {
    const groupId = await newGroup();
    await authorize(groupId, [permission]);
    expect(await inbound(groupId)).toEqual([stored]);
  });

  it('keeps characters that XML escapes intact in descriptions and tags', async () => {
    const groupId = await newGroup();
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [tcp(22, '203.0.113.7/32', 'R&D; {ops}')],
        TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: 'note', Value: `<b>&"it's"</b>` }] }],
      }),
    );
    const out = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }, { Name: 'tag-key', Values: ['note'] }] }));
    expect(out.SecurityGroupRules!.map((r) => [r.Description, r.Tags])).toEqual([['R&D; {ops}', [{ Key: 'note', Value: `<b>&"it's"</b>` }]]]);
  });

  it('accepts the flat form of one rule that the AWS CLI sends for --cidr', async () => {
    const groupId = await newGroup();
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: '203.0.113.77/32' }));
    expect(await inbound(groupId)).toEqual(['tcp 22-22 203.0.113.77/32']);
  });

  it('accepts a rule from another group of the same region', async () => {
    const groupId = await newGroup();
    const source = await newGroup();
    await authorize(groupId, [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: source }] }]);
    expect(await inbound(groupId)).toEqual([`tcp 5432-5432 ${source}`]);
  });

  describe('refuses a duplicate and adds nothing', () => {
    it.each([
      ['the same rule', [tcp(22, '203.0.113.7/32')], [tcp(22, '203.0.113.7/32')]],
      ['the same rule with another description', [tcp(22, '203.0.113.7/32', 'old')], [tcp(22, '203.0.113.7/32', 'new')]],
      ['protocol "6" for an existing "tcp" rule', [tcp(22, '203.0.113.7/32')], [{ ...tcp(22, '203.0.113.7/32'), IpProtocol: '6' }]],
      ['a non-canonical CIDR of an existing rule', [tcp(22, '100.68.0.0/18')], [tcp(22, '100.68.0.18/18')]],
      ['another spelling of an existing IPv6 rule', [tcp(22, '2001:db8::/64')], [tcp(22, '2001:DB8:0:0::1/64')]],
      ['an existing rule next to a new one', [tcp(22, '203.0.113.7/32')], [tcp(23, '203.0.113.7/32'), tcp(22, '203.0.113.7/32')]],
    ] as [string, IpPermission[], IpPermission[]][])('%s', async (_, existing, request) => {
      const groupId = await newGroup();
      if (existing.length > 0) await authorize(groupId, existing);
      const before = await inbound(groupId);
      expect(await errorCode(authorize(groupId, request))).toBe('InvalidPermission.Duplicate');
      expect(await inbound(groupId)).toEqual(before);
    });
  });

  describe('refuses a permission given twice in one request as a bad parameter, as EC2 does, and adds nothing', () => {
    it.each([
      ['the same rule twice', [tcp(22, '203.0.113.7/32'), tcp(22, '203.0.113.7/32', 'again')]],
      ['two spellings of one CIDR', [tcp(22, '100.68.0.0/18'), tcp(22, '100.68.0.18/18')]],
      ['"tcp" and "6"', [tcp(22, '203.0.113.7/32'), { ...tcp(22, '203.0.113.7/32'), IpProtocol: '6' }]],
    ] as [string, IpPermission[]][])('%s', async (_, request) => {
      const groupId = await newGroup();
      expect(await errorCode(authorize(groupId, request))).toBe('InvalidParameterValue');
      expect(await inbound(groupId)).toEqual([]);
    });
  });

  describe('counts the inbound quota per address family', () => {
    it('takes 60 IPv4 and, separately, 60 IPv6 rules, and refuses the 61st of each', async () => {
      const groupId = await newGroup();
      await authorize(groupId, [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: range(60).map((i) => ({ CidrIp: v4(i) })) }]);
      expect(await errorCode(authorize(groupId, [tcp(443, v4(61))]))).toBe('RulesPerSecurityGroupLimitExceeded');
      await authorize(groupId, [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Ipv6Ranges: range(60).map((i) => ({ CidrIpv6: v6(i) })) }]);
      expect(await errorCode(authorize(groupId, [tcp(443, v6(61))]))).toBe('RulesPerSecurityGroupLimitExceeded');
      expect(await inbound(groupId)).toHaveLength(120);
    });

    it('adds nothing from a request that would overflow', async () => {
      const groupId = await newGroup();
      await authorize(groupId, [tcp(443, v4(1))]);
      const overflowing = [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: range(60).map((i) => ({ CidrIp: v4(i + 1) })) }];
      expect(await errorCode(authorize(groupId, overflowing))).toBe('RulesPerSecurityGroupLimitExceeded');
      expect(await inbound(groupId)).toEqual([`tcp 443-443 ${v4(1)}`]);
    });

    it('honours a quota set for one group only', async () => {
      const limited = await newGroup();
      const other = await newGroup();
      sb.sandbox.world.region('us-east-1')!.groups.get(limited)!.quota = 3;
      await authorize(limited, [tcp(80, v4(1)), tcp(80, v4(2)), tcp(80, v4(3))]);
      expect(await errorCode(authorize(limited, [tcp(80, v4(4))]))).toBe('RulesPerSecurityGroupLimitExceeded');
      expect(await errorCode(authorize(other, [tcp(80, v4(1)), tcp(80, v4(2)), tcp(80, v4(3)), tcp(80, v4(4))]))).toBe('none');
    });

    it("counts the default group's rule from itself against both families", async () => {
      const west = sb.ec2('us-west-2');
      const groups = await west.send(new DescribeSecurityGroupsCommand({ GroupNames: ['default'] }));
      const groupId = groups.SecurityGroups![0]!.GroupId!;
      const many = (n: number) => [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: range(n).map((i) => ({ CidrIp: v4(i) })) }];
      const send = (n: number) => west.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: many(n) }));
      expect(await errorCode(send(60))).toBe('RulesPerSecurityGroupLimitExceeded');
      expect(await errorCode(send(59))).toBe('none');
    });
  });

  it.each([
    ['an unknown group', 'InvalidGroup.NotFound', 'sg-0123456789abcdef0'],
    ['a short id that is not there', 'InvalidGroup.NotFound', 'sg-12345678'],
    ['a malformed id', 'InvalidGroupId.Malformed', 'sg-xyz'],
    ['an id of the wrong length', 'InvalidGroupId.Malformed', 'sg-123'],
    ['an id of another kind', 'InvalidGroupId.Malformed', 'vpc-0123456789abcdef0'],
  ])('refuses %s with %s', async (_, code, groupId) => {
    expect(await errorCode(authorize(groupId, [tcp(22, '203.0.113.7/32')]))).toBe(code);
  });

  it('does not find a group that lives in another region', async () => {
    const westGroup = await newGroup('default', sb.ec2('eu-west-1'));
    expect(await errorCode(authorize(westGroup, [tcp(22, '203.0.113.7/32')]))).toBe('InvalidGroup.NotFound');
  });

  it('does not accept a source group from another region', async () => {
    const groupId = await newGroup();
    const westGroup = await newGroup('default', sb.ec2('eu-west-1'));
    const request = [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: westGroup }] }];
    expect(await errorCode(authorize(groupId, request))).toBe('InvalidGroup.NotFound');
  });

  describe('refuses bad input with InvalidParameterValue and changes nothing', () => {
    it.each([
      ['a malformed IPv4 CIDR', [tcp(22, '203.0.113.999/32')]],
      ['an IPv4 address without a prefix', [tcp(22, '203.0.113.7')]],
      ['a prefix over 32', [tcp(22, '203.0.113.7/33')]],
      ['a malformed IPv6 CIDR', [tcp(22, '2001:db8:::1/128')]],
      ['a description with a character EC2 refuses', [tcp(22, '203.0.113.7/32', 'caf\u00e9')]],
      ['a description over 255 characters', [tcp(22, '203.0.113.7/32', 'x'.repeat(256))]],
      ['an unknown protocol', [{ ...tcp(22, '203.0.113.7/32'), IpProtocol: 'sctp-ish' }]],
      ['a reversed port range', [{ ...tcp(22, '203.0.113.7/32'), FromPort: 90, ToPort: 80 }]],
      ['a port past 65535', [{ ...tcp(22, '203.0.113.7/32'), ToPort: 65536 }]],
      ['a good rule next to a bad CIDR', [tcp(22, '203.0.113.7/32'), tcp(23, 'nonsense')]],
    ] as [string, IpPermission[]][])('%s', async (_, request) => {
      const groupId = await newGroup();
      const before = await describeEverything(ec2);
      expect(await errorCode(authorize(groupId, request))).toBe('InvalidParameterValue');
      expect(await describeEverything(ec2)).toEqual(before);
    });

    it('tags for another resource type', async () => {
      const groupId = await newGroup();
      const request = new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [tcp(22, '203.0.113.7/32')],
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'a', Value: 'b' }] }],
      });
      expect(await errorCode(ec2.send(request))).toBe('InvalidParameterValue');
      expect(await inbound(groupId)).toEqual([]);
    });

    it('a tag specification with no tags', async () => {
      const groupId = await newGroup();
      const request = new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [tcp(22, '203.0.113.7/32')],
        TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [] }],
      });
      expect(await errorCode(ec2.send(request))).toBe('InvalidParameterValue');
      expect(await inbound(groupId)).toEqual([]);
    });
  });

  it('answers DryRunOperation to a dry run that would succeed, and adds nothing', async () => {
    const groupId = await newGroup();
    expect(await errorCode(authorize(groupId, [tcp(22, '203.0.113.7/32')], { DryRun: true }))).toBe('DryRunOperation');
    expect(await inbound(groupId)).toEqual([]);
  });

  it('answers a dry run that would fail with the failure, not DryRunOperation', async () => {
    const groupId = await newGroup();
    await authorize(groupId, [tcp(22, '203.0.113.7/32')]);
    expect(await errorCode(authorize(groupId, [tcp(22, '203.0.113.7/32')], { DryRun: true }))).toBe('InvalidPermission.Duplicate');
  });
});

describe('RevokeSecurityGroupIngress', () => {
  function revoke(input: { GroupId: string; IpPermissions?: IpPermission[]; SecurityGroupRuleIds?: string[]; DryRun?: boolean }) {
    return ec2.send(new RevokeSecurityGroupIngressCommand(input));
  }

  it('removes rules by id and reports them', async () => {
    const groupId = await newGroup();
    const created = await authorize(groupId, [tcp(22, '203.0.113.7/32'), tcp(22, '203.0.113.8/32')]);
    const id = created.SecurityGroupRules![0]!.SecurityGroupRuleId!;
    const out = await revoke({ GroupId: groupId, SecurityGroupRuleIds: [id] });
    expect(out.Return).toBe(true);
    expect(out.RevokedSecurityGroupRules).toEqual([expect.objectContaining({ SecurityGroupRuleId: id, CidrIpv4: '203.0.113.7/32', IsEgress: false })]);
    expect(await inbound(groupId)).toEqual(['tcp 22-22 203.0.113.8/32']);
  });

  it.each([
    ['the same description', tcp(22, '100.68.0.0/18', 'fleet')],
    ['no description', tcp(22, '100.68.0.0/18')],
    ['another description', tcp(22, '100.68.0.0/18', 'something else')],
    ['a non-canonical CIDR', tcp(22, '100.68.0.18/18')],
    ['protocol "6"', { ...tcp(22, '100.68.0.0/18'), IpProtocol: '6' }],
  ])('removes a rule named by its permission with %s', async (_, permission) => {
    const groupId = await newGroup();
    await authorize(groupId, [tcp(22, '100.68.0.0/18', 'fleet')]);
    await revoke({ GroupId: groupId, IpPermissions: [permission] });
    expect(await inbound(groupId)).toEqual([]);
  });

  it('outside the default VPC, fails with InvalidPermission.NotFound and revokes nothing when one rule is missing', async () => {
    const groupId = await newGroup('custom');
    await authorize(groupId, [tcp(22, '203.0.113.7/32')]);
    const code = await errorCode(revoke({ GroupId: groupId, IpPermissions: [tcp(22, '203.0.113.7/32'), tcp(22, '203.0.113.99/32')] }));
    expect(code).toBe('InvalidPermission.NotFound');
    expect(await inbound(groupId)).toEqual(['tcp 22-22 203.0.113.7/32']);
  });

  it('in the default VPC, revokes what exists and lists the rest as unknown', async () => {
    const groupId = await newGroup('default');
    await authorize(groupId, [tcp(22, '203.0.113.7/32')]);
    const out = await revoke({ GroupId: groupId, IpPermissions: [tcp(22, '203.0.113.7/32'), tcp(22, '203.0.113.99/32')] });
    expect(out.Return).toBe(true);
    expect(out.UnknownIpPermissions).toEqual([expect.objectContaining({ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '203.0.113.99/32' }] })]);
    expect(out.RevokedSecurityGroupRules!.map((r) => r.CidrIpv4)).toEqual(['203.0.113.7/32']);
    expect(await inbound(groupId)).toEqual([]);
  });

  it.each([
    ['an unknown rule id', 'InvalidSecurityGroupRuleId.NotFound', 'sgr-0123456789abcdef0'],
    ['a malformed rule id', 'InvalidSecurityGroupRuleId.Malformed', 'sgr-nothex'],
    ['a group id in place of a rule id', 'InvalidSecurityGroupRuleId.Malformed', 'sg-0123456789abcdef0'],
  ])('refuses %s with %s and revokes nothing else in the request', async (_, code, badId) => {
    const groupId = await newGroup();
    const created = await authorize(groupId, [tcp(22, '203.0.113.7/32')]);
    const goodId = created.SecurityGroupRules![0]!.SecurityGroupRuleId!;
    expect(await errorCode(revoke({ GroupId: groupId, SecurityGroupRuleIds: [goodId, badId] }))).toBe(code);
    expect(await inbound(groupId)).toEqual(['tcp 22-22 203.0.113.7/32']);
  });

  it('does not revoke a rule of another group by its id', async () => {
    const owner = await newGroup();
    const other = await newGroup();
    const created = await authorize(owner, [tcp(22, '203.0.113.7/32')]);
    const id = created.SecurityGroupRules![0]!.SecurityGroupRuleId!;
    expect(await errorCode(revoke({ GroupId: other, SecurityGroupRuleIds: [id] }))).toBe('InvalidSecurityGroupRuleId.NotFound');
    expect(await inbound(owner)).toEqual(['tcp 22-22 203.0.113.7/32']);
  });

  it('needs either rule ids or permissions', async () => {
    const groupId = await newGroup();
    expect(await errorCode(revoke({ GroupId: groupId }))).toBe('MissingParameter');
  });

  it('answers DryRunOperation to a dry run and revokes nothing', async () => {
    const groupId = await newGroup();
    await authorize(groupId, [tcp(22, '203.0.113.7/32')]);
    expect(await errorCode(revoke({ GroupId: groupId, IpPermissions: [tcp(22, '203.0.113.7/32')], DryRun: true }))).toBe('DryRunOperation');
    expect(await inbound(groupId)).toEqual(['tcp 22-22 203.0.113.7/32']);
  });
});

describe('DescribeSecurityGroupRules', () => {
  async function tagged(groupId: string, cidrs: string[], tags: Record<string, string>): Promise<string[]> {
    const out = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: cidrs.map((c) => tcp(443, c)),
        TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
      }),
    );
    return out.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId!);
  }

  it('walks every rule exactly once, page by page, in a stable order', async () => {
    const groupId = await newGroup();
    const ids = await tagged(groupId, range(23).map(v4), { walk: 'yes' });
    const seen: string[] = [];
    const pages = paginateDescribeSecurityGroupRules({ client: ec2, pageSize: 5 }, { Filters: [{ Name: 'tag:walk', Values: ['yes'] }] });
    let count = 0;
    for await (const page of pages) {
      count++;
      seen.push(...page.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId!));
    }
    expect(count).toBe(5);
    expect(seen).toEqual(ids);
  });

  it('filters by group, rule id, tag value and tag key', async () => {
    const a = await newGroup();
    const b = await newGroup();
    const [a1, a2] = await tagged(a, [v4(1), v4(2)], { team: 'red', owner: 'x' });
    const [b1] = await tagged(b, [v4(3)], { team: 'blue' });
    const query = async (filters: { Name: string; Values: string[] }[]) => {
      const out = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: filters }));
      return out.SecurityGroupRules!.filter((r) => !r.IsEgress).map((r) => r.SecurityGroupRuleId);
    };
    expect(await query([{ Name: 'group-id', Values: [a] }])).toEqual([a1, a2]);
    expect(await query([{ Name: 'group-id', Values: [a, b] }])).toEqual([a1, a2, b1]);
    expect(await query([{ Name: 'security-group-rule-id', Values: [b1!, a2!] }])).toEqual([b1, a2]);
    expect(await query([{ Name: 'group-id', Values: [a, b] }, { Name: 'tag:team', Values: ['blue'] }])).toEqual([b1]);
    expect(await query([{ Name: 'group-id', Values: [a, b] }, { Name: 'tag-key', Values: ['owner'] }])).toEqual([a1, a2]);
    expect(await query([{ Name: 'group-id', Values: [a, b] }, { Name: 'tag:team', Values: ['r*'] }])).toEqual([a1, a2]);
  });

  it('shows the default outbound rule of a new group as egress', async () => {
    const groupId = await newGroup();
    const out = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }));
    expect(out.SecurityGroupRules).toEqual([expect.objectContaining({ IsEgress: true, IpProtocol: '-1', FromPort: -1, ToPort: -1, CidrIpv4: '0.0.0.0/0' })]);
  });

  it('describes rules by id', async () => {
    const groupId = await newGroup();
    const [id] = await tagged(groupId, [v4(9)], { k: 'v' });
    const out = await ec2.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [id!] }));
    expect(out.SecurityGroupRules!.map((r) => r.CidrIpv4)).toEqual([v4(9)]);
  });

  it.each([
    ['MaxResults 4', 'InvalidParameterValue', { MaxResults: 4 }],
    ['MaxResults 1001', 'InvalidParameterValue', { MaxResults: 1001 }],
    ['MaxResults 5', 'none', { MaxResults: 5 }],
    ['MaxResults 1000', 'none', { MaxResults: 1000 }],
    ['an unknown filter', 'InvalidParameterValue', { Filters: [{ Name: 'colour', Values: ['red'] }] }],
    ['an unknown rule id', 'InvalidSecurityGroupRuleId.NotFound', { SecurityGroupRuleIds: ['sgr-0123456789abcdef0'] }],
    ['a malformed rule id', 'InvalidSecurityGroupRuleId.Malformed', { SecurityGroupRuleIds: ['sgr-1'] }],
    ['a token from another query', 'InvalidParameterValue', { MaxResults: 5, NextToken: 'eyJwIjo1LCJmIjoxfQ' }],
  ])('answers %s with %s', async (_, code, input) => {
    expect(await errorCode(ec2.send(new DescribeSecurityGroupRulesCommand(input)))).toBe(code);
  });
});
