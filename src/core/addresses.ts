/**
 * What kind of address a member has, and the only CIDRs sgsync will build
 * from it (safety rule 5: never wider than one host, never the wrong kind).
 */
import { addressBytes, addressFromBytes, formatIp, formatIpv6, parseIp, type IpAddress } from './ip.js';
import { ipv4Number, SCAN_CANONICAL, SCAN_UNREAD, scanIpv6, scannedWords } from './ip-scan.js';
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
  /** IPv4: the prefix as a number; IPv6: its eight words. */
  base: number;
  words: number[];
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
  const base = address.family === 'ipv4' ? octetsNumber(address.octets) : 0;
  const words = address.family === 'ipv6' ? address.words : [];
  return { family: address.family, base, words, length: Number(length), class: cls, label };
});

const IPV4_RANGES = RANGES.filter((r) => r.family === 'ipv4');
const IPV6_RANGES = RANGES.filter((r) => r.family === 'ipv6');

function octetsNumber(octets: readonly number[]): number {
  return octets.reduce((n, o) => n * 256 + o, 0);
}

function ipv4Mask(length: number): number {
  return length <= 0 ? 0 : (0xffffffff << (32 - Math.min(32, length))) >>> 0;
}

/** The IPv4 ranges that can hold an address with this first octet, in IPV4_RANGES' order: none for most addresses. */
const IPV4_RANGES_BY_OCTET: readonly Range[][] = Array.from({ length: 256 }, (_, octet) =>
  IPV4_RANGES.filter((r) => ((octet & (ipv4Mask(r.length) >>> 24)) >>> 0) === r.base >>> 24),
);

function ipv4Range(address: number): Range | undefined {
  for (const r of IPV4_RANGES_BY_OCTET[address >>> 24] ?? IPV4_RANGES) if (((address & ipv4Mask(r.length)) >>> 0) === r.base) return r;
  return undefined;
}

function hasWordPrefix(words: ArrayLike<number>, prefix: readonly number[], length: number): boolean {
  for (let bit = 0, w = 0; bit < length; bit += 16, w++) {
    const take = Math.min(16, length - bit);
    const mask = (0xffff << (16 - take)) & 0xffff;
    if (((words[w] ?? 0) & mask) !== ((prefix[w] ?? 0) & mask)) return false;
  }
  return true;
}

function ipv6Range(words: ArrayLike<number>): Range | undefined {
  for (const r of IPV6_RANGES) if (hasWordPrefix(words, r.words, r.length)) return r;
  return undefined;
}

function classified(family: Family, canonical: string, range: Range | undefined): ClassifiedAddress {
  if (range) return { family, canonical, class: range.class, label: range.label };
  return family === 'ipv4' ? { family, canonical, class: 'public', label: 'global unicast' } : { family, canonical, class: 'reserved', label: 'unallocated' };
}

/**
 * Classifies an address. IPv4 outside every special range is public; IPv6 is
 * public only inside global unicast 2000::/3. Returns undefined for text that
 * is not an address.
 */
export function classifyAddress(text: string): ClassifiedAddress | undefined {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  // The common spellings are read without building arrays; the rest goes through parseIp.
  if (!trimmed.includes(':')) {
    const n = ipv4Number(trimmed);
    // Strict dotted-quad text is its own canonical spelling.
    return n < 0 ? undefined : classified('ipv4', trimmed, ipv4Range(n));
  }
  const scan = scanIpv6(trimmed);
  if (scan !== SCAN_UNREAD) {
    const range = ipv6Range(scannedWords);
    return classified('ipv6', scan === SCAN_CANONICAL ? trimmed : formatIpv6(Array.from(scannedWords)), range);
  }
  const address = parseIp(trimmed);
  if (address?.family !== 'ipv6') return undefined;
  return classified('ipv6', formatIp(address), ipv6Range(address.words));
}

/**
 * Whether a member address of this class may be admitted by a target asking
 * for `kind`. A `private` target takes RFC 1918 IPv4; for IPv6 it takes ULA
 * and global unicast too, because a VPC's IPv6 addresses are global and are
 * the same addresses seen over peering and Transit Gateway.
 */
export function admits(kind: AddressKind, address: ClassifiedAddress): boolean {
  return admitsClass(kind, address.family, address.class);
}

function admitsClass(kind: AddressKind, family: Family, cls: AddressClass): boolean {
  if (kind === 'public') return cls === 'public';
  if (family === 'ipv4') return cls === 'private';
  return cls === 'private' || cls === 'public';
}

/** `text`, a strict dotted quad whose number is `n` (negative: not one), when a target asking for `kind` admits it. */
function admittedIpv4(kind: AddressKind, n: number, text: string): string | undefined {
  return n >= 0 && admitsClass(kind, 'ipv4', ipv4Range(n)?.class ?? 'public') ? text : undefined;
}

/**
 * The canonical spelling of `text` when it is an address of `family` that a
 * target asking for `kind` admits (see `admits`); undefined otherwise. The
 * same answer as classifying and checking, without building anything for the
 * usual strict spellings: a fleet-wide pass asks once per member and target.
 */
export function admittedHost(kind: AddressKind, family: Family, text: string): string | undefined {
  // The usual spelling first: strict dotted-quad IPv4, its own canonical form.
  const n = family === 'ipv4' && typeof text === 'string' ? ipv4Number(text) : -1;
  if (n >= 0) return admittedIpv4(kind, n, text);
  const trimmed = typeof text === 'string' ? text.trim() : '';
  if (!trimmed.includes(':')) return family === 'ipv4' ? admittedIpv4(kind, ipv4Number(trimmed), trimmed) : undefined;
  if (family !== 'ipv6') return undefined;
  const scan = scanIpv6(trimmed);
  if (scan === SCAN_UNREAD) {
    const address = classifyAddress(trimmed);
    return address && address.family === family && admits(kind, address) ? address.canonical : undefined;
  }
  if (!admitsClass(kind, 'ipv6', ipv6Range(scannedWords)?.class ?? 'reserved')) return undefined;
  return scan === SCAN_CANONICAL ? trimmed : formatIpv6(Array.from(scannedWords));
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

/** Added to an IPv6 prefix length in `canonicalPrefix`'s answer. */
const IPV6_PREFIX = 256;

/** `text[from..]` as a prefix length in plain decimal (no sign, no leading zero, up to 3 digits), or -1. */
function plainDecimal(text: string, from: number): number {
  const digits = text.length - from;
  if (digits < 1 || digits > 3 || (digits > 1 && text.charCodeAt(from) === 48)) return -1;
  let value = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    value = value * 10 + (c - 48);
  }
  return value;
}

/**
 * When `text` (with its '/' at `slash`) is already a CIDR as EC2 stores it —
 * canonical address, host bits clear, prefix in plain decimal — its prefix
 * length, plus IPV6_PREFIX for IPv6; otherwise -1. The rules a pass reads
 * are nearly all like this, so they need no parsing and no new strings.
 */
function canonicalPrefix(text: string, slash: number): number {
  const prefix = plainDecimal(text, slash + 1);
  if (prefix < 0) return -1;
  const n = ipv4Number(text, 0, slash);
  if (n >= 0) return prefix <= 32 && (n & ~ipv4Mask(prefix)) === 0 ? prefix : -1;
  if (prefix > 128 || scanIpv6(text, 0, slash) !== SCAN_CANONICAL) return -1;
  for (let w = 0; w < 8; w++) {
    const keep = Math.max(0, Math.min(16, prefix - w * 16));
    if (((scannedWords[w] ?? 0) & (0xffff >> keep)) !== 0) return -1;
  }
  return prefix + IPV6_PREFIX;
}

/** Whether `text` is a CIDR spelled exactly as EC2 stores it (so `parseCidr(text).canonical === text`). */
export function isCanonicalCidr(text: string | undefined): boolean {
  if (typeof text !== 'string') return false;
  const slash = text.indexOf('/');
  return slash >= 0 && canonicalPrefix(text, slash) >= 0;
}

/**
 * Parses a CIDR the way EC2 stores it: `100.68.0.18/18` becomes
 * `100.68.0.0/18`, so two spellings of one rule compare equal.
 */
export function parseCidr(text: string): ParsedCidr | undefined {
  if (typeof text !== 'string') return undefined;
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const fast = canonicalPrefix(text, slash);
  if (fast >= IPV6_PREFIX) return { family: 'ipv6', prefixLength: fast - IPV6_PREFIX, canonical: text };
  if (fast >= 0) return { family: 'ipv4', prefixLength: fast, canonical: text };
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

/** A CIDR of exactly one address (a /32 or a /128): the only kind of rule sgsync writes. */
export function isHostCidr(cidr: string | undefined): boolean {
  const parsed = cidr === undefined ? undefined : parseCidr(cidr);
  return parsed !== undefined && parsed.prefixLength === (parsed.family === 'ipv4' ? 32 : 128);
}

/** A CIDR that opens a group to the whole internet (0.0.0.0/0, ::/0). */
export function isOpenToWorld(cidr: string | undefined): boolean {
  return cidr !== undefined && parseCidr(cidr)?.prefixLength === 0;
}
