import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InstanceIdIndex, readInstanceId, readInstanceIdInto } from './instance-id-index.js';

const hex = fc.constantFrom(...'0123456789abcdef'.split(''));
/** Canonical ids, short and long, with many sharing digits (zeros, repeated tails). */
const canonicalId = fc
  .oneof(fc.array(hex, { minLength: 8, maxLength: 8 }), fc.array(hex, { minLength: 17, maxLength: 17 }), fc.array(fc.constantFrom('0', 'f'), { minLength: 17, maxLength: 17 }))
  .map((digits) => `i-${digits.join('')}`);
const oddId = fc.constantFrom('i-0123456', 'i-012345678', 'i-0123456789ABCDEF0', 'I-01234567', ' i-01234567', 'i-0123456g', 'i-', '', 'i-000000000000000000');

describe('an instance id index', () => {
  it('takes exactly the canonical spellings: i- and 8 or 17 lower-case hex digits', () => {
    fc.assert(
      fc.property(fc.oneof(canonicalId, oddId, fc.string()), (id) => {
        expect(readInstanceId(id, 0, id.length)).toBe(/^i-([0-9a-f]{8}|[0-9a-f]{17})$/.test(id));
      }),
    );
  });

  it('finds each canonical id at the position it was added from, and only that id', () => {
    fc.assert(
      fc.property(fc.array(canonicalId, { maxLength: 200 }), fc.array(fc.oneof(canonicalId, oddId), { maxLength: 50 }), (ids, probes) => {
        const index = new InstanceIdIndex(1);
        const added = ids.map((id, i) => index.add(id, i));
        ids.forEach((id, i) => {
          expect(added[i]).toBe(ids.indexOf(id) === i ? -1 : ids.indexOf(id));
          expect(index.find(id, 0, id.length)).toBe(ids.indexOf(id));
        });
        for (const probe of probes) {
          const canonical = readInstanceId(probe, 0, probe.length);
          expect(index.find(probe, 0, probe.length)).toBe(canonical ? ids.indexOf(probe) : -2);
        }
      }),
    );
  });

  it('finds many ids at once exactly as it finds each alone', () => {
    fc.assert(
      fc.property(fc.array(canonicalId, { maxLength: 300 }), fc.array(canonicalId, { maxLength: 300 }), (ids, probes) => {
        const index = new InstanceIdIndex(ids.length);
        ids.forEach((id, i) => index.add(id, i));
        const words = new Int32Array(probes.length * 3);
        probes.forEach((id, k) => expect(readInstanceIdInto(id, 0, id.length, words, k * 3)).toBe(true));
        const out = new Int32Array(probes.length);
        index.findAll(words, probes.length, out);
        expect([...out]).toEqual(probes.map((id) => index.find(id, 0, id.length)));
      }),
    );
  });

  it('tells a short id from a long one with the same digits', () => {
    const index = new InstanceIdIndex(4);
    index.add('i-00000000', 0);
    index.add('i-00000000000000000', 1);
    index.add('i-ffffffff', 2);
    index.add('i-0000000000000ffff', 3);
    expect(['i-00000000', 'i-00000000000000000', 'i-ffffffff', 'i-0000000000000ffff', 'i-000000000ffffffff'].map((id) => index.find(id, 0, id.length))).toEqual([0, 1, 2, 3, -1]);
  });

  it('finds an id where it stands in a longer text, and leaves other spellings to the caller', () => {
    const index = new InstanceIdIndex(1);
    index.add('i-0abc1234', 0);
    const text = 'sgsync prod/api i-0abc1234 eu-west-1';
    expect(index.find(text, 16, 26)).toBe(0);
    expect(index.add('i-0ABC1234', 1)).toBe(-2);
    expect(index.find('i-0ABC1234', 0, 10)).toBe(-2);
  });
});
