import { describe, expect, it } from 'vitest';
import { printable, renderTable } from './table.js';

describe('table cells', () => {
  it.each([
    ['a colour escape', 'x\u001b[31my', 'x?[31my'],
    ['a right-to-left override, which shows evil, U+202E, txt.exe as "evilexe.txt"', 'evil\u202etxt.exe', 'evil?txt.exe'],
    ['the other embeddings and overrides', '\u202a\u202b\u202c\u202d', '????'],
    ['the isolates', '\u2066\u2067\u2068\u2069', '????'],
    ['the direction marks', '\u200e\u200f\u061c', '???'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'a?b?c'],
    ['8-bit controls, such as the one-byte CSI', 'x\u009b31my\u0085', 'x?31my?'],
    ['zero-width characters, which make a planted id look like a real one', 'i-0abc\u200b\u200c\u200d\u2060\ufeff', 'i-0abc?????'],
    ['the soft hyphen and the tag characters', 'a\u00adb\u{e0041}', 'a?b?'],
  ])('replace %s', (_what, value, shown) => {
    expect(printable(value)).toBe(shown);
  });

  it('leave other text alone, wide characters and right-to-left letters included', () => {
    expect(printable('ウェブ שרת web')).toBe('ウェブ שרת web');
  });

  it('cannot reorder the columns after them', () => {
    expect(renderTable(['name', 'id'], [['evil\u202etxt.exe', 'i-1']])).toBe('name          id\n------------  ---\nevil?txt.exe  i-1\n');
  });
});
