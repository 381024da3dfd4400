import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sortByText } from './text-order.js';

interface Item {
  group: string;
  key: string;
  at: number;
}

/** What `sortByText` must equal: a stable comparator sort by group, then key. */
function reference(items: Item[]): Item[] {
  const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...items].sort((a, b) => byText(a.group, b.group) || byText(a.key, b.key));
}

const sorted = (items: Item[]) =>
  sortByText(
    items,
    (i) => i.key,
    (i) => i.group,
  );

/** Keys made of the characters that matter: hex digits, their neighbours in code order, and a few far away. */
const key = fc.string({ unit: fc.constantFrom('i', '-', '0', '1', '9', 'a', 'f', 'g', '/', ':', 'A', '`', '\u0000', 'é', '\uffff'), maxLength: 12 });

const items = (keys: fc.Arbitrary<string>, groups: fc.Arbitrary<string>, maxLength: number) =>
  fc.array(fc.record({ group: groups, key: keys }), { maxLength }).map((list) => list.map((x, at) => ({ ...x, at })));

describe('sorting by text', () => {
  it('orders by group, then key, keeping ties in the order given', () => {
    const list: Item[] = [
      { group: 'us-east-1', key: 'i-0b', at: 0 },
      { group: 'eu-west-1', key: 'i-0c', at: 1 },
      { group: 'us-east-1', key: 'i-0a', at: 2 },
      { group: 'us-east-1', key: 'i-0b', at: 3 },
      { group: 'eu-west-1', key: 'i-0a', at: 4 },
    ];
    expect(sorted(list).map((i) => i.at)).toEqual([4, 1, 2, 0, 3]);
  });

  it('matches a comparator sort for any keys and groups', () => {
    fc.assert(
      fc.property(items(key, fc.constantFrom('', 'eu-west-1', 'us-east-1', 'us-east-10', 'é'), 200), (list) => {
        expect(sorted(list)).toEqual(reference(list));
      }),
      { numRuns: 500 },
    );
  });

  it('matches a comparator sort for EC2-like ids sharing long prefixes, many of them tied', () => {
    const hex = fc.string({ unit: fc.constantFrom('0', '1', 'e', 'f'), minLength: 0, maxLength: 17 });
    const ids = hex.map((h) => `i-0000000${h}`);
    fc.assert(
      fc.property(items(ids, fc.constantFrom('ap-south-1', 'us-east-1'), 400), (list) => {
        expect(sorted(list)).toEqual(reference(list));
      }),
      { numRuns: 200 },
    );
  });

  it('matches a comparator sort when there are too many items to hold many characters of each key', () => {
    // 2 ** 20 positions and 32 groups leave 5 characters of each key's prefix.
    const n = 2 ** 19 + 1;
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const list: Item[] = Array.from({ length: n }, (_, at) => ({
      group: `g${next() % 32}`,
      key: `sgr-${(next() % 0xfffff).toString(16)}${(next() % 16).toString(16)}`,
      at,
    }));
    expect(sorted(list)).toEqual(reference(list));
  });

  it('sorts by key alone when no group is given, and handles nothing and one item', () => {
    expect(sortByText(['b', 'a', 'ab', ''], (s) => s)).toEqual(['', 'a', 'ab', 'b']);
    expect(sortByText([], (s: string) => s)).toEqual([]);
    expect(sortByText(['x'], (s) => s)).toEqual(['x']);
  });
});
