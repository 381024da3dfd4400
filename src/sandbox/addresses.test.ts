import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import {
  allocateIpv6, allocatePrivateIpv4, allocatePublicIpv4, ipv6BlockOf, isPublicIpv4, macAddressOf, privateDnsName, publicDnsName,
} from './addresses.js';
import { Random } from './random.js';
import { newRegion, type Instance, type Vpc } from './world.js';

const vpc = (cidrBlock: string, nextHost = 10): Vpc => ({ id: 'vpc-0123456789abcdef0', cidrBlock, isDefault: false, tags: new Map(), nextHost });

describe('public IPv4 allocation', () => {
  it('only hands out globally routable unicast addresses, never .0 or .255', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), (seed) => {
        const address = allocatePublicIpv4(new Random(seed), new Set());
        expect(ipaddr.IPv4.parse(address).range()).toBe('unicast');
        expect(address).not.toMatch(/\.(0|255)$/);
      }),
      { numRuns: 500 },
    );
  });

  it('skips addresses already in use', () => {
    const taken = allocatePublicIpv4(new Random(9), new Set());
    expect(allocatePublicIpv4(new Random(9), new Set([taken]))).not.toBe(taken);
  });

  it.each([
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['192.168.1.1', false],
    ['100.64.0.1', false],
    ['203.0.113.5', false],
    ['198.18.0.1', false],
    ['224.0.0.1', false],
    ['3.5.140.2', true],
    ['52.94.76.10', true],
    ['not an address', false],
  ])('calls %s public: %s', (address, expected) => {
    expect(isPublicIpv4(address)).toBe(expected);
  });
});

describe('private IPv4 allocation', () => {
  it('counts up inside the VPC block, skipping the addresses AWS reserves', () => {
    const region = newRegion('eu-west-1', 'opt-in-not-required');
    const v = vpc('10.0.0.0/16', 0);
    expect([1, 2, 3].map(() => allocatePrivateIpv4(v, region))).toEqual(['10.0.0.4', '10.0.0.5', '10.0.0.6']);
  });

  it('reuses addresses of instances that are gone once the block is used up, and says so when none is left', () => {
    const region = newRegion('eu-west-1', 'opt-in-not-required');
    const v = vpc('10.0.0.0/29', 4); // hosts 4, 5, 6 usable; 7 is the broadcast address
    const live = (privateIp: string, state: Instance['state']) =>
      region.instances.set(privateIp, { privateIp, vpcId: v.id, state } as Instance);
    const first = [allocatePrivateIpv4(v, region), allocatePrivateIpv4(v, region), allocatePrivateIpv4(v, region)];
    expect(first).toEqual(['10.0.0.4', '10.0.0.5', '10.0.0.6']);
    live('10.0.0.4', 'running');
    live('10.0.0.5', 'terminated');
    live('10.0.0.6', 'stopped');
    expect(allocatePrivateIpv4(v, region)).toBe('10.0.0.5');
    live('10.0.0.5', 'running');
    expect(() => allocatePrivateIpv4(v, region)).toThrow(/not enough free addresses/);
  });

  it('works in the upper half of the address space', () => {
    const region = newRegion('eu-west-1', 'opt-in-not-required');
    expect(allocatePrivateIpv4(vpc('192.168.0.0/24'), region)).toBe('192.168.0.10');
  });
});

describe('IPv6 allocation', () => {
  it('stays inside the VPC /56, in the /64 of the zone', () => {
    const v = { ...vpc('10.0.0.0/16'), ipv6CidrBlock: '2600:1f18:abcd:ef00::/56' };
    const address = ipaddr.IPv6.parse(allocateIpv6(v, 2, new Random(1), new Set()));
    expect(address.match(ipaddr.IPv6.parseCIDR('2600:1f18:abcd:ef02::/64'))).toBe(true);
  });

  it('gives a VPC without an IPv6 block a stable global unicast /56 of its own', () => {
    const block = ipv6BlockOf(vpc('10.0.0.0/16'));
    expect(block).toBe(ipv6BlockOf(vpc('10.0.0.0/16')));
    const [base, prefix] = ipaddr.IPv6.parseCIDR(block);
    expect([base.range(), prefix]).toEqual(['unicast', 56]);
  });
});

describe('names', () => {
  it.each([
    [privateDnsName('172.31.5.6', 'us-east-1'), 'ip-172-31-5-6.ec2.internal'],
    [privateDnsName('172.31.5.6', 'eu-west-1'), 'ip-172-31-5-6.eu-west-1.compute.internal'],
    [publicDnsName('3.5.140.2', 'us-east-1'), 'ec2-3-5-140-2.compute-1.amazonaws.com'],
    [publicDnsName('3.5.140.2', 'eu-west-1'), 'ec2-3-5-140-2.eu-west-1.compute.amazonaws.com'],
  ])('%s is %s', (actual, expected) => {
    expect(actual).toBe(expected);
  });

  it('gives each instance a stable, locally administered MAC address', () => {
    expect(macAddressOf('i-0123456789abcdef0')).toMatch(/^0a(:[0-9a-f]{2}){5}$/);
    expect(macAddressOf('i-0123456789abcdef0')).toBe(macAddressOf('i-0123456789abcdef0'));
    expect(macAddressOf('i-0123456789abcdef1')).not.toBe(macAddressOf('i-0123456789abcdef0'));
  });
});
