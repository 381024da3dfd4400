/**
 * An index of strings to positions in a list, on typed arrays: open
 * addressing with FNV-1a hashes. At fleet scale a `Map` costs more than the
 * work it indexes — it grows by rehashing, and the garbage collector must
 * trace every entry — while this is two typed arrays sized once. It also
 * finds a key given as a range of a longer text, so an instance id inside a
 * rule description is looked up without being cut out.
 */

const EMPTY = 0;

/** FNV-1a of `text.slice(start, end)`, without the copy. */
export function hashRange(text: string, start = 0, end = text.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  // As an int32, the way the table stores it (the empty text never went through imul).
  return h | 0;
}

/** Set semantics (SameValueZero), for keys that turn out not to be strings. */
function sameKey(a: unknown, b: unknown): boolean {
  return a === b || (a !== a && b !== b);
}

/**
 * Keys are compared only where the hashes agree; a slot holds both (hash,
 * then position + 1) side by side, so a probe costs one memory access, not two.
 */
export class StringIndex {
  private mask: number;
  /** Per slot: the key's hash, then its position + 1 (0 when empty). */
  private table: Int32Array;
  private count = 0;

  /**
   * @param keyAt the key at a position of the list being indexed
   * @param size how many keys are expected (more still work, at the cost of a resize)
   */
  constructor(
    private readonly keyAt: (position: number) => string,
    size: number,
  ) {
    let capacity = 16;
    while (capacity < size * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.table = new Int32Array(capacity * 2);
  }

  /** The position of the key `text.slice(start, end)`, or -1. */
  find(text: string, start = 0, end = text.length): number {
    const hash = hashRange(text, start, end);
    const length = end - start;
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const held = this.table[slot * 2 + 1] ?? EMPTY;
      if (held === EMPTY) return -1;
      if (this.table[slot * 2] !== hash) continue;
      const key = this.keyAt(held - 1);
      if (typeof key === 'string' && key.length === length && text.startsWith(key, start)) return held - 1;
    }
  }

  /** The position of a key equal to `key` (as a Set compares keys), or -1. */
  indexOf(key: unknown): number {
    const text = typeof key === 'string' ? key : String(key);
    const hash = hashRange(text, 0, text.length);
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const held = this.table[slot * 2 + 1] ?? EMPTY;
      if (held === EMPTY) return -1;
      if (this.table[slot * 2] === hash && sameKey(this.keyAt(held - 1), key)) return held - 1;
    }
  }

  /**
   * Adds the key at `position` unless an equal key is already indexed.
   * Returns the position already holding it, or -1 when it was added.
   */
  add(position: number): number {
    const key = this.keyAt(position);
    const text = typeof key === 'string' ? key : String(key);
    const hash = hashRange(text, 0, text.length);
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const held = this.table[slot * 2 + 1] ?? EMPTY;
      if (held === EMPTY) {
        this.put(slot, hash, position + 1);
        return -1;
      }
      if (this.table[slot * 2] === hash && sameKey(this.keyAt(held - 1), key)) return held - 1;
    }
  }

  private put(slot: number, hash: number, held: number): void {
    this.table[slot * 2] = hash;
    this.table[slot * 2 + 1] = held;
    // Keep at least half the slots free, so probes stay short and always end.
    if (++this.count * 2 > this.mask + 1) this.grow();
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    this.mask = old.length - 1;
    for (let i = 0; i < old.length; i += 2) {
      const held = old[i + 1] ?? EMPTY;
      if (held === EMPTY) continue;
      const hash = old[i] ?? 0;
      let slot = hash & this.mask;
      while (this.table[slot * 2 + 1] !== EMPTY) slot = (slot + 1) & this.mask;
      this.table[slot * 2] = hash;
      this.table[slot * 2 + 1] = held;
    }
  }
}
