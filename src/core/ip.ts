/**
 * A small, strict IP address parser and formatter. core/ stays free of
 * libraries, and a deliberately narrow grammar means an address that reaches
 * a security-group rule is exactly what it looks like.
 */

/** An IPv4 address as 4 octets or an IPv6 address as 8 sixteen-bit words. */
export type IpAddress = { family: 'ipv4'; octets: number[] } | { family: 'ipv6'; words: number[] };

const HEX_WORD = /^[0-9a-fA-F]{1,4}$/;

/**
 * Parses dotted-quad IPv4. Leading zeros are refused because some tools read
 * them as octal, so `010.0.0.1` means different hosts to different readers.
 * Hand-rolled rather than split/regex: the planner parses every member's
 * address on every pass.
 */
export function parseIpv4(text: string): number[] | undefined {
  const octets: number[] = [];
  let value = -1;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // a virtual final '.'
    if (c === 46) {
      if (digits === 0 || octets.length === 4) return undefined;
      octets.push(value);
      value = -1;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return undefined; // leading zero
      value = (value < 0 ? 0 : value * 10) + (c - 48);
      if (++digits > 3 || value > 255) return undefined;
    } else {
      return undefined;
    }
  }
  return octets.length === 4 ? octets : undefined;
}

function parseWords(text: string, allowTrailingIpv4: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const words: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    if (allowTrailingIpv4 && i === parts.length - 1 && part.includes('.')) {
      const octets = parseIpv4(part);
      if (!octets) return undefined;
      words.push(((octets[0] ?? 0) << 8) | (octets[1] ?? 0), ((octets[2] ?? 0) << 8) | (octets[3] ?? 0));
    } else if (HEX_WORD.test(part)) {
      words.push(parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return words;
}

/**
 * Parses IPv6 text: full form, `::` compression and a trailing embedded IPv4
 * (`::ffff:192.0.2.1`). Zone ids (`fe80::1%eth0`) are refused: they have no
 * meaning in a rule.
 */
export function parseIpv6(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  if (halves.length === 1) {
    const words = parseWords(text, true);
    return words?.length === 8 ? words : undefined;
  }
  const head = parseWords(halves[0] ?? '', false);
  const tail = parseWords(halves[1] ?? '', true);
  if (!head || !tail || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** Parses either family; whitespace around the text is tolerated, nothing else. */
export function parseIp(text: string): IpAddress | undefined {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  if (trimmed.includes(':')) {
    const words = parseIpv6(trimmed);
    return words ? { family: 'ipv6', words } : undefined;
  }
  const octets = parseIpv4(trimmed);
  return octets ? { family: 'ipv4', octets } : undefined;
}

/**
 * Formats IPv6 the RFC 5952 way (lower case, no leading zeros, the longest
 * run of two or more zero words as `::`, the first such run on a tie), so two
 * spellings of one address compare equal as strings.
 */
export function formatIpv6(words: number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The one canonical spelling of an address. */
export function formatIp(address: IpAddress): string {
  return address.family === 'ipv4' ? address.octets.join('.') : formatIpv6(address.words);
}

/** The address as a list of bytes, most significant first (4 or 16 of them). */
export function addressBytes(address: IpAddress): number[] {
  if (address.family === 'ipv4') return [...address.octets];
  return address.words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** The address whose bytes these are. */
export function addressFromBytes(family: 'ipv4' | 'ipv6', bytes: number[]): IpAddress {
  if (family === 'ipv4') return { family, octets: bytes.slice(0, 4) };
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  return { family, words };
}
