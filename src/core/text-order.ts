/**
 * Stable sorting by text keys, fast for the long lists a fleet-wide pass
 * orders: members' rules and refusals by region and instance id.
 *
 * A comparator sort of tens of thousands of objects spends most of its time
 * calling the comparator and comparing strings. Here each item gets one
 * number instead, and a native sort of plain numbers does nearly all the
 * work. The number holds, from the top: the rank of the item's group among
 * the distinct groups (a handful of regions), a few characters of its key
 * past the prefix every key shares, and the item's position (so equal
 * numbers never occur and the sort is stable). Wherever two numbers differ
 * above the position, the items compare the same way; items whose numbers
 * agree above it are put in order by comparing their keys in full.
 */

/** Bits of a double's significand: every integer below 2 ** 53 is exact. */
const EXACT_BITS = 53;
/** Bits per character of a key's prefix. */
const CHAR_BITS = 5;
const CHAR_VALUES = 2 ** CHAR_BITS;

/**
 * A character's code in a key's prefix. Hex digits (what AWS ids are made of
 * past their prefix) each get a code of their own; every other character
 * shares a code with its neighbours in code-unit order, and ends the prefix:
 * the characters after it count as absent, since its code no longer says
 * which character it was. 0 is the end of the key, below every character.
 */
const SHARED_BELOW_DIGITS = 1;
const DIGIT_0 = 2;
const SHARED_DIGITS_TO_LETTERS = 12;
const LETTER_A = 13;
const SHARED_ABOVE_LETTERS = 19;

/** The code of character `c` (see above). */
function codeOf(c: number): number {
  if (c < 48) return SHARED_BELOW_DIGITS;
  if (c <= 57) return DIGIT_0 + (c - 48);
  if (c < 97) return SHARED_DIGITS_TO_LETTERS;
  if (c <= 102) return LETTER_A + (c - 97);
  return SHARED_ABOVE_LETTERS;
}

function isShared(code: number): boolean {
  return code === SHARED_BELOW_DIGITS || code === SHARED_DIGITS_TO_LETTERS || code === SHARED_ABOVE_LETTERS;
}

/** The first `chars` codes of `key` from `from` on, as one number. */
function prefixValue(key: string, from: number, chars: number): number {
  let value = 0;
  let open = true;
  for (let k = 0; k < chars; k++) {
    let code = 0;
    if (open && from + k < key.length) {
      code = codeOf(key.charCodeAt(from + k));
      open = !isShared(code);
    } else {
      open = false;
    }
    value = value * CHAR_VALUES + code;
  }
  return value;
}

/** How many leading characters every key shares. */
function sharedPrefix(keys: readonly string[]): number {
  const first = keys[0] ?? '';
  let length = first.length;
  for (let i = 1; i < keys.length && length > 0; i++) {
    const key = keys[i] as string;
    if (key.length < length) length = key.length;
    for (let j = 0; j < length; j++) {
      if (key.charCodeAt(j) !== first.charCodeAt(j)) {
        length = j;
        break;
      }
    }
  }
  return length;
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Bits needed to tell `count` values apart. */
function bitsFor(count: number): number {
  let bits = 0;
  while (2 ** bits < count) bits++;
  return bits;
}

/**
 * `items` in the order of `group(item)`, then `key(item)` (both compared by
 * UTF-16 code units, as `<` compares strings), items that tie kept in the
 * order given. Returns a new array. `group` should have few distinct values
 * (its values are ranked); `key` may have as many as there are items.
 */
export function sortByText<T>(items: readonly T[], key: (item: T) => string, group?: (item: T) => string): T[] {
  const n = items.length;
  const keys = items.map(key);
  const groups = group ? items.map(group) : undefined;
  const ranks = new Map<string, number>();
  if (groups) {
    for (const g of groups) ranks.set(g, 0);
    [...ranks.keys()].sort(byText).forEach((g, rank) => ranks.set(g, rank));
  }
  const indexBits = bitsFor(n);
  const rankBits = bitsFor(ranks.size);
  const chars = Math.max(0, Math.min(8, Math.floor((EXACT_BITS - indexBits - rankBits) / CHAR_BITS)));
  const skip = sharedPrefix(keys);
  const positions = 2 ** indexBits;
  const prefixes = CHAR_VALUES ** chars;
  const order = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const rank = groups ? (ranks.get(groups[i] as string) as number) : 0;
    order[i] = (rank * prefixes + prefixValue(keys[i] as string, skip, chars)) * positions + i;
  }
  order.sort();

  const out: T[] = new Array<T>(n);
  const tied: number[] = [];
  const byKey = (a: number, b: number) => byText(keys[a] as string, keys[b] as string) || a - b;
  for (let j = 0; j < n; ) {
    const above = Math.floor((order[j] as number) / positions);
    let end = j + 1;
    while (end < n && Math.floor((order[end] as number) / positions) === above) end++;
    if (end === j + 1) {
      out[j] = items[(order[j] as number) - above * positions] as T;
    } else {
      // Same group and the same prefix: the keys decide, then the position.
      tied.length = 0;
      for (let k = j; k < end; k++) tied.push((order[k] as number) - above * positions);
      tied.sort(byKey);
      for (let k = j; k < end; k++) out[k] = items[tied[k - j] as number] as T;
    }
    j = end;
  }
  return out;
}
