import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { admittedAddress, desiredRules, HOST_SUFFIX, memberCidr } from './desired.js';
import type { Member, Target } from './model.js';

function target(over: Partial<Target> = {}): Target {
  return { name: 'api', region: 'us-east-1', groupIds: ['sg-1'], ports: [{ protocol: 'tcp', fromPort: 443, toPort: 443 }], families: ['ipv4'], address: 'public', quota: 60, selector: {}, ...over };
}

function member(over: Partial<Member> = {}): Member {
  return { instanceId: 'i-1', region: 'eu-west-1', state: 'running', publicIpv4: '54.12.0.7', privateIpv4: '10.0.0.7', ipv6: ['2a05:d018::7'], tags: {}, ...over };
}

describe('desired rules', () => {
  it('admit a running member by its public address as a /32', () => {
    expect(desiredRules([target()], [member()]).rules).toEqual([
      { target: 'api', instanceId: 'i-1', memberRegion: 'eu-west-1', family: 'ipv4', port: { protocol: 'tcp', fromPort: 443, toPort: 443 }, cidr: '54.12.0.7/32' },
    ]);
  });

  it.each<[string, Partial<Target>, Partial<Member>, string[]]>([
    ['private IPv4 over peering', { address: 'private' }, {}, ['10.0.0.7/32']],
    ['IPv6 as a /128', { families: ['ipv6'] }, {}, ['2a05:d018::7/128']],
    ['IPv6 on a private target uses the same global address', { address: 'private', families: ['ipv6'] }, {}, ['2a05:d018::7/128']],
    ['both families', { families: ['ipv4', 'ipv6'] }, {}, ['54.12.0.7/32', '2a05:d018::7/128']],
    ['the first of several IPv6 addresses', { families: ['ipv6'] }, { ipv6: ['2a05:d018::8', '2a05:d018::9'] }, ['2a05:d018::8/128']],
    ['a non-canonical IPv6 spelling canonically', { families: ['ipv6'] }, { ipv6: ['2A05:D018:0:0::07'] }, ['2a05:d018::7/128']],
  ])('use %s', (_case, t, m, cidrs) => {
    expect(desiredRules([target(t)], [member(m)]).rules.map((r) => r.cidr)).toEqual(cidrs);
  });

  it.each<[string, Partial<Member>]>([
    ['pending', { state: 'pending' }],
    ['stopping', { state: 'stopping' }],
    ['stopped', { state: 'stopped' }],
    ['shutting down', { state: 'shutting-down' }],
    ['terminated', { state: 'terminated' }],
    ['outside the selected regions', { region: 'ap-south-1' }],
  ])('leave out a member that is %s', (_case, m) => {
    const t = target({ selector: { regions: ['eu-west-1'] } });
    expect(desiredRules([t], [member(m)])).toEqual({ rules: [], refused: [] });
  });

  it.each<[string, Partial<Target>, Partial<Member>, string]>([
    ['no public IPv4', {}, { publicIpv4: undefined }, 'no-public-address'],
    ['no private IPv4', { address: 'private' }, { privateIpv4: undefined }, 'no-private-address'],
    ['no IPv6', { families: ['ipv6'] }, { ipv6: [] }, 'no-ipv6-address'],
    ['a private address where a public one is asked for', {}, { publicIpv4: '10.1.2.3' }, 'address-not-public'],
    ['a CGNAT address where a public one is asked for', {}, { publicIpv4: '100.64.1.1' }, 'address-not-public'],
    ['a public address where a private one is asked for', { address: 'private' }, { privateIpv4: '54.1.2.3' }, 'address-not-private'],
    ['a link-local IPv6', { families: ['ipv6'] }, { ipv6: ['fe80::1'] }, 'address-not-public'],
    ['a ULA on a public target', { families: ['ipv6'] }, { ipv6: ['fd00::1'] }, 'address-not-public'],
    ['garbage for an address', {}, { publicIpv4: '54.12.0.7/24' }, 'invalid-address'],
    ['an IPv6 address in the IPv4 field', {}, { publicIpv4: '2a05::1' }, 'invalid-address'],
  ])('refuse a member with %s, and make no rule', (_case, t, m, reason) => {
    const result = desiredRules([target(t)], [member(m)]);
    expect(result.rules).toEqual([]);
    expect(result.refused).toEqual([expect.objectContaining({ target: 'api', instanceId: 'i-1', memberRegion: 'eu-west-1', reason })]);
  });

  it.each<[string, Partial<Member>, string[]]>([
    ['IPv4 only', { ipv6: [] }, ['54.12.0.7/32']],
    ['IPv6 only', { publicIpv4: undefined, ipv6: ['2a05:d018::7'] }, ['2a05:d018::7/128']],
    ['a ULA beside its public IPv4', { ipv6: ['fd00::7'] }, ['54.12.0.7/32']],
  ])('admit a member of a two-family target with %s in the family it has, and refuse it nothing', (_case, m, cidrs) => {
    const result = desiredRules([target({ families: ['ipv4', 'ipv6'] })], [member(m)]);
    expect(result.rules.map((r) => r.cidr)).toEqual(cidrs);
    expect(result.refused).toEqual([]);
  });

  it('refuse a member of a two-family target that it admits in neither, with both reasons', () => {
    const result = desiredRules([target({ families: ['ipv4', 'ipv6'] })], [member({ publicIpv4: '10.1.2.3', ipv6: [] })]);
    expect(result.rules).toEqual([]);
    expect(result.refused.map((r) => r.reason)).toEqual(['address-not-public', 'no-ipv6-address']);
  });

  it('write "all traffic" without ports, as EC2 does', () => {
    const [rule] = desiredRules([target({ ports: [{ protocol: '-1', fromPort: 0, toPort: 65535 }] })], [member()]).rules;
    expect(rule?.port).toEqual({ protocol: '-1', fromPort: -1, toPort: -1 });
  });

  it('come in placement order: target, member region, instance, family, port', () => {
    const targets = [
      target({ name: 'b', families: ['ipv6', 'ipv4'], ports: [{ protocol: 'tcp', fromPort: 8443, toPort: 8443 }, { protocol: 'tcp', fromPort: 443, toPort: 443 }] }),
      target({ name: 'a' }),
    ];
    const members = [member({ instanceId: 'i-2', region: 'us-west-2' }), member({ instanceId: 'i-3' }), member({ instanceId: 'i-1', region: 'us-west-2' })];
    const order = desiredRules(targets, members).rules.map((r) => `${r.target} ${r.memberRegion} ${r.instanceId} ${r.family} ${r.port.fromPort}`);
    expect(order.slice(0, 5)).toEqual(['b eu-west-1 i-3 ipv4 443', 'b eu-west-1 i-3 ipv4 8443', 'b eu-west-1 i-3 ipv6 443', 'b eu-west-1 i-3 ipv6 8443', 'b us-west-2 i-1 ipv4 443']);
    expect(order.slice(-3)).toEqual(['a eu-west-1 i-3 ipv4 443', 'a us-west-2 i-1 ipv4 443', 'a us-west-2 i-2 ipv4 443']);
  });

  it('pair ICMP with IPv4 and ICMPv6 with IPv6 only: the other pairings match no traffic and cost quota', () => {
    const ports = [{ protocol: 'icmp' as const, fromPort: -1, toPort: -1 }, { protocol: 'icmpv6' as const, fromPort: -1, toPort: -1 }];
    const rules = desiredRules([target({ families: ['ipv4', 'ipv6'], ports })], [member()]).rules;
    expect(rules.map((r) => `${r.port.protocol} ${r.cidr}`)).toEqual(['icmp 54.12.0.7/32', 'icmpv6 2a05:d018::7/128']);
  });

  it('count an instance listed twice once, by its first entry', () => {
    const rules = desiredRules([target()], [member(), member({ publicIpv4: '54.12.0.8' })]).rules;
    expect(rules.map((r) => `${r.instanceId} ${r.cidr}`)).toEqual(['i-1 54.12.0.7/32']);
  });

  it('collapse a port listed twice into one rule', () => {
    const port = { protocol: 'tcp' as const, fromPort: 443, toPort: 443 };
    expect(desiredRules([target({ ports: [port, port] })], [member()]).rules).toHaveLength(1);
  });
});

describe('admitted addresses', () => {
  const TEXTS = ['54.12.0.7', ' 54.12.0.7 ', '10.0.0.7', '054.12.0.7', '100.64.0.1', '2a05:d018::7', '2A05:D018:0:0::07', 'fd00::1', 'fe80::1', '::ffff:8.8.8.8', '::', '1::2::3', 'junk', ''];

  it('are exactly what memberCidr admits, without the suffix', () => {
    fc.assert(
      fc.property(fc.constantFrom('public' as const, 'private' as const), fc.constantFrom('ipv4' as const, 'ipv6' as const), fc.constantFrom(...TEXTS), fc.constantFrom(...TEXTS), (address, family, v4, v6) => {
        const m = member({ publicIpv4: v4, privateIpv4: v4, ipv6: v6 === '' ? [] : [v6] });
        const choice = memberCidr({ address }, m, family);
        const admitted = admittedAddress({ address }, m, family);
        expect(admitted === undefined ? undefined : admitted + HOST_SUFFIX[family]).toBe('cidr' in choice ? choice.cidr : undefined);
      }),
    );
  });
});
