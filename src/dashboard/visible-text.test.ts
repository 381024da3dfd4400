import { describe, expect, it } from 'vitest';
import { visibleText } from './visible-text.js';

describe('visible text', () => {
  it.each([
    ['a right-to-left override', 'evil\u202etxt.exe', 'evil[U+202E]txt.exe'],
    ['every embedding, override and isolate', '\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069', '[U+202A][U+202B][U+202C][U+202D][U+2066][U+2067][U+2068][U+2069]'],
    ['the direction marks', '\u200e\u200f\u061c', '[U+200E][U+200F][U+061C]'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'a[U+2028]b[U+2029]c'],
    ['zero-width characters, which make a planted id look like a real one', 'i-0abc\u200b\ufeff', 'i-0abc[U+200B][U+FEFF]'],
    ['a tag character, beyond the first plane, as one code point', 'a\u{e0041}b', 'a[U+E0041]b'],
  ])('writes out %s as code points', (_what, text, shown) => {
    expect(visibleText(text)).toBe(shown);
  });

  it('leaves markup, wide characters and right-to-left letters as they are', () => {
    expect(visibleText('<td title="ウェブ">שרת</td>')).toBe('<td title="ウェブ">שרת</td>');
  });
});
