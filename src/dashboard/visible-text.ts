/**
 * Unicode characters that change how the text after them is shown, written
 * out as their code points. A tag value with a right-to-left override
 * (`evil` + U+202E + `txt.exe` reads `evilexe.txt`) would otherwise make a
 * page show something other than what AWS holds; escaping keeps markup
 * inert, but these are not markup.
 */

/**
 * Every format character (Unicode category Cf: the bidi embeddings,
 * overrides, isolates and marks, the zero-width space and joiners, the word
 * joiner, the byte-order mark, the soft hyphen, the tag characters…) and the
 * line and paragraph separators, as the body of a character class for a
 * regular expression with the `u` flag (the terminal tables of
 * src/cli/table.ts replace the same ones). Zero-width characters would let
 * a planted `i-0abc…` + U+200B look exactly like a real instance id.
 */
export const FORMATTING_CHARACTERS = '\\p{Cf}\\p{Zl}\\p{Zp}';

const FORMATTING = new RegExp(`[${FORMATTING_CHARACTERS}]`, 'gu');

/**
 * The text with each formatting character shown as `[U+XXXX]`. None of them is
 * markup and the dashboard's own templates use none, so this is safe on a
 * whole rendered page, and is applied there once, for every value at once.
 *
 * @example visibleText('evil\u202etxt.exe') // 'evil[U+202E]txt.exe'
 */
export function visibleText(text: string): string {
  return text.replace(FORMATTING, (c) => `[U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);
}
