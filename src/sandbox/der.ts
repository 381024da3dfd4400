/**
 * A minimal DER (ASN.1 Distinguished Encoding Rules) writer and reader: just
 * enough to build an X.509 certificate and a PKCS#7 SignedData, which
 * node:crypto can sign but cannot assemble.
 */

/** Universal tags used by certificates and CMS. */
export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** One tag-length-value element with its content already encoded. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  const n = content.length;
  let header: number[];
  if (n < 0x80) header = [tag, n];
  else {
    const bytes: number[] = [];
    for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
    header = [tag, 0x80 | bytes.length, ...bytes];
  }
  return Buffer.concat([Buffer.from(header), content]);
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(TAG.sequence, Buffer.concat(items));

/** A SET OF: DER orders the members by their encodings. */
export const setOf = (...items: Uint8Array[]): Buffer =>
  tlv(TAG.set, Buffer.concat([...items].sort((a, b) => Buffer.compare(a, b))));

/** `[n] EXPLICIT` (and, for constructed content, `[n] IMPLICIT` too). */
export const contextTag = (n: number, content: Uint8Array): Buffer => tlv(0xa0 | n, content);

export const derNull = (): Buffer => Buffer.from([TAG.null, 0]);
export const octetString = (bytes: Uint8Array): Buffer => tlv(TAG.octetString, bytes);
export const utf8String = (text: string): Buffer => tlv(TAG.utf8String, Buffer.from(text, 'utf8'));
export const printableString = (text: string): Buffer => tlv(TAG.printableString, Buffer.from(text, 'ascii'));
export const boolean = (value: boolean): Buffer => tlv(TAG.boolean, Buffer.from([value ? 0xff : 0]));
/** A BIT STRING of whole bytes (no unused bits), as signatures and keys are. */
export const bitString = (bytes: Uint8Array): Buffer => tlv(TAG.bitString, Buffer.concat([Buffer.from([0]), bytes]));

/** A non-negative INTEGER from a number or big-endian bytes. */
export function integer(value: number | Uint8Array): Buffer {
  if (typeof value === 'number' && !(Number.isSafeInteger(value) && value >= 0)) throw new RangeError(`bad INTEGER ${value}`);
  const hex = typeof value === 'number' ? value.toString(16) : '';
  let bytes = typeof value === 'number' ? Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex') : Buffer.from(value);
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  bytes = bytes.subarray(start);
  // A set high bit would read as negative: prefix a zero byte.
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(TAG.integer, bytes);
}

/** An OBJECT IDENTIFIER from its dotted form, e.g. `1.2.840.113549.1.7.2`. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isInteger(a) || a < 0)) throw new RangeError(`bad OID ${dotted}`);
  const out = [arcs[0]! * 40 + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const base128: number[] = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) base128.unshift((rest & 0x7f) | 0x80);
    out.push(...base128);
  }
  return tlv(TAG.oid, Buffer.from(out));
}

/** UTCTime up to 2049 and GeneralizedTime after, as RFC 5280 requires. */
export function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return date.getUTCFullYear() < 2050 ? tlv(TAG.utcTime, Buffer.from(iso.slice(2), 'ascii')) : tlv(TAG.generalizedTime, Buffer.from(iso, 'ascii'));
}

/** A decoded element: its tag, its content and where the whole element ends. */
export interface DerElement {
  tag: number;
  content: Buffer;
  /** The complete encoding, header included. */
  raw: Buffer;
}

/** Reads the element starting at `offset`. Throws on truncated input. */
export function readElement(buf: Buffer, offset = 0): DerElement {
  const tag = buf[offset];
  const first = buf[offset + 1];
  if (tag === undefined || first === undefined) throw new RangeError('truncated DER');
  let length = first;
  let header = 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new RangeError('unsupported DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[offset + 2 + i] ?? NaN);
    header += count;
  }
  const end = offset + header + length;
  if (!Number.isFinite(length) || end > buf.length) throw new RangeError('truncated DER');
  return { tag, content: buf.subarray(offset + header, end), raw: buf.subarray(offset, end) };
}

/** The elements inside a constructed element (SEQUENCE, SET, context tag). */
export function children(element: DerElement): DerElement[] {
  const out: DerElement[] = [];
  for (let at = 0; at < element.content.length; ) {
    const child = readElement(element.content, at);
    out.push(child);
    at += child.raw.length;
  }
  return out;
}
