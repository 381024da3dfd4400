/**
 * An index of canonical EC2 instance ids (`i-` and 8 or 17 lower-case hex
 * digits) to positions, keyed by the id's value rather than its text. Each
 * id is read into three 32-bit words that determine it exactly, and the words
 * sit in the table slot beside the position: a lookup reads one slot, with no
 * string to fetch and compare. At fleet scale that string compare, on a
 * string far away in memory, was most of the cost of finding a member.
 *
 * Ids in any other spelling are not canonical here and are left to a
 * `StringIndex`; a canonical id never equals a non-canonical one, so the two
 * never need to agree.
 */

/** A canonical EC2 instance id: `i-` and 8 or 17 lower-case hex digits, the spelling `readInstanceId` takes. */
export const INSTANCE_ID_PATTERN = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

/** The words of the last id `readInstanceId` accepted. Reused: copy what you keep. */
const words = new Int32Array(3);

/** Each character code's value as a lower-case hex digit, or -1 (codes past the table are never digits). */
const HEX = Int8Array.from({ length: 128 }, (_, c) => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1));

function hexDigit(c: number): number {
  return c < 128 ? (HEX[c] as number) : -1;
}

/** The value of the 8 hex digits at `text[from, from + 8)`, or -1 when one is not a lower-case hex digit. */
function eightDigits(text: string, from: number): number {
  let value = 0;
  for (let i = from; i < from + 8; i++) {
    const h = hexDigit(text.charCodeAt(i));
    if (h < 0) return -1;
    value = value * 16 + h;
  }
  return value;
}

/**
 * Reads `text[start, end)` as a canonical instance id into `words` and
 * returns true, or returns false. Words: the last 8 digits; the 8 before them
 * (0 for a short id); and 1 for a short id or 16 + the first digit for a long
 * one, so no short id and long id share words.
 */
export function readInstanceId(text: string, start: number, end: number): boolean {
  return readInstanceIdInto(text, start, end, words, 0);
}

/** `readInstanceId`, writing the three words to `into[at, at + 3)`. */
export function readInstanceIdInto(text: string, start: number, end: number, into: Int32Array, at: number): boolean {
  const length = end - start;
  if ((length !== 10 && length !== 19) || text.charCodeAt(start) !== 105 || text.charCodeAt(start + 1) !== 45) return false;
  const low = eightDigits(text, end - 8);
  if (low < 0) return false;
  if (length === 10) {
    into[at] = low;
    into[at + 1] = 0;
    into[at + 2] = 1;
    return true;
  }
  const first = hexDigit(text.charCodeAt(start + 2));
  const middle = first < 0 ? -1 : eightDigits(text, start + 3);
  if (middle < 0) return false;
  into[at] = low;
  into[at + 1] = middle;
  into[at + 2] = 16 + first;
  return true;
}

/** A well-mixed 32-bit hash of the three words (the last digits of EC2 ids are not random enough alone). */
function hashWords(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ Math.imul(b, 0x9e3779b1) ^ Math.imul(c, 0x85ebca6b), 0xcc9e2d51);
  h ^= h >>> 15;
  h = Math.imul(h, 0x1b873593);
  return h ^ (h >>> 13);
}

const EMPTY = 0;
/** Int32s per slot: the three words, then position + 1 (EMPTY when free). */
const SLOT = 4;

export class InstanceIdIndex {
  private mask: number;
  private table: Int32Array;
  private count = 0;
  /** What `findAll` read ahead (see there). */
  private seen = 0;

  /** @param size how many ids are expected (more still work, at the cost of a resize) */
  constructor(size: number) {
    let capacity = 16;
    while (capacity < size * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.table = new Int32Array(capacity * SLOT);
  }

  /**
   * The position of the canonical id `text.slice(start, end)`; -1 when it is
   * canonical but not indexed; -2 when it is not canonical (ask a `StringIndex`).
   */
  find(text: string, start: number, end: number): number {
    if (!readInstanceId(text, start, end)) return -2;
    return this.search(hashWords(words[0] as number, words[1] as number, words[2] as number) & this.mask, words, 0);
  }

  /**
   * `find` for `count` ids already read by `readInstanceIdInto`, three words
   * each in `ids`: each one's position, or -1, into `out`. Found one at a
   * time, each search waits for its slot to come from memory (the table is
   * megabytes, and ids land in it at random) before the next can start.
   * Here every first slot is read before any search, so the waits overlap.
   */
  findAll(ids: Int32Array, count: number, out: Int32Array): void {
    const table = this.table;
    let seen = 0;
    for (let k = 0; k < count; k++) {
      const slot = hashWords(ids[k * 3] as number, ids[k * 3 + 1] as number, ids[k * 3 + 2] as number) & this.mask;
      out[k] = slot;
      seen |= table[slot * SLOT + 3] as number;
    }
    // Kept, so that the reads above are not dropped as unused.
    this.seen = seen;
    for (let k = 0; k < count; k++) out[k] = this.search(out[k] as number, ids, k * 3);
  }

  /** The position of the id whose words are `ids[at, at + 3)`, searching from `slot`; -1 when it is not indexed. */
  private search(slot: number, ids: Int32Array, at: number): number {
    const a = ids[at] as number;
    const b = ids[at + 1] as number;
    const c = ids[at + 2] as number;
    const table = this.table;
    for (; ; slot = (slot + 1) & this.mask) {
      const from = slot * SLOT;
      const held = table[from + 3] as number;
      if (held === EMPTY) return -1;
      if (table[from] === a && table[from + 1] === b && table[from + 2] === c) return held - 1;
    }
  }

  /**
   * Adds the canonical id `text` at `position` unless it is indexed already.
   * Returns -1 when added, the position already holding it, or -2 when the
   * id is not canonical (nothing is added).
   */
  add(text: string, position: number): number {
    if (!readInstanceId(text, 0, text.length)) return -2;
    const a = words[0] as number;
    const b = words[1] as number;
    const c = words[2] as number;
    for (let slot = hashWords(a, b, c) & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = slot * SLOT;
      const held = this.table[at + 3] as number;
      if (held === EMPTY) {
        this.put(slot, a, b, c, position + 1);
        return -1;
      }
      if (this.table[at] === a && this.table[at + 1] === b && this.table[at + 2] === c) return held - 1;
    }
  }

  private put(slot: number, a: number, b: number, c: number, held: number): void {
    const at = slot * SLOT;
    this.table[at] = a;
    this.table[at + 1] = b;
    this.table[at + 2] = c;
    this.table[at + 3] = held;
    // Keep at least half the slots free, so probes stay short and always end.
    if (++this.count * 2 > this.mask + 1) this.grow();
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    this.mask = old.length / SLOT * 2 - 1;
    for (let from = 0; from < old.length; from += SLOT) {
      if (old[from + 3] === EMPTY) continue;
      const a = old[from] as number;
      const b = old[from + 1] as number;
      const c = old[from + 2] as number;
      let slot = hashWords(a, b, c) & this.mask;
      while (this.table[slot * SLOT + 3] !== EMPTY) slot = (slot + 1) & this.mask;
      this.table.set(old.subarray(from, from + SLOT), slot * SLOT);
    }
  }
}
