/**
 * What kind of address a member has, and the only CIDRs sgsync will build
 * from it (safety rule 5: never wider than one host, never the wrong kind).
 */
import { addressBytes, addressFromBytes, formatIp, parseIp, type IpAddress } from './ip.js';
import type { AddressKind, Family } from './model.js';

/** `public` is global unicast, `private` is RFC 1918 or IPv6 ULA, `reserved` is everything else. */
export type AddressClass = 'public' | 'private' | 'reserved';

export interface ClassifiedAddress {
  family: Family;
  /** The canonical spelling (RFC 5952 for IPv6). */
  canonical: string;
  class: AddressClass;
  /** Why, in words: "RFC 1918", "loopback", "documentation"… */
  label: string;
}

interface Range {
  family: Family;
  bytes: number[];
  length: number;
  class: AddressClass;
  label: string;
}

// Special-purpose registries (IANA, RFC 6890 and successors). The first match wins.
const RANGES: Range[] = (
  [
    ['0.0.0.0/8', 'reserved', 'this network'],
    ['10.0.0.0/8', 'private', 'RFC 1918'],
    ['100.64.0.0/10', 'reserved', 'shared address space (CGNAT)'],
    ['127.0.0.0/8', 'reserved', 'loopback'],
    ['169.254.0.0/16', 'reserved', 'link-local'],
    ['172.16.0.0/12', 'private', 'RFC 1918'],
    ['192.0.0.0/24', 'reserved', 'IETF protocol assignments'],
    ['192.0.2.0/24', 'reserved', 'documentation'],
    ['192.88.99.0/24', 'reserved', '6to4 relay anycast'],
    ['192.168.0.0/16', 'private', 'RFC 1918'],
    ['198.18.0.0/15', 'reserved', 'benchmarking'],
    ['198.51.100.0/24', 'reserved', 'documentation'],
    ['203.0.113.0/24', 'reserved', 'documentation'],
    ['224.0.0.0/4', 'reserved', 'multicast'],
    ['240.0.0.0/4', 'reserved', 'reserved (240/4, broadcast)'],
    ['::/128', 'reserved', 'unspecified'],
    ['::1/128', 'reserved', 'loopback'],
    ['::ffff:0:0/96', 'reserved', 'IPv4-mapped'],
    ['64:ff9b::/96', 'reserved', 'NAT64'],
    ['64:ff9b:1::/48', 'reserved', 'local NAT64'],
    ['100::/64', 'reserved', 'discard-only'],
    ['2001:db8::/32', 'reserved', 'documentation'],
    ['2001::/23', 'reserved', 'IETF protocol assignments'],
    ['2002::/16', 'reserved', '6to4'],
    ['3fff::/20', 'reserved', 'documentation'],
    ['2000::/3', 'public', 'global unicast'],
    ['fc00::/7', 'private', 'unique local (ULA)'],
    ['fe80::/10', 'reserved', 'link-local'],
    ['ff00::/8', 'reserved', 'multicast'],
  ] as const
).map(([cidr, cls, label]) => {
  const [text = '', length = '0'] = cidr.split('/');
  const address = parseIp(text) as IpAddress;
  return { family: address.family, bytes: addressBytes(address), length: Number(length), class: cls, label };
});

const IPV4_RANGES = RANGES.filter((r) => r.family === 'ipv4');
const IPV6_RANGES = RANGES.filter((r) => r.family === 'ipv6');

function hasPrefix(bytes: number[], prefix: number[], length: number): boolean {
  for (let bit = 0; bit < length; bit += 8) {
    const take = Math.min(8, length - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    const i = bit / 8;
    if (((bytes[i] ?? 0) & mask) !== ((prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

/**
 * Classifies an address. IPv4 outside every special range is public; IPv6 is
 * public only inside global unicast 2000::/3. Returns undefined for text that
 * is not an address.
 */
export function classifyAddress(text: string): ClassifiedAddress | undefined {
  const address = parseIp(text);
  if (!address) return undefined;
  const bytes = addressBytes(address);
  const range = (address.family === 'ipv4' ? IPV4_RANGES : IPV6_RANGES).find((r) => hasPrefix(bytes, r.bytes, r.length));
  const fallback = address.family === 'ipv4' ? ['public', 'global unicast'] : ['reserved', 'unallocated'];
  return {
    family: address.family,
    canonical: formatIp(address),
    class: range?.class ?? (fallback[0] as AddressClass),
    label: range?.label ?? fallback[1] ?? '',
  };
}

/**
 * Whether a member address of this class may be admitted by a target asking
 * for `kind`. A `private` target takes RFC 1918 IPv4; for IPv6 it takes ULA
 * and global unicast too, because a VPC's IPv6 addresses are global and are
 * the same addresses seen over peering and Transit Gateway.
 */
export function admits(kind: AddressKind, address: ClassifiedAddress): boolean {
  if (kind === 'public') return address.class === 'public';
  if (address.family === 'ipv4') return address.class === 'private';
  return address.class === 'private' || address.class === 'public';
}

/** The single-host CIDR (/32 or /128) of an address, in canonical form. */
export function hostCidr(address: ClassifiedAddress): string {
  return `${address.canonical}/${address.family === 'ipv4' ? 32 : 128}`;
}

export interface ParsedCidr {
  family: Family;
  prefixLength: number;
  /** Host bits cleared, canonical spelling: how EC2 stores it. */
  canonical: string;
}

/**
 * Parses a CIDR the way EC2 stores it: `100.68.0.18/18` becomes
 * `100.68.0.0/18`, so two spellings of one rule compare equal.
 */
export function parseCidr(text: string): ParsedCidr | undefined {
  if (typeof text !== 'string') return undefined;
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseIp(text.slice(0, slash));
  const lengthText = text.slice(slash + 1).trim();
  if (!address || !/^[0-9]{1,3}$/.test(lengthText)) return undefined;
  const prefixLength = Number(lengthText);
  const bytes = addressBytes(address);
  if (prefixLength > bytes.length * 8) return undefined;
  const masked = bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefixLength - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
  const canonical = `${formatIp(addressFromBytes(address.family, masked))}/${prefixLength}`;
  return { family: address.family, prefixLength, canonical };
}

/** A CIDR that opens a group to the whole internet (0.0.0.0/0, ::/0). */
export function isOpenToWorld(cidr: string | undefined): boolean {
  return cidr !== undefined && parseCidr(cidr)?.prefixLength === 0;
}
