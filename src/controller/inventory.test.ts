import { describe, expect, it } from 'vitest';
import type { Member, ObservedRule } from '../core/model.js';
import { TAG } from '../core/ownership.js';
import type { Ec2Port, ListFilter } from '../core/ports.js';
import { parseConfig } from '../config/index.js';
import { inventoryRegions, lookUpNamedInstances, takeInventory } from './inventory.js';

const A = 'i-0aaaaaaaaaaaaaaa1';
const UNTAGGED = 'i-0aaaaaaaaaaaaaaa2';
const GONE = 'i-0aaaaaaaaaaaaaaa3';
const B = 'i-0bbbbbbbbbbbbbbb1';
const OTHER = 'i-0bbbbbbbbbbbbbbb2';
const FOREIGN = 'i-0bbbbbbbbbbbbbbb3';
const FAR = 'i-0ccccccccccccccc1';

const member = (instanceId: string, region: string, tags: Record<string, string> = {}): Member => ({ instanceId, region, state: 'running', publicIpv4: '52.95.0.1', ipv6: [], tags });

let next = 0;
const rule = (instanceId: string, region: string, deployment = 'prod'): ObservedRule => ({
  ruleId: `sgr-${++next}`,
  groupId: 'sg-1',
  family: 'ipv4',
  protocol: 'tcp',
  fromPort: 443,
  toPort: 443,
  cidr: '52.95.0.1/32',
  tags: { [TAG.managedBy]: deployment, [TAG.target]: 'api', [TAG.instance]: instanceId, [TAG.region]: region },
});

/** An EC2 of two regions that records each listing and fails where told. */
function fakeEc2(fleet: Member[], failLookupsIn: string[] = []) {
  const calls: { region: string; instanceIds?: string[]; filters?: ListFilter[] }[] = [];
  const ec2: Ec2Port = {
    enabledRegions: () => Promise.resolve(['eu-west-1', 'us-west-2']),
    listMembers(region, options = {}) {
      calls.push({ region, ...options });
      if (options.instanceIds && failLookupsIn.includes(region)) return Promise.reject(new Error('EC2 is down'));
      const inRegion = fleet.filter((m) => m.region === region);
      if (options.instanceIds) return Promise.resolve(inRegion.filter((m) => options.instanceIds?.includes(m.instanceId)));
      // The filters the tests use: tag:role.
      const roles = options.filters?.find((f) => f.Name === 'tag:role')?.Values;
      return Promise.resolve(roles ? inRegion.filter((m) => roles.includes(m.tags?.role ?? '')) : inRegion);
    },
    listRules: () => Promise.resolve([]),
    authorize: () => Promise.reject(new Error('not used')),
    revoke: () => Promise.reject(new Error('not used')),
  };
  return { ec2, calls };
}

const fleet = [
  member(A, 'eu-west-1', { role: 'api' }),
  member(UNTAGGED, 'eu-west-1'),
  member(B, 'us-west-2', { role: 'api' }),
  member(OTHER, 'us-west-2', { role: 'web' }),
];

describe('takeInventory with filters', () => {
  it('lists each region through the filters', async () => {
    const { ec2, calls } = fakeEc2(fleet);
    const inventory = await takeInventory(ec2, ['eu-west-1', 'us-west-2'], { filters: [{ Name: 'tag:role', Values: ['api'] }] });
    expect(inventory.members.map((m) => m.instanceId).sort()).toEqual([A, B]);
    expect(calls.every((c) => c.filters?.[0]?.Name === 'tag:role')).toBe(true);
    expect(inventory.regions.map((r) => r.instances)).toEqual([1, 1]);
  });

  it('sends no filter when given none', async () => {
    const { ec2, calls } = fakeEc2(fleet);
    const inventory = await takeInventory(ec2, ['eu-west-1', 'us-west-2'], { filters: [] });
    expect(inventory.members).toHaveLength(4);
    expect(calls.map((c) => c.filters)).toEqual([undefined, undefined]);
  });

  it('records when each complete region\'s listing was asked for, which later rules are not judged by', async () => {
    const { ec2 } = fakeEc2(fleet);
    let clock = 1_000;
    const inventory = await takeInventory(ec2, ['eu-west-1', 'us-west-2'], { concurrency: 1, now: () => (clock += 10) });
    expect(inventory.regionInventory).toEqual({ 'eu-west-1': { status: 'complete', listedAt: 1_010 }, 'us-west-2': { status: 'complete', listedAt: 1_030 } });
  });
});

describe('lookUpNamedInstances', () => {
  const filters = [{ Name: 'tag:role', Values: ['api'] }];

  it('looks up, by id and once, the instances managed rules name that the listing left out', async () => {
    const { ec2, calls } = fakeEc2(fleet);
    const inventory = await takeInventory(ec2, ['eu-west-1', 'us-west-2'], { filters });
    calls.length = 0;
    const asked = new Set<string>();
    const observed = [
      rule(A, 'eu-west-1'), // listed: not looked up
      rule(UNTAGGED, 'eu-west-1'),
      rule(UNTAGGED, 'eu-west-1'), // a second rule of the same instance
      rule(GONE, 'eu-west-1'),
      rule(OTHER, 'us-west-2'),
      rule(FOREIGN, 'us-west-2', 'staging'), // another deployment's: not ours to judge
      rule(FAR, 'ap-south-1'), // a region this pass did not list: its rules are kept anyway
      rule('not-an-instance', 'eu-west-1'), // a garbled id: nothing EC2 could show
    ];
    await lookUpNamedInstances(ec2, inventory, observed, { deployment: 'prod', asked });
    expect(calls.map((c) => [c.region, c.instanceIds, c.filters]).sort()).toEqual([
      ['eu-west-1', [UNTAGGED, GONE], undefined],
      ['us-west-2', [OTHER], undefined],
    ]);
    expect(inventory.members.map((m) => m.instanceId).sort()).toEqual([A, UNTAGGED, B, OTHER]);
    expect(inventory.regions.map((r) => [r.region, r.status, r.instances])).toEqual([
      ['eu-west-1', 'complete', 2],
      ['us-west-2', 'complete', 2],
    ]);

    // The next round of the same pass asks nothing again.
    calls.length = 0;
    await lookUpNamedInstances(ec2, inventory, observed, { deployment: 'prod', asked });
    expect(calls).toEqual([]);
    expect(inventory.members).toHaveLength(4);
  });

  it('marks a region whose lookup fails as failed, so that its rules are kept', async () => {
    const { ec2 } = fakeEc2(fleet, ['eu-west-1']);
    const inventory = await takeInventory(ec2, ['eu-west-1', 'us-west-2'], { filters });
    await lookUpNamedInstances(ec2, inventory, [rule(UNTAGGED, 'eu-west-1'), rule(OTHER, 'us-west-2')], { deployment: 'prod', asked: new Set() });
    expect(inventory.regionInventory['eu-west-1']).toEqual({ status: 'failed', reason: 'looking up 1 instance(s) its rules name failed: EC2 is down' });
    expect(inventory.regions.find((r) => r.region === 'eu-west-1')).toMatchObject({ status: 'failed', code: 'INTERNAL' });
    expect(inventory.regionInventory['us-west-2']).toMatchObject({ status: 'complete' });
    expect(inventory.members.map((m) => m.instanceId).sort()).toEqual([A, B, OTHER]);
  });

  it('looks nothing up in a region whose listing failed', async () => {
    const { ec2, calls } = fakeEc2(fleet);
    const inventory = await takeInventory(ec2, ['eu-west-1'], { filters });
    inventory.regionInventory['eu-west-1'] = { status: 'failed', reason: 'throttled' };
    calls.length = 0;
    await lookUpNamedInstances(ec2, inventory, [rule(UNTAGGED, 'eu-west-1')], { deployment: 'prod', asked: new Set() });
    expect(calls).toEqual([]);
  });
});

describe('inventoryRegions', () => {
  const config = (controller: string) =>
    parseConfig(
      ['deployment: prod', 'targets:', '  - { name: api, region: us-east-1, groups: [sg-0123456789abcdef0], ports: [443], members: { regions: [eu-west-1], tags: { role: api } } }', controller].join('\n'),
      'sgsync.yaml',
    );
  const asked: (string | undefined)[] = [];
  const enabled = (regions: string[]) => ({ enabledRegions: (via?: string) => (asked.push(via), Promise.resolve(regions)) }) as unknown as Ec2Port;

  it('lists, for members, only the regions a target selects; for the views, every region of controller.regions', async () => {
    const c = config('controller: { regions: [us-west-2, eu-west-1, us-east-1] }');
    expect(await inventoryRegions(c, enabled([]))).toEqual(['eu-west-1']);
    expect(await inventoryRegions(c, enabled([]), undefined, 'everything')).toEqual(['eu-west-1', 'us-east-1', 'us-west-2']);
  });

  it('lists every enabled region for the views when controller.regions is not set, and exactly the regions asked for', async () => {
    const c = config('');
    expect(await inventoryRegions(c, enabled(['us-west-2', 'eu-west-1']), undefined, 'everything')).toEqual(['eu-west-1', 'us-west-2']);
    expect(await inventoryRegions(c, enabled(['us-west-2', 'eu-west-1']))).toEqual(['eu-west-1']);
    expect(await inventoryRegions(c, enabled([]), ['sa-east-1', 'sa-east-1'], 'everything')).toEqual(['sa-east-1']);
    // Asked of the target's own region, never of one the account may not reach (another partition, a denying policy).
    expect(asked).toEqual(['us-east-1', 'us-east-1']);
  });

  it('asks the first target\'s region which regions are enabled', async () => {
    const cn = parseConfig(['deployment: prod', 'targets:', '  - { name: api, region: cn-north-1, groups: [sg-0123456789abcdef0], ports: [443], members: { tags: { role: api } } }'].join('\n'), 'sgsync.yaml');
    asked.length = 0;
    await inventoryRegions(cn, enabled(['cn-north-1', 'cn-northwest-1']));
    expect(asked).toEqual(['cn-north-1']);
  });
});
