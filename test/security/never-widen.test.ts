/**
 * Safety rule 5 at the apply boundary: whatever the inventory says, what
 * reaches AuthorizeSecurityGroupIngress is one address (/32 or /128) of an
 * instance that was listed and running, of the kind its target asks for. Shown
 * three ways: a capturing Ec2Port under random hostile inventories, the EC2
 * adapter refusing a widened batch before any request leaves, and the sandbox
 * with an instance whose tags lie about its address.
 */
import { CreateSecurityGroupCommand, CreateVpcCommand, DescribeInstancesCommand, DescribeSecurityGroupRulesCommand, RunInstancesCommand, AuthorizeSecurityGroupIngressCommand, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../../src/agent/register.js';
import { Ec2Adapter } from '../../src/aws/ec2-adapter.js';
import { Imds } from '../../src/aws/imds.js';
import { parseConfig, type LoadedConfig } from '../../src/config/index.js';
import { controllerPass } from '../../src/controller/pass.js';
import { admits, classifyAddress, hostCidr, parseCidr } from '../../src/core/addresses.js';
import { SgsyncError } from '../../src/core/errors.js';
import type { GroupBatch, Member, PlannedRule } from '../../src/core/model.js';
import { TAG } from '../../src/core/ownership.js';
import { startTestSandbox, type TestSandbox } from '../contract/helpers.js';
import { memberArb } from '../fuzz/planner-world.js';
import { startHostileServer } from '../fuzz/hostile-server.js';
import { capturingEc2, HOSTILE } from './hostile-fleet.js';

process.env.AWS_ACCESS_KEY_ID = 'AKIDSANDBOX';
process.env.AWS_SECRET_ACCESS_KEY = 'sandbox';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const PUBLIC_POOL = ['sg-0000000000000000a', 'sg-0000000000000000b'];
const PRIVATE_POOL = ['sg-0000000000000000c'];
const REGIONS = ['eu-west-1', 'ap-southeast-2', 'us-west-2', 'sa-east-1'];

function config(extra = ''): LoadedConfig {
  return parseConfig(
    [
      'deployment: prod',
      'targets:',
      '  - name: public',
      '    region: us-east-1',
      `    groups: [${PUBLIC_POOL.join(', ')}]`,
      '    ports: [443, 8000-8100/udp]',
      '    families: [ipv4, ipv6]',
      '    quota: 50',
      '    members: {}',
      '  - name: private',
      '    region: us-east-1',
      `    groups: [${PRIVATE_POOL.join(', ')}]`,
      '    ports: [5432]',
      '    address: private',
      '    members: {tags: {role: [api, db]}}',
      `controller: {regions: [${REGIONS.join(', ')}]}`,
      'safety: {revokeLimit: {count: 1000, fraction: 1}}',
      extra,
    ].join('\n'),
    'sgsync.yaml',
  );
}

/** Checks every rule sent against the inventory that was listed. */
function expectOnlyVerifiedHosts(batches: GroupBatch<PlannedRule>[], listed: Member[], cfg: LoadedConfig): void {
  for (const batch of batches) {
    for (const item of batch.items) {
      const parsed = parseCidr(item.cidr);
      expect(parsed?.family, item.cidr).toBe(item.family);
      expect(parsed?.prefixLength, item.cidr).toBe(item.family === 'ipv4' ? 32 : 128);
      const target = cfg.targets.find((t) => t.name === item.target)!;
      expect(target.groupIds).toContain(batch.groupId);
      const member = listed.find((m) => m.instanceId === item.instanceId && m.region === item.memberRegion);
      expect(member?.state, `${item.instanceId} was not listed as running`).toBe('running');
      const text = item.family === 'ipv6' ? member!.ipv6[0] : target.address === 'public' ? member!.publicIpv4 : member!.privateIpv4;
      const address = classifyAddress(text ?? '');
      expect(address && hostCidr(address)).toBe(item.cidr);
      expect(admits(target.address, address!)).toBe(true);
      if (item.family === 'ipv4') expect(address!.class).toBe(target.address);
      expect(item.tags[TAG.instance]).toBe(item.instanceId);
    }
  }
}

describe('what a controller pass sends, over random hostile inventories', () => {
  it('is only ever single addresses of listed, running members of the right kind', async () => {
    const cfg = config();
    const inventory = fc.tuple(...REGIONS.map(() => fc.oneof(fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 6 }), fc.constant(null))));
    await fc.assert(
      fc.asyncProperty(inventory, fc.infiniteStream(memberArb('x')), async (perRegion, draws) => {
        const it = draws[Symbol.iterator]();
        const members: Record<string, Member[] | Error> = {};
        const listed: Member[] = [];
        REGIONS.forEach((region, r) => {
          const ids = perRegion[r];
          if (ids === null || ids === undefined) return void (members[region] = new SgsyncError('AWS_UNAVAILABLE', 'listing failed'));
          // The same instance id may turn up in two regions: a confused or hostile inventory.
          members[region] = ids.map((n) => ({ ...(it.next().value as Member), instanceId: `i-${n.toString(16).padStart(17, '0')}`, region }));
          listed.push(...members[region]);
        });
        const ec2 = capturingEc2({ members, rules: [] });
        await controllerPass({ config: cfg, ec2, apply: true, now: () => Date.UTC(2026, 0, 1) });
        expectOnlyVerifiedHosts(ec2.captured.authorize, listed, cfg);
      }),
      { numRuns: 80 },
    );
  });

  it('for one instance (an event), admits that instance and no other the listing slipped in', async () => {
    const cfg = config();
    const asked = { instanceId: 'i-0000000000000000a', region: 'eu-west-1' };
    const stowaway: Member = { instanceId: 'i-0000000000000000b', region: 'eu-west-1', state: 'running', publicIpv4: '54.2.2.2', ipv6: [], tags: {} };
    const ec2 = capturingEc2({ members: { 'eu-west-1': [{ ...stowaway, ...asked, publicIpv4: '54.1.1.1' }, stowaway] }, rules: [] });
    await controllerPass({ config: cfg, ec2, apply: true, instance: asked });
    const sent = ec2.captured.authorize.flatMap((b) => b.items);
    expect(sent.length).toBeGreaterThan(0);
    expect(new Set(sent.map((i) => i.instanceId))).toEqual(new Set([asked.instanceId]));
    expect(new Set(sent.map((i) => i.cidr))).toEqual(new Set(['54.1.1.1/32']));
  });
});

describe('the EC2 adapter', () => {
  const rule = (cidr: string, family: 'ipv4' | 'ipv6' = cidr.includes(':') ? 'ipv6' : 'ipv4'): PlannedRule => ({
    target: 'public', instanceId: 'i-0000000000000000a', memberRegion: 'eu-west-1', family, port: { protocol: 'tcp', fromPort: 443, toPort: 443 }, cidr, groupId: PUBLIC_POOL[0]!, description: 'sgsync prod/public', tags: { [TAG.managedBy]: 'prod' },
  });

  it.each([
    ['the whole IPv4 internet', rule('0.0.0.0/0')],
    ['the whole IPv6 internet', rule('::/0')],
    ['a /24', rule('54.1.2.0/24')],
    ['a /31', rule('54.1.2.2/31')],
    ['a /64', rule('2600:1f18::/64')],
    ['an address without a prefix', rule('54.1.2.3')],
    ['an IPv6 host filed as IPv4', rule('2600:1f18::1/128', 'ipv4')],
    ['text that is no CIDR', rule(HOSTILE)],
  ])('refuses to send %s, and sends nothing of the batch', async (_what, wide) => {
    const server = await startHostileServer((_req, res) => void res.writeHead(500).end());
    const adapter = new Ec2Adapter({ endpoint: server.url, maxAttempts: 1 });
    try {
      const batch: GroupBatch<PlannedRule> = { groupId: PUBLIC_POOL[0]!, region: 'us-east-1', items: [rule('54.1.2.3/32'), wide] };
      await expect(adapter.authorize(batch)).rejects.toMatchObject({ code: 'REFUSED' });
      expect(server.requests).toEqual([]);
    } finally {
      adapter.clients.destroy();
      await server.close();
    }
  });
});

describe('an instance whose tags lie about its address, in the sandbox', () => {
  let sb: TestSandbox;
  let pool: string[];
  let liar: { id: string; publicIp: string };
  let cfg: LoadedConfig;
  let openRule: string;

  beforeAll(async () => {
    sb = await startTestSandbox({ seed: 17, log: () => undefined });
    const vpc = (await sb.ec2().send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }))).Vpc!.VpcId!;
    pool = [];
    for (const name of ['a', 'b']) pool.push((await sb.ec2().send(new CreateSecurityGroupCommand({ GroupName: `pool-${name}`, Description: 'pool', VpcId: vpc }))).GroupId!);
    // A hand-made rule open to the world, in the pool: reported, never touched, never copied.
    openRule = (await sb.ec2().send(new AuthorizeSecurityGroupIngressCommand({ GroupId: pool[0], IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }))).SecurityGroupRules![0]!.SecurityGroupRuleId!;
    const lies = [
      { Key: 'role', Value: 'api' },
      { Key: 'sgsync:address', Value: '0.0.0.0/0' },
      { Key: 'PublicIpAddress', Value: '1.1.1.1' },
      { Key: TAG.managedBy, Value: 'prod' },
      { Key: TAG.instance, Value: 'i-0ffffffffffffffff' },
      { Key: 'Name', Value: HOSTILE },
    ];
    const run = await sb.ec2('eu-west-1').send(
      new RunInstancesCommand({ ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.small', MinCount: 1, MaxCount: 1, MetadataOptions: { InstanceMetadataTags: 'enabled' }, TagSpecifications: [{ ResourceType: 'instance', Tags: lies }] }),
    );
    const id = run.Instances![0]!.InstanceId!;
    const described = (await sb.ec2('eu-west-1').send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
    liar = { id, publicIp: described.PublicIpAddress! };
    cfg = parseConfig(
      ['deployment: prod', 'targets:', '  - name: api', '    region: us-east-1', `    groups: [${pool.join(', ')}]`, '    ports: [443]', '    members: {regions: [eu-west-1], tags: {role: api}}', 'controller: {regions: [eu-west-1]}', `aws: {endpoint: "${sb.url}"}`].join('\n'),
      'sgsync.yaml',
    );
  });
  afterAll(() => sb.close());

  async function inboundRules() {
    const out = await sb.ec2().send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: pool }] }));
    return (out.SecurityGroupRules ?? []).filter((r) => !r.IsEgress);
  }

  it('is admitted by the controller at its real address only', async () => {
    expect(liar.publicIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const ec2 = new Ec2Adapter({ endpoint: sb.url, maxAttempts: 2 });
    try {
      await controllerPass({ config: cfg, ec2, apply: true });
    } finally {
      ec2.clients.destroy();
    }
    const rules = await inboundRules();
    const managed = rules.filter((r) => r.Tags?.some((t) => t.Key === TAG.managedBy && t.Value === 'prod'));
    expect(managed.map((r) => r.CidrIpv4)).toEqual([`${liar.publicIp}/32`]);
    expect(managed[0]!.Description).toContain(liar.id);
    expect(rules.find((r) => r.SecurityGroupRuleId === openRule)?.CidrIpv4).toBe('0.0.0.0/0');
    expect(rules.filter((r) => r.CidrIpv4 === '0.0.0.0/0')).toHaveLength(1);
  });

  it('is admitted by its own agent at its real address only, whatever its metadata tags say', async () => {
    // Start from no managed rule, so that what is there afterwards is the agent's doing.
    for (const r of (await inboundRules()).filter((x) => x.Tags?.some((t) => t.Key === TAG.managedBy))) {
      await sb.ec2().send(new RevokeSecurityGroupIngressCommand({ GroupId: r.GroupId, SecurityGroupRuleIds: [r.SecurityGroupRuleId!] }));
    }
    expect((await inboundRules()).filter((r) => r.Tags?.some((t) => t.Key === TAG.managedBy))).toEqual([]);
    const ec2 = new Ec2Adapter({ endpoint: sb.url, maxAttempts: 2 });
    const instance = new Imds({ endpoint: sb.imdsUrl(liar.id), timeoutMs: 2000 });
    try {
      await register({ config: cfg, ec2, instance, now: () => Date.now() });
    } finally {
      instance.close();
      ec2.clients.destroy();
    }
    const managed = (await inboundRules()).filter((r) => r.Tags?.some((t) => t.Key === TAG.managedBy));
    expect(managed.map((r) => r.CidrIpv4)).toEqual([`${liar.publicIp}/32`]);
  });
});
