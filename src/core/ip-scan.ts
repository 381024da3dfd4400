/**
 * Allocation-free readers for the address spellings a pass meets a hundred
 * thousand times: strict dotted-quad IPv4 as a number, and plain IPv6 (hex
 * groups and at most one `::`) into a word buffer, noting whether the text is
 * already canonical. They accept a subset of what `parseIp` accepts and agree
 * with it there; anything else (an embedded IPv4, stray characters) is left to
 * `parseIp`, so the grammar has one definition.
 */

/** Words of the last IPv6 address `scanIpv6` read. Reused: copy what you keep. */
export const scannedWords = new Uint16Array(8);

/**
 * The address of `text[start, end)` as an unsigned 32-bit number, or -1 when
 * it is not dotted-quad IPv4 as `parseIpv4` reads it (four decimal octets, no
 * leading zeros, nothing else). Such text is its own canonical spelling.
 */
export function ipv4Number(text: string, start = 0, end = text.length): number {
  let result = 0;
  let octets = 0;
  let value = -1;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 46; // a virtual final '.'
    if (c === 46) {
      if (digits === 0 || octets === 4) return -1;
      result = result * 256 + value;
      octets++;
      value = -1;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return -1; // leading zero
      value = (value < 0 ? 0 : value * 10) + (c - 48);
      if (++digits > 3 || value > 255) return -1;
    } else {
      return -1;
    }
  }
  return octets === 4 ? result : -1;
}

/**
 * The address of a CIDR spelled `a.b.c.d/32` with the address as `ipv4Number`
 * reads it, as an unsigned 32-bit number; -1 for any other text. Such a CIDR
 * is canonical, and two of them are the same text exactly when their numbers
 * are equal, so a pass can compare them without keeping the text at hand.
 */
export function ipv4HostNumber(cidr: string | undefined): number {
  if (typeof cidr !== 'string' || cidr.length < 10) return -1;
  const end = cidr.length - 3;
  if (cidr.charCodeAt(end) !== 47 || cidr.charCodeAt(end + 1) !== 51 || cidr.charCodeAt(end + 2) !== 50) return -1; // "/32"
  return ipv4Number(cidr, 0, end);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** `scanIpv6` could not read the text; ask `parseIp`. */
export const SCAN_UNREAD = 0;
/** Valid IPv6, but not spelled canonically (RFC 5952). */
export const SCAN_VALID = 1;
/** Valid IPv6, spelled exactly as `formatIpv6` would. */
export const SCAN_CANONICAL = 2;

/**
 * Reads plain IPv6 in `text[start, end)` into `scannedWords`. Returns
 * SCAN_CANONICAL when the text is exactly `formatIpv6` of its words (lower
 * case, no leading zeros, `::` on the first longest run of two or more zero
 * words and nowhere else), SCAN_VALID when it is another valid spelling, and
 * SCAN_UNREAD for everything it does not read (including invalid text).
 */
export function scanIpv6(text: string, start = 0, end = text.length): number {
  const words = scannedWords;
  let count = 0;
  let gapAt = -1; // word index where '::' stands
  let canonical = true;
  let i = start;
  if (end - start >= 2 && text.charCodeAt(i) === 58 && text.charCodeAt(i + 1) === 58) {
    gapAt = 0;
    i += 2;
    if (i === end) {
      words.fill(0);
      return SCAN_CANONICAL;
    }
  }
  for (;;) {
    // One group of 1-4 hex digits.
    let value = 0;
    let digits = 0;
    let first = -1;
    while (i < end) {
      const c = text.charCodeAt(i);
      const h = hexValue(c);
      if (h < 0) break;
      if (c >= 65 && c <= 70) canonical = false;
      if (digits === 0) first = h;
      value = value * 16 + h;
      if (++digits > 4) return SCAN_UNREAD;
      i++;
    }
    if (digits === 0 || count === 8) return SCAN_UNREAD;
    if (digits > 1 && first === 0) canonical = false;
    words[count++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== 58) return SCAN_UNREAD;
    i++;
    if (i < end && text.charCodeAt(i) === 58) {
      if (gapAt >= 0) return SCAN_UNREAD;
      gapAt = count;
      i++;
      if (i === end) break;
    } else if (i === end) {
      return SCAN_UNREAD; // a single trailing ':'
    }
  }
  if (gapAt < 0) {
    if (count !== 8) return SCAN_UNREAD;
  } else {
    if (count > 7) return SCAN_UNREAD;
    const gap = 8 - count;
    words.copyWithin(gapAt + gap, gapAt, count);
    words.fill(0, gapAt, gapAt + gap);
  }
  if (!canonical) return SCAN_VALID;
  // Canonical only if '::' compresses exactly the first longest run of two or more zeros.
  // The same search as formatIpv6's, kept inline: a shared helper returning both numbers
  // allocated per address and made cold planning of 100,000 members about 30% slower.
  let bestStart = -1;
  let bestLength = 1;
  for (let w = 0; w < 8; ) {
    if (words[w] !== 0) {
      w++;
      continue;
    }
    let j = w;
    while (j < 8 && words[j] === 0) j++;
    if (j - w > bestLength) {
      bestStart = w;
      bestLength = j - w;
    }
    w = j;
  }
  if (bestStart < 0) return gapAt < 0 ? SCAN_CANONICAL : SCAN_VALID;
  return gapAt === bestStart && 8 - count === bestLength ? SCAN_CANONICAL : SCAN_VALID;
}
