import { describe, expect, it } from 'vitest';
import { Ec2Error } from '../errors.js';
import { canonicalPorts, canonicalProtocol, checkDescription, familiesOf, ruleKey } from './rule-identity.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'none';
  } catch (e) {
    return e instanceof Ec2Error ? e.code : String(e);
  }
}

describe('protocols', () => {
  it.each([
    ['tcp', 'tcp'],
    ['TCP', 'tcp'],
    ['6', 'tcp'],
    ['17', 'udp'],
    ['1', 'icmp'],
    ['58', 'icmpv6'],
    ['-1', '-1'],
    ['all', '-1'],
    ['50', '50'],
  ])('%s is stored as %s', (raw, canonical) => {
    expect(canonicalProtocol(raw)).toBe(canonical);
  });

  it.each(['256', 'tcpx', '', '-2', '06'])('%j is not a protocol', (raw) => {
    expect(codeOf(() => canonicalProtocol(raw))).toBe('InvalidParameterValue');
  });
});

describe('ports', () => {
  it.each([
    ['tcp', 22, 22, { fromPort: 22, toPort: 22 }],
    ['udp', 0, 65535, { fromPort: 0, toPort: 65535 }],
    ['icmp', undefined, undefined, { fromPort: -1, toPort: -1 }],
    ['icmp', 8, 0, { fromPort: 8, toPort: 0 }],
    ['-1', 80, 90, { fromPort: -1, toPort: -1 }],
    ['50', 1, 2, { fromPort: -1, toPort: -1 }],
  ] as const)('%s from %s to %s covers %o', (protocol, from, to, expected) => {
    expect(canonicalPorts(protocol, from, to)).toEqual(expected);
  });

  it.each([
    ['tcp', undefined, 22],
    ['tcp', 22, undefined],
    ['tcp', 90, 80],
    ['udp', -1, 10],
    ['tcp', 0, 65536],
    ['icmp', 256, 0],
    ['icmp', -1, 3],
    ['icmpv6', 1, -2],
  ] as const)('%s from %s to %s is refused', (protocol, from, to) => {
    expect(codeOf(() => canonicalPorts(protocol, from, to))).toBe('InvalidParameterValue');
  });
});

describe('descriptions', () => {
  it.each(['', 'web tier', 'a-z A-Z 0-9 ._-:/()#,@[]+=&;{}!$*', 'x'.repeat(255)])('%j is accepted', (text) => {
    expect(codeOf(() => checkDescription(text))).toBe('none');
  });

  it.each(['x'.repeat(256), 'naïve', 'quote"', 'back\\slash', 'tab\t', 'percent%', 'less<'])('%j is refused', (text) => {
    expect(codeOf(() => checkDescription(text))).toBe('InvalidParameterValue');
  });
});

describe('rule identity', () => {
  const base = { protocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '203.0.113.7/32' };

  it('ignores the description', () => {
    expect(ruleKey({ ...base, description: 'a' }, false)).toBe(ruleKey({ ...base, description: 'b' }, false));
  });

  it.each([
    ['another port', { ...base, toPort: 444 }],
    ['another protocol', { ...base, protocol: 'udp' }],
    ['another address', { ...base, cidrIpv4: '203.0.113.8/32' }],
    ['a group source', { protocol: 'tcp', fromPort: 443, toPort: 443, referencedGroupId: 'sg-0123456789abcdef0' }],
  ])('differs for %s', (_, other) => {
    expect(ruleKey(other, false)).not.toBe(ruleKey(base, false));
  });

  it('differs between inbound and outbound', () => {
    expect(ruleKey(base, true)).not.toBe(ruleKey(base, false));
  });

  it.each([
    [{ ...base }, ['ipv4']],
    [{ protocol: '-1', fromPort: -1, toPort: -1, cidrIpv6: '::/0' }, ['ipv6']],
    [{ protocol: '-1', fromPort: -1, toPort: -1, referencedGroupId: 'sg-0123456789abcdef0' }, ['ipv4', 'ipv6']],
  ])('%o counts against %o', (spec, families) => {
    expect(familiesOf(spec)).toEqual(families);
  });
});
