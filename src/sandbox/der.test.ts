import { describe, expect, it } from 'vitest';
import { children, integer, oid, readElement, sequence, setOf, time, tlv } from './der.js';

const hex = (b: Buffer) => b.toString('hex');

describe('DER encoding', () => {
  it.each([
    ['0', integer(0), '020100'],
    ['127', integer(127), '02017f'],
    ['128, which needs a leading zero to stay positive', integer(128), '02020080'],
    ['65537', integer(65537), '0203010001'],
    ['bytes with leading zeros', integer(Buffer.from([0, 0, 0x12])), '020112'],
    ['RSA with SHA-256', oid('1.2.840.113549.1.1.11'), '06092a864886f70d01010b'],
    ['SHA-256', oid('2.16.840.1.101.3.4.2.1'), '0609608648016503040201'],
    ['a time before 2050 as UTCTime', time(new Date('2020-01-02T03:04:05Z')), `170d${Buffer.from('200102030405Z').toString('hex')}`],
    ['a time from 2050 as GeneralizedTime', time(new Date('2050-01-01T00:00:00Z')), `180f${Buffer.from('20500101000000Z').toString('hex')}`],
  ])('encodes %s as the standard bytes', (_what, encoded, expected) => {
    expect(hex(encoded)).toBe(expected);
  });

  it('uses the long length form from 128 bytes of content on', () => {
    expect(hex(tlv(0x04, Buffer.alloc(127))).slice(0, 4)).toBe('047f');
    expect(hex(tlv(0x04, Buffer.alloc(128))).slice(0, 6)).toBe('048180');
    expect(hex(tlv(0x04, Buffer.alloc(300))).slice(0, 8)).toBe('0482012c');
  });

  it('orders the members of a SET OF by their encodings', () => {
    expect(hex(setOf(integer(3), integer(1), integer(2)))).toBe('3109020101020102020103');
  });

  it('reads back what it writes, element by element', () => {
    const encoded = sequence(integer(1), sequence(oid('2.5.4.3'), tlv(0x04, Buffer.alloc(200, 7))));
    const [one, inner] = children(readElement(encoded));
    expect(hex(one!.raw)).toBe('020101');
    const [name, octets] = children(inner!);
    expect(hex(name!.raw)).toBe(hex(oid('2.5.4.3')));
    expect(octets!.content).toEqual(Buffer.alloc(200, 7));
  });

  it('refuses truncated input instead of reading past its end', () => {
    const encoded = sequence(integer(65537));
    expect(() => readElement(encoded.subarray(0, encoded.length - 1))).toThrow(RangeError);
    expect(() => readElement(Buffer.from([0x30]))).toThrow(RangeError);
  });
});
