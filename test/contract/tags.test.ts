import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteTagsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  RunInstancesCommand,
  paginateDescribeTags,
  type EC2Client,
  type Tag,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEverything, errorCode, startTestSandbox, type TestSandbox } from './helpers.js';

let sb: TestSandbox;
let ec2: EC2Client;
let groupCount = 0;

beforeAll(async () => {
  sb = await startTestSandbox({ seed: 3 });
  ec2 = sb.ec2('us-east-1');
});

afterAll(async () => {
  await sb.close();
});

/** One fresh resource of each taggable kind. */
const makers: Record<string, () => Promise<string>> = {
  'security-group': async () =>
    (await ec2.send(new CreateSecurityGroupCommand({ GroupName: `tags-${++groupCount}`, Description: 'tag target' }))).GroupId!,
  'security-group-rule': async () => {
    const groupId = await makers['security-group']!();
    const out = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '192.0.2.1/32' }] }] }),
    );
    return out.SecurityGroupRules![0]!.SecurityGroupRuleId!;
  },
  vpc: async () => (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.50.0.0/16' }))).Vpc!.VpcId!,
  instance: async () => (await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!,
};

async function tagsOf(resourceId: string): Promise<Record<string, string>> {
  const out = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [resourceId] }] }));
  return Object.fromEntries(out.Tags!.map((t): [string, string] => [t.Key!, t.Value!]));
}

const createTags = (ids: string[], tags: Tag[], DryRun?: boolean) => ec2.send(new CreateTagsCommand({ Resources: ids, Tags: tags, DryRun }));

describe('CreateTags', () => {
  it.each(Object.keys(makers))('tags a %s and DescribeTags lists it with its type', async (type) => {
    const id = await makers[type]!();
    await createTags([id], [{ Key: 'owner', Value: 'sgsync' }]);
    const out = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [id] }] }));
    expect(out.Tags).toEqual([{ ResourceId: id, ResourceType: type, Key: 'owner', Value: 'sgsync' }]);
  });

  it('shows rule tags where the rule is described and filtered', async () => {
    const ruleId = await makers['security-group-rule']!();
    await createTags([ruleId], [{ Key: 'sgsync:instance', Value: 'i-1' }]);
    const out = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'tag:sgsync:instance', Values: ['i-1'] }] }));
    expect(out.SecurityGroupRules!.map((r) => [r.SecurityGroupRuleId, r.Tags])).toEqual([[ruleId, [{ Key: 'sgsync:instance', Value: 'i-1' }]]]);
  });

  it('overwrites the value of an existing key', async () => {
    const id = await makers['security-group']!();
    await createTags([id], [{ Key: 'env', Value: 'test' }]);
    await createTags([id], [{ Key: 'env', Value: 'prod' }]);
    expect(await tagsOf(id)).toEqual({ env: 'prod' });
  });

  it('takes 50 tags on one resource, and overwriting one of them does not count as a 51st', async () => {
    const id = await makers['security-group']!();
    await createTags([id], Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })));
    expect(await errorCode(createTags([id], [{ Key: 'k0', Value: 'changed' }]))).toBe('none');
    expect(Object.keys(await tagsOf(id))).toHaveLength(50);
  });

  it.each([
    ['an unknown rule', 'InvalidSecurityGroupRuleId.NotFound', 'sgr-0123456789abcdef0'],
    ['an unknown group', 'InvalidGroup.NotFound', 'sg-0123456789abcdef0'],
    ['an unknown instance', 'InvalidInstanceID.NotFound', 'i-0123456789abcdef0'],
    ['an unknown VPC', 'InvalidVpcID.NotFound', 'vpc-0123456789abcdef0'],
    ['a malformed instance id', 'InvalidInstanceID.Malformed', 'i-xyz'],
    ['an id of no known kind', 'InvalidID', 'subnet-0123456789abcdef0'],
  ])('refuses %s with %s, and tags nothing else in the request', async (_, code, unknownId) => {
    const id = await makers['security-group']!();
    expect(await errorCode(createTags([id, unknownId], [{ Key: 'a', Value: 'b' }]))).toBe(code);
    expect(await tagsOf(id)).toEqual({});
  });

  it('does not find a resource of another region', async () => {
    const west = sb.ec2('eu-west-1');
    const westGroup = (await west.send(new CreateSecurityGroupCommand({ GroupName: 'west', Description: 'elsewhere' }))).GroupId!;
    expect(await errorCode(createTags([westGroup], [{ Key: 'a', Value: 'b' }]))).toBe('InvalidGroup.NotFound');
  });

  it.each([
    ['a key over 128 characters', 'InvalidParameterValue', [{ Key: 'k'.repeat(129), Value: 'v' }]],
    ['a value over 256 characters', 'InvalidParameterValue', [{ Key: 'k', Value: 'v'.repeat(257) }]],
    ['the reserved aws: prefix', 'InvalidParameterValue', [{ Key: 'aws:cloudformation:stack', Value: 'v' }]],
    ['the reserved prefix in capitals', 'InvalidParameterValue', [{ Key: 'AWS:x', Value: 'v' }]],
    ['a 51st tag', 'TagLimitExceeded', Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }))],
    ['a dry run', 'DryRunOperation', [{ Key: 'k', Value: 'v' }]],
  ])('refuses %s with %s and changes nothing', async (name, code, tags) => {
    const id = await makers['security-group']!();
    const before = await describeEverything(ec2);
    expect(await errorCode(createTags([id], tags, name === 'a dry run'))).toBe(code);
    expect(await describeEverything(ec2)).toEqual(before);
  });

  it('counts tags a resource already has against the limit', async () => {
    const id = await makers['security-group']!();
    await createTags([id], Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })));
    expect(await errorCode(createTags([id], [{ Key: 'new1', Value: 'v' }, { Key: 'new2', Value: 'v' }]))).toBe('TagLimitExceeded');
    expect(Object.keys(await tagsOf(id))).toHaveLength(49);
  });
});

describe('DeleteTags', () => {
  it.each([
    ['a key alone removes it whatever its value', [{ Key: 'env' }], { team: 'red' }],
    ['a key with its value removes it', [{ Key: 'env', Value: 'prod' }], { team: 'red' }],
    ['a key with another value keeps it', [{ Key: 'env', Value: 'test' }], { env: 'prod', team: 'red' }],
    ['a key with an empty value keeps a non-empty one', [{ Key: 'env', Value: '' }], { env: 'prod', team: 'red' }],
    ['no key at all removes every tag', undefined, {}],
  ] as [string, Tag[] | undefined, Record<string, string>][])('%s', async (_, tags, left) => {
    const id = await makers['security-group']!();
    await createTags([id], [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'red' }]);
    await ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: tags }));
    expect(await tagsOf(id)).toEqual(left);
  });

  it.each([
    ['an unknown resource', 'InvalidSecurityGroupRuleId.NotFound', 'sgr-0123456789abcdef0', false],
    ['a dry run', 'DryRunOperation', undefined, true],
  ])('refuses %s with %s and removes nothing', async (_, code, extraId, dryRun) => {
    const id = await makers['security-group']!();
    await createTags([id], [{ Key: 'env', Value: 'prod' }]);
    const request = new DeleteTagsCommand({ Resources: extraId ? [id, extraId] : [id], Tags: [{ Key: 'env' }], DryRun: dryRun });
    expect(await errorCode(ec2.send(request))).toBe(code);
    expect(await tagsOf(id)).toEqual({ env: 'prod' });
  });
});

describe('DescribeTags', () => {
  let groupId: string;
  let ruleId: string;

  beforeAll(async () => {
    ruleId = await makers['security-group-rule']!();
    groupId = await makers['security-group']!();
    await createTags([ruleId], [{ Key: 'sgsync:managed-by', Value: 'describe-tags' }]);
    await createTags([groupId], [{ Key: 'sgsync:managed-by', Value: 'describe-tags' }, { Key: 'colour', Value: 'green' }]);
  });

  const rows = async (filters: { Name: string; Values: string[] }[]) => {
    const out = await ec2.send(new DescribeTagsCommand({ Filters: filters }));
    return out.Tags!.map((t) => `${t.ResourceType} ${t.ResourceId} ${t.Key}=${t.Value}`);
  };

  it.each([
    ['key', () => [{ Name: 'key', Values: ['colour'] }], () => [`security-group ${groupId} colour=green`]],
    ['value', () => [{ Name: 'value', Values: ['describe-tags'] }], () => [`security-group ${groupId} sgsync:managed-by=describe-tags`, `security-group-rule ${ruleId} sgsync:managed-by=describe-tags`]],
    ['resource type', () => [{ Name: 'value', Values: ['describe-tags'] }, { Name: 'resource-type', Values: ['security-group-rule'] }], () => [`security-group-rule ${ruleId} sgsync:managed-by=describe-tags`]],
    ['resource id', () => [{ Name: 'resource-id', Values: [groupId] }], () => [`security-group ${groupId} sgsync:managed-by=describe-tags`, `security-group ${groupId} colour=green`]],
    ['wildcard key', () => [{ Name: 'key', Values: ['col*'] }], () => [`security-group ${groupId} colour=green`]],
  ])('filters by %s', async (_, filters, expected) => {
    expect(await rows(filters())).toEqual(expected());
  });

  it('walks every tag exactly once, page by page', async () => {
    const ids = await Promise.all(Array.from({ length: 4 }, () => makers['security-group']!()));
    for (const id of ids) await createTags([id], [{ Key: 'walk', Value: 'a' }, { Key: 'walk-too', Value: 'b' }, { Key: 'walk-three', Value: 'c' }]);
    const seen: string[] = [];
    for await (const page of paginateDescribeTags({ client: ec2, pageSize: 5 }, { Filters: [{ Name: 'key', Values: ['walk*'] }] })) {
      seen.push(...page.Tags!.map((t) => `${t.ResourceId} ${t.Key}`));
    }
    expect(seen).toHaveLength(12);
    expect(new Set(seen).size).toBe(12);
  });

  it.each([
    ['MaxResults 4', 'InvalidParameterValue', { MaxResults: 4 }],
    ['MaxResults 1001', 'InvalidParameterValue', { MaxResults: 1001 }],
    ['an unknown filter', 'InvalidParameterValue', { Filters: [{ Name: 'colour', Values: ['x'] }] }],
  ])('answers %s with %s', async (_, code, input) => {
    expect(await errorCode(ec2.send(new DescribeTagsCommand(input)))).toBe(code);
  });

  it('lists the tags a group was created with', async () => {
    const created = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: 'born-tagged', Description: 'x', TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'born', Value: 'yes' }] }] }),
    );
    expect(await tagsOf(created.GroupId!)).toEqual({ born: 'yes' });
    const described = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [created.GroupId!] }));
    expect(described.SecurityGroups![0]!.Tags).toEqual([{ Key: 'born', Value: 'yes' }]);
  });
});
