import { describe, expect, it } from 'vitest';
import { canonicalIpv4Cidr, canonicalIpv6Cidr } from './cidr.js';

describe('an IPv4 CIDR', () => {
  it.each([
    ['100.68.0.18/18', '100.68.0.0/18'],
    ['203.0.113.7/32', '203.0.113.7/32'],
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['255.255.255.255/1', '128.0.0.0/1'],
  ])('%s is stored as its network, %s', (input, canonical) => {
    expect(canonicalIpv4Cidr(input)).toBe(canonical);
  });

  it.each(['1.2.3.4', '1.2.3.4/33', '1.2.3/24', '01.2.3.4/32', '1.2.3.256/32', '1.2.3.4/032', '1.2.3.4/-1', '1.2.3.4//32', '::1/128', ''])(
    'refuses %j',
    (input) => {
      expect(canonicalIpv4Cidr(input)).toBeUndefined();
    },
  );
});

describe('an IPv6 CIDR', () => {
  it.each([
    ['2001:DB8:0:0::1/64', '2001:db8::/64'],
    ['2001:db8:0:0:0:0:0:1/128', '2001:db8::1/128'],
    ['2600:1F18:AB:CD00::/56', '2600:1f18:ab:cd00::/56'],
    ['::/0', '::/0'],
  ])('%s is stored lowercase and compressed, %s', (input, canonical) => {
    expect(canonicalIpv6Cidr(input)).toBe(canonical);
  });

  it.each(['2001:db8::1', '2001:db8::/129', 'fe80::1%eth0/64', '1.2.3.4/32', '2001:db8:::1/64', 'g::/64'])('refuses %j', (input) => {
    expect(canonicalIpv6Cidr(input)).toBeUndefined();
  });
});
