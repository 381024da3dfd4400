import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isCanonicalCidr, parseCidr } from './addresses.js';
import { formatIpv6, parseIp } from './ip.js';
import { ipv4HostNumber, ipv4Number, SCAN_CANONICAL, SCAN_UNREAD, scanIpv6, scannedWords } from './ip-scan.js';
import { canonicalCidr, cidrHash } from './rule-key.js';

const group = fc.oneof(fc.constantFrom('0', '00', '0000', '1', 'a', 'A', 'ff', '0ab'), fc.stringMatching(/^[0-9a-fA-F]{1,5}$/));
/** IPv6-looking text: groups, sometimes one '::', sometimes something odd. */
const ipv6Text = fc
  .tuple(fc.array(group, { maxLength: 9 }), fc.nat(9), fc.constantFrom('', '', '::', ':', '.1.2.3.4', '%eth0', ' '))
  .map(([groups, at, odd]) => (odd === '::' ? [...groups.slice(0, at), ''].join(':') + ':' + groups.slice(at).join(':') : groups.join(':') + odd));
const ipv4Text = fc.oneof(
  fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300)).map((o) => o.join('.')),
  fc.stringMatching(/^[0-9.]{0,16}$/),
);

describe('reading addresses in place', () => {
  it('reads IPv4 as parseIp does, and as a number', () => {
    fc.assert(
      fc.property(ipv4Text, (text) => {
        const parsed = parseIp(text);
        const n = ipv4Number(text);
        expect(n >= 0).toBe(parsed?.family === 'ipv4' && text === text.trim());
        if (n >= 0 && parsed?.family === 'ipv4') expect(n).toBe(parsed.octets.reduce((a, o) => a * 256 + o, 0));
      }),
    );
  });

  it('reads plain IPv6 as parseIp does, and knows when it is spelled canonically', () => {
    fc.assert(
      fc.property(ipv6Text, (text) => {
        const parsed = parseIp(text);
        const scan = scanIpv6(text);
        if (scan === SCAN_UNREAD) return;
        expect(parsed?.family).toBe('ipv6');
        if (parsed?.family !== 'ipv6') return;
        expect(Array.from(scannedWords)).toEqual(parsed.words);
        expect(scan === SCAN_CANONICAL).toBe(formatIpv6(parsed.words) === text);
      }),
    );
  });

  it('leaves embedded IPv4, zones and stray characters to parseIp', () => {
    expect(['::ffff:1.2.3.4', 'fe80::1%eth0', ' ::1', '1:2:3:4:5:6:7:8:9', 'g::1'].map((t) => scanIpv6(t))).toEqual([SCAN_UNREAD, SCAN_UNREAD, SCAN_UNREAD, SCAN_UNREAD, SCAN_UNREAD]);
  });

  it('recognises a CIDR EC2 would store as it is, and only such a CIDR', () => {
    const cidr = fc.tuple(fc.oneof(ipv4Text, ipv6Text), fc.oneof(fc.nat(130).map(String), fc.constantFrom('032', ' 32', '')));
    fc.assert(
      fc.property(cidr, ([address, prefix]) => {
        const text = `${address}/${prefix}`;
        expect(isCanonicalCidr(text)).toBe(parseCidr(text)?.canonical === text);
      }),
    );
  });

  it('reads a /32 as a number exactly when it is spelled canonically', () => {
    fc.assert(
      fc.property(ipv4Text, fc.constantFrom('/32', '/032', '/31', '/24', ' /32', '/32 ', ''), (address, suffix) => {
        const cidr = address + suffix;
        const n = ipv4HostNumber(cidr);
        const parsed = parseCidr(cidr);
        const hostCidr = parsed?.family === 'ipv4' && parsed.prefixLength === 32 && parsed.canonical === cidr;
        expect(n >= 0).toBe(hostCidr);
        if (n >= 0) expect(n).toBe(ipv4Number(address));
      }),
    );
  });

  it('hashes every spelling of one CIDR alike', () => {
    const suffixes = ['/32', '/032', '/24', ' /32', '/32 ', '/0'];
    fc.assert(
      fc.property(ipv4Text, fc.constantFrom('', ' ', '0'), (address, pad) => {
        const byCanonical = new Map<string, number>();
        for (const cidr of suffixes.flatMap((suffix) => [address + suffix, pad + address + suffix])) {
          const key = canonicalCidr(cidr);
          const hash = cidrHash(cidr);
          expect(byCanonical.get(key) ?? hash).toBe(hash);
          byCanonical.set(key, hash);
        }
      }),
    );
  });
});
