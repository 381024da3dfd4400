import { execFileSync } from 'node:child_process';
import { X509Certificate, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeInstancesCommand,
  ModifyInstanceMetadataOptionsCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Instance,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { MetadataService } from '@aws-sdk/ec2-metadata-service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Imds } from '../../src/aws/imds.js';
import { sandboxCertificatePem, signedContent } from '../../src/sandbox/identity.js';
import { errorCode, startTestSandbox, type TestSandbox } from './helpers.js';

let sb: TestSandbox;
let ec2: EC2Client;
let web: Instance;
let dir: string;

const OPENSSL = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

async function launch(extra: Partial<RunInstancesCommandInput> = {}): Promise<Instance> {
  const out = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-0123456789abcdef0', MinCount: 1, MaxCount: 1, InstanceType: 't3.small', ...extra }));
  return describe1(out.Instances![0]!.InstanceId!);
}

async function describe1(id: string): Promise<Instance> {
  return (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
}

/** The instance's metadata client, as an agent on it would make one (tokens fetched by the SDK). */
function imds(id: string, options: ConstructorParameters<typeof MetadataService>[0] = {}): MetadataService {
  return new MetadataService({ endpoint: sb.imdsUrl(id), retries: 0, ec2MetadataV1Disabled: true, ...options });
}

/** A client that sends exactly what it is told, with no token of its own. */
function bare(id: string): MetadataService {
  return imds(id, { disableFetchToken: true, ec2MetadataV1Disabled: false });
}

/** The HTTP status a metadata call ended with. */
async function status(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (e) {
    return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? -1;
  }
}

const putToken = (id: string, headers: Record<string, string>) => bare(id).request('latest/api/token', { method: 'PUT', headers });

beforeAll(async () => {
  sb = await startTestSandbox({ seed: 3 });
  ec2 = sb.ec2('us-west-2');
  dir = mkdtempSync(join(tmpdir(), 'sgsync-imds-'));
  web = await launch({ TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'role', Value: 'web' }, { Key: 'team', Value: 'edge' }] }] });
});

afterAll(async () => {
  await sb.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('instance metadata', () => {
  const paths: [string, () => string][] = [
    ['latest/meta-data/instance-id', () => web.InstanceId!],
    ['latest/meta-data/ami-id', () => 'ami-0123456789abcdef0'],
    ['latest/meta-data/instance-type', () => 't3.small'],
    ['latest/meta-data/placement/region', () => 'us-west-2'],
    ['latest/meta-data/placement/availability-zone', () => web.Placement!.AvailabilityZone!],
    ['latest/meta-data/local-ipv4', () => web.PrivateIpAddress!],
    ['latest/meta-data/public-ipv4', () => web.PublicIpAddress!],
    ['latest/meta-data/mac', () => web.NetworkInterfaces![0]!.MacAddress!],
    ['latest/meta-data/tags/instance', () => 'role\nteam'],
    ['latest/meta-data/tags/instance/role', () => 'web'],
    ['latest/meta-data/placement/', () => 'availability-zone\nregion'],
  ];
  it.each(paths)('%s answers what EC2 says of the instance', async (path, expected) => {
    expect(await imds(web.InstanceId!).request(path, {})).toBe(expected());
  });

  it('lists the metadata categories', async () => {
    const listing = (await imds(web.InstanceId!).request('latest/meta-data/', {})).split('\n');
    expect(listing).toEqual(expect.arrayContaining(['instance-id', 'local-ipv4', 'public-ipv4', 'placement/', 'tags/']));
    expect(listing).not.toContain('ipv6');
  });

  it.each([
    ['public-ipv4 of an instance without one', { NetworkInterfaces: [{ DeviceIndex: 0, AssociatePublicIpAddress: false }] }, 'latest/meta-data/public-ipv4'],
    ['ipv6 of an instance without one', {}, 'latest/meta-data/ipv6'],
    ['a tag the instance does not have', {}, 'latest/meta-data/tags/instance/missing'],
    ['an unknown category', {}, 'latest/meta-data/nonsense'],
  ])('answers 404 for %s', async (_what, input, path) => {
    const i = await launch(input);
    expect(await status(imds(i.InstanceId!).request(path, {}))).toBe(404);
  });

  it('shows no tags when the instance metadata tags are off, and shows them once ModifyInstanceMetadataOptions turns them on', async () => {
    const tagged = { TagSpecifications: [{ ResourceType: 'instance' as const, Tags: [{ Key: 'role', Value: 'web' }] }] };
    const i = await launch({ ...tagged, MetadataOptions: { InstanceMetadataTags: 'disabled' } });
    const client = imds(i.InstanceId!);
    expect(await status(client.request('latest/meta-data/tags/instance', {}))).toBe(404);
    expect((await client.request('latest/meta-data/', {})).split('\n')).not.toContain('tags/');
    const out = await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: i.InstanceId!, InstanceMetadataTags: 'enabled' }));
    expect(out.InstanceMetadataOptions).toMatchObject({ InstanceMetadataTags: 'enabled', HttpTokens: 'required' });
    expect(await client.request('latest/meta-data/tags/instance/role', {})).toBe('web');
    await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: i.InstanceId!, InstanceMetadataTags: 'disabled' }));
    expect(await status(client.request('latest/meta-data/tags/instance/role', {}))).toBe(404);
  });

  it.each([
    ['RunInstances with an unknown InstanceMetadataTags', () => launch({ MetadataOptions: { InstanceMetadataTags: 'sometimes' as 'enabled' } }), 'InvalidParameterValue'],
    ['ModifyInstanceMetadataOptions with an unknown InstanceMetadataTags', () => ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: web.InstanceId!, InstanceMetadataTags: 'sometimes' as 'enabled' })), 'InvalidParameterValue'],
    ['ModifyInstanceMetadataOptions of an unknown instance', () => ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: 'i-0123456789abcdef0', InstanceMetadataTags: 'enabled' })), 'InvalidInstanceID.NotFound'],
  ])('refuses %s', async (_what, call, code) => {
    expect(await errorCode(call())).toBe(code);
  });

  it('shows tag keys with a comma and the other characters AWS allows, which the agent reads', async () => {
    const tags = { role: 'web', 'cost,center': 'cc-1', 'team:name@x': 'edge', 'a+b=c': '1' };
    const i = await launch({ TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }] });
    expect((await imds(i.InstanceId!).request('latest/meta-data/tags/instance', {})).split('\n').sort()).toEqual(Object.keys(tags).sort());
    const agent = new Imds({ endpoint: sb.imdsUrl(i.InstanceId!) });
    try {
      expect((await agent.self()).tags).toEqual(tags);
    } finally {
      agent.close();
    }
  });

  it('serves the IPv6 address of an instance that has one', async () => {
    const i = await launch({ Ipv6AddressCount: 1 });
    expect(await imds(i.InstanceId!).request('latest/meta-data/ipv6', {})).toBe(i.Ipv6Address);
  });

  it('follows the instance: a stop and start changes public-ipv4', async () => {
    const i = await launch();
    const before = await imds(i.InstanceId!).request('latest/meta-data/public-ipv4', {});
    await ec2.send(new StopInstancesCommand({ InstanceIds: [i.InstanceId!] }));
    expect(await status(imds(i.InstanceId!).request('latest/meta-data/public-ipv4', {}))).toBe(503);
    await ec2.send(new StartInstancesCommand({ InstanceIds: [i.InstanceId!] }));
    const after = await imds(i.InstanceId!).request('latest/meta-data/public-ipv4', {});
    expect(after).not.toBe(before);
    expect(after).toBe((await describe1(i.InstanceId!)).PublicIpAddress);
  });

  it('shows a spot interruption notice only once one is given', async () => {
    const i = await launch({ InstanceMarketOptions: { MarketType: 'spot' } });
    const client = imds(i.InstanceId!);
    expect(await status(client.request('latest/meta-data/spot/instance-action', {}))).toBe(404);
    const notice = { action: 'terminate' as const, time: '2030-01-01T00:02:00Z' };
    sb.sandbox.world.region('us-west-2')!.instances.get(i.InstanceId!)!.spotAction = notice;
    expect(JSON.parse(await client.request('latest/meta-data/spot/instance-action', {}))).toEqual(notice);
  });

  it('shows the Auto Scaling target lifecycle state only once one is set', async () => {
    const i = await launch();
    const client = imds(i.InstanceId!);
    expect(await status(client.request('latest/meta-data/autoscaling/target-lifecycle-state', {}))).toBe(404);
    sb.sandbox.world.region('us-west-2')!.instances.get(i.InstanceId!)!.lifecycleState = 'Terminated';
    expect(await client.request('latest/meta-data/autoscaling/target-lifecycle-state', {})).toBe('Terminated');
  });

  it.each([
    ['an unknown instance', 404, () => Promise.resolve('i-0123456789abcdef0')],
    ['a terminated instance', 404, async () => {
      const i = await launch();
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [i.InstanceId!] }));
      return i.InstanceId!;
    }],
    ['a stopped instance', 503, async () => {
      const i = await launch();
      await ec2.send(new StopInstancesCommand({ InstanceIds: [i.InstanceId!] }));
      return i.InstanceId!;
    }],
  ])('answers for %s as nothing running would: %i', async (_what, code, make) => {
    const id = await make();
    expect(await status(imds(id).request('latest/meta-data/instance-id', {}))).toBe(code);
  });
});

describe('IMDSv2 session tokens', () => {
  it('refuses a read without a token', async () => {
    expect(await status(bare(web.InstanceId!).request('latest/meta-data/instance-id', {}))).toBe(401);
  });

  it('refuses a token once its TTL has passed on the sandbox clock', async () => {
    const token = await imds(web.InstanceId!, { tokenTtl: 1 }).fetchMetadataToken();
    const read = () => bare(web.InstanceId!).request('latest/meta-data/instance-id', { headers: { 'x-aws-ec2-metadata-token': token } });
    expect(await read()).toBe(web.InstanceId);
    sb.sandbox.world.clock.advance(1500);
    expect(await status(read())).toBe(401);
  });

  it('refuses a forged token', async () => {
    const read = bare(web.InstanceId!).request('latest/meta-data/instance-id', { headers: { 'x-aws-ec2-metadata-token': 'AQAEAFake.token' } });
    expect(await status(read)).toBe(401);
  });

  it('binds a token from an instance path to that instance only', async () => {
    const other = await launch();
    const token = await putToken(web.InstanceId!, { 'x-aws-ec2-metadata-token-ttl-seconds': '60' });
    const read = (id: string) => bare(id).request('latest/meta-data/instance-id', { headers: { 'x-aws-ec2-metadata-token': token } });
    expect(await read(web.InstanceId!)).toBe(web.InstanceId);
    expect(await status(read(other.InstanceId!))).toBe(401);
  });

  it.each([
    ['a TTL of 1 second', 200, { 'x-aws-ec2-metadata-token-ttl-seconds': '1' }],
    ['a TTL of 21600 seconds', 200, { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' }],
    ['a TTL of 0', 400, { 'x-aws-ec2-metadata-token-ttl-seconds': '0' }],
    ['a TTL of 21601 seconds', 400, { 'x-aws-ec2-metadata-token-ttl-seconds': '21601' }],
    ['a TTL that is not a number', 400, { 'x-aws-ec2-metadata-token-ttl-seconds': 'soon' }],
    ['no TTL', 400, {}],
    ['X-Forwarded-For, as a proxy would add', 403, { 'x-aws-ec2-metadata-token-ttl-seconds': '60', 'x-forwarded-for': '203.0.113.7' }],
  ])('answers a token request with %s: %i', async (_what, code, headers) => {
    expect(await status(putToken(web.InstanceId!, headers))).toBe(code);
  });
});

describe('the instance identity document', () => {
  let document: string;
  let rsa2048: string;
  beforeAll(async () => {
    const client = imds(web.InstanceId!);
    document = await client.request('latest/dynamic/instance-identity/document', {});
    rsa2048 = await client.request('latest/dynamic/instance-identity/rsa2048', {});
  });

  it('describes the instance as EC2 does', () => {
    expect(JSON.parse(document)).toMatchObject({
      accountId: sb.sandbox.world.accountId,
      architecture: 'x86_64',
      availabilityZone: web.Placement!.AvailabilityZone,
      imageId: 'ami-0123456789abcdef0',
      instanceId: web.InstanceId,
      instanceType: 't3.small',
      pendingTime: new Date(web.LaunchTime!).toISOString().replace('.000Z', 'Z'),
      privateIp: web.PrivateIpAddress,
      region: 'us-west-2',
      version: '2017-09-30',
    });
  });

  it('carries the document inside its rsa2048 PKCS#7 signature', () => {
    expect(rsa2048).toMatch(/^[A-Za-z0-9+/=\n]+$/);
    expect(signedContent(Buffer.from(rsa2048, 'base64')).toString('utf8')).toBe(document);
  });

  it.skipIf(!OPENSSL)(`has an rsa2048 signature that openssl verifies with the sandbox certificate${OPENSSL ? '' : ' (skipped: openssl is not installed)'}`, async () => {
    const pkcs7 = join(dir, 'rsa2048.pem');
    const cert = join(dir, 'certificate.pem');
    writeFileSync(pkcs7, `-----BEGIN PKCS7-----\n${rsa2048}\n-----END PKCS7-----\n`);
    // the certificate as a user gets it, from the control API
    writeFileSync(cert, await (await fetch(`${sb.url}/_sandbox/certificate`)).text());
    const verified = execFileSync('openssl', ['smime', '-verify', '-in', pkcs7, '-inform', 'PEM', '-certfile', cert, '-noverify'], { stdio: ['ignore', 'pipe', 'pipe'] });
    expect(verified.toString('utf8')).toBe(document);
  });

  it.skipIf(!OPENSSL)('has an rsa2048 signature that openssl rejects once the document is altered', () => {
    const tampered = Buffer.from(rsa2048, 'base64');
    const at = tampered.indexOf(Buffer.from('"region"'));
    tampered[at + 1] = 'R'.charCodeAt(0);
    const pkcs7 = join(dir, 'tampered.pem');
    const cert = join(dir, 'certificate.pem');
    writeFileSync(pkcs7, `-----BEGIN PKCS7-----\n${tampered.toString('base64')}\n-----END PKCS7-----\n`);
    writeFileSync(cert, sandboxCertificatePem(sb.sandbox));
    expect(() => execFileSync('openssl', ['smime', '-verify', '-in', pkcs7, '-inform', 'PEM', '-certfile', cert, '-noverify'], { stdio: 'pipe' })).toThrow();
  });

  it('has a plain signature that the certificate key verifies', async () => {
    const signature = await imds(web.InstanceId!).request('latest/dynamic/instance-identity/signature', {});
    const certificate = new X509Certificate(sandboxCertificatePem(sb.sandbox));
    expect(verify('sha256', Buffer.from(document), certificate.publicKey, Buffer.from(signature, 'base64'))).toBe(true);
    expect(verify('sha256', Buffer.from(document.replace('us-west-2', 'us-west-1')), certificate.publicKey, Buffer.from(signature, 'base64'))).toBe(false);
  });
});
