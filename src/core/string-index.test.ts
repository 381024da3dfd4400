import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StringIndex } from './string-index.js';

function indexOf(keys: string[], size = keys.length): { index: StringIndex; repeats: number[] } {
  const index = new StringIndex((i) => keys[i] as string, size);
  return { index, repeats: keys.map((_, i) => index.add(i)) };
}

describe('a string index', () => {
  it('finds each key at the position it was added from', () => {
    const { index } = indexOf(['i-0a', 'i-0b', 'i-0c']);
    expect(['i-0c', 'i-0a', 'i-0b', 'i-0d'].map((k) => index.find(k))).toEqual([2, 0, 1, -1]);
  });

  it('finds a key standing inside a longer text, without cutting it out', () => {
    const { index } = indexOf(['i-0abc', 'i-0ab']);
    const text = 'sgsync prod/api i-0ab eu-west-1';
    expect(index.find(text, 16, 21)).toBe(1);
    expect(index.find(text, 16, 20)).toBe(-1);
  });

  it('reports a repeated key at its first position and keeps the first', () => {
    const { index, repeats } = indexOf(['sgr-1', 'sgr-2', 'sgr-1']);
    expect(repeats).toEqual([-1, -1, 0]);
    expect(index.find('sgr-1')).toBe(0);
  });

  it('compares keys that are not strings the way a Set does', () => {
    const keys = ['1', 1, NaN, NaN] as unknown as string[];
    const { repeats } = indexOf(keys);
    expect(repeats).toEqual([-1, -1, -1, 2]);
  });

  it('keeps working when given more keys than it was sized for', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 6 }), { maxLength: 200 }), (keys) => {
        const { index, repeats } = indexOf(keys, 1);
        keys.forEach((key, i) => {
          expect(repeats[i]).toBe(keys.indexOf(key) === i ? -1 : keys.indexOf(key));
          expect(index.find(key)).toBe(keys.indexOf(key));
        });
      }),
    );
  });
});
