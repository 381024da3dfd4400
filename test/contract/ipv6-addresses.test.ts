import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AssignIpv6AddressesCommand,
  DescribeInstancesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  UnassignIpv6AddressesCommand,
  type EC2Client,
  type Instance,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { MetadataService } from '@aws-sdk/ec2-metadata-service';
import ipaddr from 'ipaddr.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ec2Adapter } from '../../src/aws/ec2-adapter.js';
import { Imds } from '../../src/aws/imds.js';
import { ipv6BlockOf } from '../../src/sandbox/addresses.js';
import { defaultVpc } from '../../src/sandbox/actions/lookup.js';
import { loadStateFile, serializeWorld } from '../../src/sandbox/state-file.js';
import { errorCode, startTestSandbox, type TestSandbox } from './helpers.js';

process.env.AWS_ACCESS_KEY_ID = 'AKIDSANDBOX';
process.env.AWS_SECRET_ACCESS_KEY = 'sandbox';

let sb: TestSandbox;
let ec2: EC2Client;
const AMI = 'ami-0123456789abcdef0';

beforeAll(async () => {
  sb = await startTestSandbox({ seed: 31 });
  ec2 = sb.ec2('eu-west-1');
});
afterAll(() => sb.close());

async function launch(extra: Partial<RunInstancesCommandInput> = {}): Promise<Instance> {
  const out = await ec2.send(new RunInstancesCommand({ ImageId: AMI, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', ...extra }));
  return describe1(out.Instances![0]!.InstanceId!);
}

async function describe1(id: string): Promise<Instance> {
  return (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
}

/** What IMDS on the instance answers for a path, or its HTTP status when it is an error. */
async function metadata(id: string, path: string): Promise<string | number> {
  try {
    return await new MetadataService({ endpoint: sb.imdsUrl(id), retries: 0, ec2MetadataV1Disabled: true }).request(path, {});
  } catch (e) {
    return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? -1;
  }
}

/** Host `host` of the subnet of zone `zone` (a, b, c as 0, 1, 2) of eu-west-1's default VPC. */
function address(zone: number, host: string): string {
  const [base] = ipaddr.IPv6.parseCIDR(ipv6BlockOf(defaultVpc(sb.sandbox.world.region('eu-west-1')!)!));
  const parts = base.parts.slice(0, 4);
  parts[3] = (parts[3]! & 0xff00) | zone;
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toString().replace(/::$/, '')}::${host}`;
}

const listed = (i: Instance) => i.NetworkInterfaces?.[0]?.Ipv6Addresses?.map((a) => a.Ipv6Address);
const eniOf = (i: Instance) => i.NetworkInterfaces![0]!.NetworkInterfaceId!;

describe('instances with several IPv6 addresses', () => {
  it('gives Ipv6AddressCount addresses of one subnet, listed once each in the interface and in IMDS, the first assigned as IMDS ipv6', async () => {
    const i = await launch({ Ipv6AddressCount: 3 });
    const all = listed(i)!;
    expect(new Set(all).size).toBe(3);
    for (const a of all) expect(ipaddr.parse(a!).range()).toBe('unicast');
    const mac = i.NetworkInterfaces![0]!.MacAddress!;
    const ipv6s = String(await metadata(i.InstanceId!, `latest/meta-data/network/interfaces/macs/${mac}/ipv6s`)).split('\n');
    expect([...ipv6s].sort()).toEqual([...all].sort());
    expect(await metadata(i.InstanceId!, 'latest/meta-data/ipv6')).toBe(ipv6s[0]);
    expect(await metadata(i.InstanceId!, 'latest/meta-data/mac')).toBe(mac);
    // Which single address EC2 shows on the instance itself with several and none primary is not documented.
    expect(i.Ipv6Address).toBeUndefined();
  });

  it('lists the interface addresses by value in DescribeInstances and as assigned in IMDS', async () => {
    const asked = [address(1, 'c'), address(1, 'a'), address(1, 'b')];
    const i = await launch({ Ipv6Addresses: asked.map((Ipv6Address) => ({ Ipv6Address })) });
    expect(i.Placement?.AvailabilityZone).toBe('eu-west-1b');
    expect(listed(i)).toEqual([address(1, 'a'), address(1, 'b'), address(1, 'c')]);
    expect(await metadata(i.InstanceId!, `latest/meta-data/network/interfaces/macs/${i.NetworkInterfaces![0]!.MacAddress}/ipv6s`)).toBe(asked.join('\n'));
    expect(await metadata(i.InstanceId!, 'latest/meta-data/ipv6')).toBe(address(1, 'c'));
  });

  it('marks the first address primary with EnablePrimaryIpv6, shows it on the instance, and will not unassign it', async () => {
    const i = await launch({ NetworkInterfaces: [{ DeviceIndex: 0, Ipv6Addresses: [{ Ipv6Address: address(2, 'f') }, { Ipv6Address: address(2, 'e') }], PrimaryIpv6: true }] });
    expect(i.NetworkInterfaces![0]!.Ipv6Addresses).toEqual([{ Ipv6Address: address(2, 'e') }, { Ipv6Address: address(2, 'f'), IsPrimaryIpv6: true }]);
    expect(i.Ipv6Address).toBe(address(2, 'f'));
    expect(await errorCode(ec2.send(new UnassignIpv6AddressesCommand({ NetworkInterfaceId: eniOf(i), Ipv6Addresses: [address(2, 'f')] })))).toBe('InvalidParameterValue');
  });

  it('keeps a single-address instance as it was: the address on the instance and alone in its interface', async () => {
    const i = await launch({ Ipv6AddressCount: 1 });
    expect(listed(i)).toEqual([i.Ipv6Address]);
    expect(i.NetworkInterfaces![0]!.Ipv6Addresses![0]).not.toHaveProperty('IsPrimaryIpv6');
  });

  const taken = () => address(0, '7');
  const refused: [string, () => Partial<RunInstancesCommandInput>, string][] = [
    ['a count and addresses together', () => ({ Ipv6AddressCount: 1, Ipv6Addresses: [{ Ipv6Address: address(0, '1') }] }), 'InvalidParameterCombination'],
    ['instance-level addresses beside network interfaces', () => ({ Ipv6AddressCount: 1, NetworkInterfaces: [{ DeviceIndex: 0 }] }), 'InvalidParameterCombination'],
    ['specific addresses for more than one instance', () => ({ MaxCount: 2, Ipv6Addresses: [{ Ipv6Address: address(0, '2') }] }), 'InvalidParameterCombination'],
    ['text that is no IPv6 address', () => ({ Ipv6Addresses: [{ Ipv6Address: '10.0.0.1' }] }), 'InvalidParameterValue'],
    ['an address outside every subnet of the VPC', () => ({ Ipv6Addresses: [{ Ipv6Address: '2001:db8::1' }] }), 'InvalidParameterValue'],
    ['addresses of two subnets', () => ({ Ipv6Addresses: [{ Ipv6Address: address(0, '3') }, { Ipv6Address: address(1, '3') }] }), 'InvalidParameterValue'],
    ['an address outside the subnet asked for', () => ({ Placement: { AvailabilityZone: 'eu-west-1c' }, Ipv6Addresses: [{ Ipv6Address: address(0, '4') }] }), 'InvalidParameterValue'],
    ['one address twice', () => ({ Ipv6Addresses: [{ Ipv6Address: address(0, '5') }, { Ipv6Address: address(0, '5') }] }), 'InvalidParameterValue'],
    ['more addresses than an interface holds', () => ({ Ipv6AddressCount: 51 }), 'InvalidParameterValue'],
    ['an address another instance holds', () => ({ Ipv6Addresses: [{ Ipv6Address: taken() }] }), 'InvalidIPAddress.InUse'],
    ['a primary IPv6 address without any IPv6 address', () => ({ EnablePrimaryIpv6: true }), 'InvalidParameterValue'],
  ];
  it.each(refused)('refuses %s with %s, launching nothing', async (_what, extra, code) => {
    if (code === 'InvalidIPAddress.InUse') await launch({ Ipv6Addresses: [{ Ipv6Address: taken() }] });
    const before = sb.sandbox.world.region('eu-west-1')!.instances.size;
    expect(await errorCode(ec2.send(new RunInstancesCommand({ ImageId: AMI, MinCount: 1, MaxCount: 1, ...extra() })))).toBe(code);
    expect(sb.sandbox.world.region('eu-west-1')!.instances.size).toBe(before);
  });
});

describe('AssignIpv6Addresses and UnassignIpv6Addresses', () => {
  it('adds addresses after those the interface holds and takes them off again', async () => {
    const i = await launch({ Ipv6Addresses: [{ Ipv6Address: address(0, 'a1') }] });
    const eni = eniOf(i);
    const added = await ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eni, Ipv6AddressCount: 2 }));
    expect(added.NetworkInterfaceId).toBe(eni);
    expect(added.AssignedIpv6Addresses).toHaveLength(2);
    await ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eni, Ipv6Addresses: [address(0, 'a0')] }));
    const ipv6s = [address(0, 'a1'), ...added.AssignedIpv6Addresses!, address(0, 'a0')];
    expect(await metadata(i.InstanceId!, `latest/meta-data/network/interfaces/macs/${i.NetworkInterfaces![0]!.MacAddress}/ipv6s`)).toBe(ipv6s.join('\n'));
    expect([...listed(await describe1(i.InstanceId!))!].sort()).toEqual([...ipv6s].sort());

    const removed = await ec2.send(new UnassignIpv6AddressesCommand({ NetworkInterfaceId: eni, Ipv6Addresses: [address(0, 'a1')] }));
    expect(removed.UnassignedIpv6Addresses).toEqual([address(0, 'a1')]);
    expect(await metadata(i.InstanceId!, 'latest/meta-data/ipv6')).toBe(added.AssignedIpv6Addresses![0]);
    // An address given back can be taken again.
    await ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eni, Ipv6Addresses: [address(0, 'a1')] }));
  });

  it('answers 404 for ipv6 once the last address is gone', async () => {
    const i = await launch({ Ipv6Addresses: [{ Ipv6Address: address(0, 'b1') }] });
    await ec2.send(new UnassignIpv6AddressesCommand({ NetworkInterfaceId: eniOf(i), Ipv6Addresses: [address(0, 'b1')] }));
    expect(await metadata(i.InstanceId!, 'latest/meta-data/ipv6')).toBe(404);
    expect(listed(await describe1(i.InstanceId!))).toBeUndefined();
  });

  it('refuses what EC2 refuses, changing nothing', async () => {
    const i = await launch({ Ipv6Addresses: [{ Ipv6Address: address(0, 'c1') }] });
    const eni = eniOf(i);
    const cases: [Promise<unknown>, string][] = [
      [ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: 'eni-12' })), 'InvalidNetworkInterfaceID.Malformed'],
      [ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: 'eni-0123456789abcdef0', Ipv6AddressCount: 1 })), 'InvalidNetworkInterfaceID.NotFound'],
      [ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eni })), 'MissingParameter'],
      [ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eni, Ipv6AddressCount: 1, Ipv6Addresses: [address(0, 'c2')] })), 'InvalidParameterCombination'],
      [ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eni, Ipv6Addresses: [address(1, 'c2')] })), 'InvalidParameterValue'],
      [ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eni, Ipv6Addresses: [address(0, 'c1')] })), 'InvalidIPAddress.InUse'],
      [ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eni, Ipv6AddressCount: 50 })), 'InvalidParameterValue'],
      [ec2.send(new UnassignIpv6AddressesCommand({ NetworkInterfaceId: eni, Ipv6Addresses: [address(0, 'c3')] })), 'InvalidParameterValue'],
    ];
    for (const [call, code] of cases) expect(await errorCode(call)).toBe(code);
    expect(listed(await describe1(i.InstanceId!))).toEqual([address(0, 'c1')]);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [i.InstanceId!] }));
    expect(await errorCode(ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eni, Ipv6AddressCount: 1 })))).toBe('InvalidNetworkInterfaceID.NotFound');
  });
});

describe("the agent's and the controller's view of an instance with several IPv6 addresses", () => {
  /** `Member.ipv6` as the agent on the instance reads it, and as a controller listing reads it. */
  async function views(id: string): Promise<[string[], string[]]> {
    const imds = new Imds({ endpoint: sb.imdsUrl(id) });
    const adapter = new Ec2Adapter({ endpoint: sb.url, maxAttempts: 1 });
    try {
      const [listed] = await adapter.listMembers('eu-west-1', { instanceIds: [id] });
      return [(await imds.self()).ipv6, listed!.ipv6];
    } finally {
      imds.close();
      adapter.clients.destroy();
    }
  }

  it('is the same list, lowest first, though IMDS and DescribeInstances list the addresses in other orders', async () => {
    const i = await launch({ Ipv6Addresses: [address(1, 'e2'), address(1, 'e0'), address(1, 'e1')].map((Ipv6Address) => ({ Ipv6Address })) });
    const [agent, controller] = await views(i.InstanceId!);
    expect(agent).toEqual([address(1, 'e0'), address(1, 'e1'), address(1, 'e2')]);
    expect(controller).toEqual(agent);
  });

  it('stays the same list as addresses come and go', async () => {
    const i = await launch({ Ipv6AddressCount: 2 });
    await ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eniOf(i), Ipv6AddressCount: 3 }));
    const [agent, controller] = await views(i.InstanceId!);
    expect(agent).toHaveLength(5);
    expect(controller).toEqual(agent);
  });

  it('with a primary IPv6 address too, which the lowest address comes before', async () => {
    const i = await launch({ Ipv6Addresses: [{ Ipv6Address: address(1, 'f9') }, { Ipv6Address: address(1, 'f1') }], EnablePrimaryIpv6: true });
    const [agent, controller] = await views(i.InstanceId!);
    expect(agent).toEqual([address(1, 'f1'), address(1, 'f9')]);
    expect(controller).toEqual(agent);
  });
});

describe('state files', () => {
  it('save every address of an instance and load a file that holds one address as a string', async () => {
    const i = await launch({ Ipv6AddressCount: 2 });
    const state = serializeWorld(sb.sandbox.world);
    const saved = state.regions.find((r) => r.name === 'eu-west-1')!.instances.find((x) => x.id === i.InstanceId)!;
    expect(saved.ipv6).toHaveLength(2);
    const old = structuredClone(state) as unknown as { regions: { instances: { id: string; ipv6?: unknown }[] }[] };
    const oldInstance = old.regions.flatMap((r) => r.instances).find((x) => x.id === i.InstanceId)!;
    oldInstance.ipv6 = saved.ipv6![1];
    const dir = mkdtempSync(join(tmpdir(), 'sgsync-ipv6-state-'));
    try {
      writeFileSync(join(dir, 'old.json'), JSON.stringify(old));
      const world = loadStateFile(join(dir, 'old.json'))!;
      expect(world.region('eu-west-1')!.instances.get(i.InstanceId!)!.ipv6).toEqual([saved.ipv6![1]]);
      // A loaded address is in use: no launch is given it again.
      expect(world.publicIps.has(saved.ipv6![1]!)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
