import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { admits, admittedHost, classifyAddress, hostCidr, isOpenToWorld, parseCidr } from './addresses.js';

describe('the address a target admits', () => {
  it('is what classifying and checking the address give, for any text', () => {
    const text = fc.oneof(
      fc.ipV4(),
      fc.ipV4Extended(),
      fc.ipV6(),
      fc.ipV4().map((ip) => ` ${ip}\t`),
      fc.constantFrom('10.1.2.3', '172.31.0.9', '100.64.0.1', '224.1.1.1', '255.255.255.255', '0.0.0.0', 'fd00::1', 'fe80::1', '2600:1F18::1', '1.2.3.4/32', ''),
      fc.string({ maxLength: 20 }),
    );
    fc.assert(
      fc.property(text, fc.constantFrom('public' as const, 'private' as const), fc.constantFrom('ipv4' as const, 'ipv6' as const), (address, kind, family) => {
        const classified = classifyAddress(address);
        const expected = classified && classified.family === family && admits(kind, classified) ? classified.canonical : undefined;
        expect(admittedHost(kind, family, address)).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('classifying addresses', () => {
  it.each([
    ['54.12.0.7', 'public', 'global unicast'],
    ['8.8.8.8', 'public', 'global unicast'],
    ['10.0.0.5', 'private', 'RFC 1918'],
    ['172.16.0.1', 'private', 'RFC 1918'],
    ['172.31.255.255', 'private', 'RFC 1918'],
    ['172.32.0.1', 'public', 'global unicast'],
    ['192.168.1.1', 'private', 'RFC 1918'],
    ['100.64.0.1', 'reserved', 'shared address space (CGNAT)'],
    ['100.128.0.1', 'public', 'global unicast'],
    ['127.0.0.1', 'reserved', 'loopback'],
    ['169.254.169.254', 'reserved', 'link-local'],
    ['0.1.2.3', 'reserved', 'this network'],
    ['0.0.0.0', 'reserved', 'this network'],
    ['192.0.0.9', 'reserved', 'IETF protocol assignments'],
    ['192.0.2.10', 'reserved', 'documentation'],
    ['198.18.5.5', 'reserved', 'benchmarking'],
    ['198.19.255.1', 'reserved', 'benchmarking'],
    ['198.51.100.7', 'reserved', 'documentation'],
    ['203.0.113.9', 'reserved', 'documentation'],
    ['224.0.0.1', 'reserved', 'multicast'],
    ['240.0.0.1', 'reserved', 'reserved (240/4, broadcast)'],
    ['255.255.255.255', 'reserved', 'reserved (240/4, broadcast)'],
    ['2600:1f18:abc::1', 'public', 'global unicast'],
    ['2a05:d018::42', 'public', 'global unicast'],
    ['fd12:3456::1', 'private', 'unique local (ULA)'],
    ['fc00::1', 'private', 'unique local (ULA)'],
    ['fe80::1', 'reserved', 'link-local'],
    ['::1', 'reserved', 'loopback'],
    ['::', 'reserved', 'unspecified'],
    ['ff02::1', 'reserved', 'multicast'],
    ['2001:db8::1', 'reserved', 'documentation'],
    ['3fff::1', 'reserved', 'documentation'],
    // Prefixes that end inside a word (/20, /23): the bits past them do not matter.
    ['3fff:fff::1', 'reserved', 'documentation'],
    ['2001:1ff::1', 'reserved', 'IETF protocol assignments'],
    ['2002:c000:0204::1', 'reserved', '6to4'],
    ['::ffff:8.8.8.8', 'reserved', 'IPv4-mapped'],
    ['64:ff9b::808:808', 'reserved', 'NAT64'],
    ['4000::1', 'reserved', 'unallocated'],
  ])('%s is %s (%s)', (text, cls, label) => {
    expect(classifyAddress(text)).toMatchObject({ class: cls, label });
  });

  it.each([
    ['2600:1F18:0ABC:0000:0000:0000:0000:0001', '2600:1f18:abc::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2600:1f18:1:2:3:4:5:6', '2600:1f18:1:2:3:4:5:6'],
    ['2600:1f18::0:1', '2600:1f18::1'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['2600::1:0', '2600::1:0'],
    [' 54.12.0.7 ', '54.12.0.7'],
  ])('%s is written canonically as %s', (text, canonical) => {
    expect(classifyAddress(text)?.canonical).toBe(canonical);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', '1.2.3.4/32', 'fe80::1%eth0', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '1:2:3:4:5:6:7::8', '::1.2.3', 'example.com'])(
    '"%s" is not an address',
    (text) => {
      expect(classifyAddress(text)).toBeUndefined();
    },
  );

  it('reads an IPv6 address whose last 32 bits are written as dotted quad as IPv6, and a target asking for IPv6 admits it', () => {
    expect(classifyAddress('2600:1f18::54.0.0.7')).toEqual({ family: 'ipv6', canonical: '2600:1f18::3600:7', class: 'public', label: 'global unicast' });
    expect(admittedHost('public', 'ipv6', '2600:1f18::54.0.0.7')).toBe('2600:1f18::3600:7');
  });

  it('parses any IPv4 address and prints it back unchanged', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(classifyAddress(ip)?.canonical).toBe(ip);
      }),
    );
  });

  it('reads every spelling of an IPv6 address as the same address', () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const canonical = classifyAddress(ip)?.canonical;
        expect(canonical).toBeDefined();
        expect(classifyAddress(canonical!)?.canonical).toBe(canonical);
        expect(classifyAddress(ip.toUpperCase())?.canonical).toBe(canonical);
      }),
    );
  });
});

describe('which addresses a target admits', () => {
  it.each([
    ['public', '54.12.0.7', true],
    ['public', '10.0.0.5', false],
    ['public', '100.64.0.1', false],
    ['public', '2600:1f18::1', true],
    ['public', 'fd00::1', false],
    ['private', '10.0.0.5', true],
    ['private', '54.12.0.7', false],
    ['private', '169.254.0.1', false],
    ['private', 'fd00::1', true],
    ['private', '2600:1f18::1', true],
    ['private', 'fe80::1', false],
  ] as const)('a %s target admits %s: %s', (kind, text, expected) => {
    expect(admits(kind, classifyAddress(text)!)).toBe(expected);
  });

  it('turns an address into a single-host CIDR', () => {
    expect(hostCidr(classifyAddress('54.12.0.7')!)).toBe('54.12.0.7/32');
    expect(hostCidr(classifyAddress('2600:1F18::0001')!)).toBe('2600:1f18::1/128');
  });
});

describe('CIDRs', () => {
  it.each([
    ['100.68.0.18/18', '100.68.0.0/18', 18],
    ['54.12.0.7/32', '54.12.0.7/32', 32],
    ['0.0.0.0/0', '0.0.0.0/0', 0],
    ['10.1.2.3/0', '0.0.0.0/0', 0],
    ['2600:1F18::1/64', '2600:1f18::/64', 64],
    ['::/0', '::/0', 0],
    ['2600:1f18:abcd:ef01::1/60', '2600:1f18:abcd:ef00::/60', 60],
    // Taken as they are only when EC2 stores them so: an all-zero address, a padded length, host bits in a later word.
    ['0.0.0.0/8', '0.0.0.0/8', 8],
    ['::/128', '::/128', 128],
    ['0.0.0.0/00', '0.0.0.0/0', 0],
    ['::1/64', '::/64', 64],
    ['2600:1f18:1:2:3:4:5:6/0', '::/0', 0],
  ])('%s is stored as %s', (text, canonical, prefixLength) => {
    expect(parseCidr(text)).toMatchObject({ canonical, prefixLength });
  });

  it.each(['1.2.3.4', '1.2.3.4/33', '::1/129', '1.2.3.4/', '0.0.0.0/', '::/', '1.2.3.4/-1', '0.0.0.0/1/', '::/f', 'x/8'])('"%s" is not a CIDR', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });

  it.each([
    ['0.0.0.0/0', true],
    ['::/0', true],
    ['54.12.0.7/32', false],
    ['10.0.0.0/8', false],
    ['0.0.0.0/8', false],
    [undefined, false],
  ])('%s opens the group to the world: %s', (cidr, expected) => {
    expect(isOpenToWorld(cidr)).toBe(expected);
  });
});
