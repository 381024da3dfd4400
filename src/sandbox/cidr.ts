import ipaddr from 'ipaddr.js';

/**
 * CIDR blocks the way EC2 reads them. EC2 stores the network address of a
 * block (`100.68.0.18/18` becomes `100.68.0.0/18`) and IPv6 in lowercase,
 * compressed form, so two spellings of one block are one rule.
 */

const PREFIX = /^(0|[1-9]\d{0,2})$/;

function split(text: string, maxPrefix: number): [string, number] | undefined {
  const slash = text.indexOf('/');
  if (slash < 0 || slash !== text.lastIndexOf('/')) return undefined;
  const address = text.slice(0, slash);
  const prefix = text.slice(slash + 1);
  if (!PREFIX.test(prefix)) return undefined;
  const bits = Number(prefix);
  return bits <= maxPrefix ? [address, bits] : undefined;
}

/**
 * The canonical form of an IPv4 CIDR (`a.b.c.d/n`, decimal octets, no leading
 * zeros), or undefined when the text is not one.
 *
 * @example canonicalIpv4Cidr('100.68.0.18/18') // '100.68.0.0/18'
 */
export function canonicalIpv4Cidr(text: string): string | undefined {
  const parts = split(text, 32);
  if (!parts || !ipaddr.IPv4.isValidFourPartDecimal(parts[0])) return undefined;
  return `${ipaddr.IPv4.networkAddressFromCIDR(text).toString()}/${parts[1]}`;
}

/**
 * The canonical form of an IPv6 CIDR (network address, lowercase, RFC 5952
 * compression), or undefined when the text is not one.
 *
 * @example canonicalIpv6Cidr('2001:DB8:0:0::1/64') // '2001:db8::/64'
 */
export function canonicalIpv6Cidr(text: string): string | undefined {
  const parts = split(text, 128);
  // Zone ids (`fe80::1%eth0`) name an interface, never a block.
  if (!parts || parts[0].includes('%') || !ipaddr.IPv6.isValid(parts[0])) return undefined;
  return `${ipaddr.IPv6.networkAddressFromCIDR(text).toRFC5952String()}/${parts[1]}`;
}

/** The prefix length of a CIDR already known to be well formed. */
export function prefixLength(cidr: string): number {
  return Number(cidr.slice(cidr.indexOf('/') + 1));
}
