import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox } from '../../src/sandbox/sandbox.js';
import { startSandbox } from '../../src/sandbox/server.js';
import { loadStateFile, saveStateFile, serializeWorld } from '../../src/sandbox/state-file.js';
import { startTestSandbox, type TestSandbox } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sgsync-state-'));
const open: TestSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((sb) => sb.close()));
});

/** A sandbox with one of everything: a VPC, a group with tagged rules, instances running and stopped, quotas and a moved clock. */
async function populated(): Promise<TestSandbox> {
  const sb = await startTestSandbox({ seed: 3 });
  open.push(sb);
  const ec2 = sb.ec2('eu-west-1');
  const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16', TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'Name', Value: 'lab' }] }] }));
  const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'pool-a', Description: 'pool', VpcId: Vpc!.VpcId }));
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '198.51.100.9/32', Description: 'member' }] }],
      TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: 'sgsync:managed-by', Value: 'prod' }] }],
    }),
  );
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.micro', MinCount: 3, MaxCount: 3,
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'role', Value: 'worker' }] }],
    }),
  );
  await ec2.send(new StopInstancesCommand({ InstanceIds: [run.Instances![0]!.InstanceId!] }));
  const post = (path: string, body: unknown) => fetch(`${sb.url}/_sandbox${path}`, { method: 'POST', body: JSON.stringify(body) });
  await post('/quotas', { region: 'eu-west-1', quota: 80 });
  await post('/quotas', { region: 'eu-west-1', groupId: GroupId, quota: 7 });
  await post(`/instances/${run.Instances![1]!.InstanceId}/spot-notice`, { action: 'stop', time: '2031-05-01T10:00:00Z' });
  await post('/clock/advance', { seconds: 86_400 });
  return sb;
}

/** The snapshot without the moment it was taken. */
const stable = (s: ReturnType<typeof serializeWorld>) => ({ ...s, savedAt: undefined, clockOffsetMs: Math.round(s.clockOffsetMs / 60_000) });

describe('the state file', () => {
  it('brings back every VPC, group, rule, instance, tag, quota and the clock offset', async () => {
    const before = await populated();
    const path = join(dir, 'round-trip.json');
    saveStateFile(path, before.sandbox.world);

    const world = loadStateFile(path)!;
    expect(stable(serializeWorld(world))).toEqual(stable(serializeWorld(before.sandbox.world)));

    const sandbox = new Sandbox({ seed: 3 });
    sandbox.reset(world);
    const running = await startSandbox({ port: 0, host: '127.0.0.1' }, sandbox);
    const client = new EC2Client({ region: 'eu-west-1', endpoint: running.url, credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' } });
    try {
      const instances = (await client.send(new DescribeInstancesCommand({}))).Reservations!.flatMap((r) => r.Instances!);
      const original = (await before.ec2('eu-west-1').send(new DescribeInstancesCommand({}))).Reservations!.flatMap((r) => r.Instances!);
      expect(instances.map((i) => [i.InstanceId, i.State!.Name, i.PublicIpAddress, i.Tags])).toEqual(
        original.map((i) => [i.InstanceId, i.State!.Name, i.PublicIpAddress, i.Tags]),
      );
      const rules = await client.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'tag:sgsync:managed-by', Values: ['prod'] }] }));
      expect(rules.SecurityGroupRules!.map((r) => [r.CidrIpv4, r.Description])).toEqual([['198.51.100.9/32', 'member']]);

      // Ids handed out after a restore never repeat a loaded one.
      const loadedIds = new Set(JSON.stringify(serializeWorld(world)).match(/\b(?:sg|sgr|i|vpc)-0[0-9a-f]{16}\b/g));
      const { GroupId } = await client.send(new CreateSecurityGroupCommand({ GroupName: 'after-restore', Description: 'new' }));
      expect(loadedIds.has(GroupId!)).toBe(false);
    } finally {
      client.destroy();
      await running.close();
    }
  });

  it('never hands out again an id it handed out before the save, even of a rule revoked since', async () => {
    const sb = await startTestSandbox({ seed: 5 });
    open.push(sb);
    const ec2 = sb.ec2('eu-west-1');
    const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'pool', Description: 'pool' }));
    const authorize = async (client: EC2Client, prefix: string) => {
      const cidrs = Array.from({ length: 6 }, (_, i) => ({ CidrIp: `${prefix}.${i + 1}/32` }));
      const res = await client.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: cidrs }] }));
      return res.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId!);
    };
    const first = await authorize(ec2, '198.18.0');
    await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId, SecurityGroupRuleIds: first }));
    const path = join(dir, 'ids.json');
    saveStateFile(path, sb.sandbox.world);

    const sandbox = new Sandbox({ seed: 5 });
    sandbox.reset(loadStateFile(path));
    const running = await startSandbox({ port: 0, host: '127.0.0.1' }, sandbox);
    const client = new EC2Client({ region: 'eu-west-1', endpoint: running.url, credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' } });
    try {
      const again = await authorize(client, '203.0.113');
      expect(again.filter((id) => first.includes(id))).toEqual([]);
    } finally {
      client.destroy();
      await running.close();
    }
  });

  it('writes atomically: no temporary file is left beside it', async () => {
    const sb = await populated();
    const path = join(dir, 'atomic.json');
    saveStateFile(path, sb.sandbox.world);
    saveStateFile(path, sb.sandbox.world);
    expect(readdirSync(dir).filter((f) => f.startsWith('atomic.json'))).toEqual(['atomic.json']);
  });

  it('treats a missing file as a fresh start', () => {
    expect(loadStateFile(join(dir, 'does-not-exist.json'))).toBeUndefined();
  });

  const good = () => serializeWorld(new Sandbox({ seed: 9, regions: ['us-east-1', 'eu-west-1'] }).world);

  it.each([
    ['not JSON', () => '{"format": "sgsync-sandbox-state",', /is not valid JSON/],
    ['another kind of file', () => ({ hello: 'world' }), /is not an sgsync sandbox state file/],
    ['a newer format', () => ({ ...good(), version: 2 }), /has format version 2; this sgsync reads version 1/],
    ['a misspelt field', () => ({ ...good(), regoins: [] }), /Unrecognized key: "regoins"/],
    ['a bad id', () => { const s = good(); s.regions[0]!.vpcs[0]!.id = 'vpc-nothex!'; return s; }, /regions\[0\]\.vpcs\[0\]\.id: "vpc-nothex!" is not an id such as vpc-0123456789abcdef0/],
    ['a group in a VPC that does not exist', () => { const s = good(); s.regions[0]!.groups[0]!.vpcId = 'vpc-0123456789abcdef0'; return s; }, /groups\[0\]\.vpcId: vpc-0123456789abcdef0 is not a VPC of us-east-1/],
    ['a rule its group does not list', () => {
      const s = good();
      const region = s.regions[1]!;
      region.rules.push({ id: 'sgr-0123456789abcdef0', groupId: region.groups[0]!.id, isEgress: false, protocol: 'tcp', fromPort: 1, toPort: 1, cidrIpv4: '198.51.100.1/32', tags: {} });
      return s;
    }, /rules\[\d+\]: sgr-0123456789abcdef0 is not listed in the ruleIds of its group/],
    ['the same id twice', () => {
      const s = good();
      const [a, b] = [s.regions[0]!, s.regions[1]!];
      b.vpcs[0]!.id = a.vpcs[0]!.id;
      b.groups[0]!.vpcId = a.vpcs[0]!.id;
      return s;
    }, /appears more than once/],
  ])('refuses %s, naming the file, and leaves the file as it was', (name, content, message) => {
    const path = join(dir, `invalid-${name.replace(/\W+/g, '-')}.json`);
    const c: unknown = content();
    const text = typeof c === 'string' ? c : JSON.stringify(c);
    writeFileSync(path, text);
    expect(() => loadStateFile(path)).toThrow(new RegExp(`state file ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(() => loadStateFile(path)).toThrow(message);
    expect(readFileSync(path, 'utf8')).toBe(text);
  });
});
