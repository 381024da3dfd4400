/**
 * Unicode characters that change how the text after them is shown, written
 * out as their code points. A tag value with a right-to-left override
 * (`evil` + U+202E + `txt.exe` reads `evilexe.txt`) would otherwise make a
 * page show something other than what AWS holds; escaping keeps markup
 * inert, but these are not markup.
 */

/**
 * The bidi embeddings, overrides, isolates and marks, and the line and
 * paragraph separators, as the body of a character class (the terminal
 * tables of src/cli/table.ts replace the same ones).
 */
export const FORMATTING_CHARACTERS = '\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069';

const FORMATTING = new RegExp(`[${FORMATTING_CHARACTERS}]`, 'g');

/**
 * The text with each formatting character shown as `[U+XXXX]`. None of them is
 * markup and the dashboard's own templates use none, so this is safe on a
 * whole rendered page, and is applied there once, for every value at once.
 *
 * @example visibleText('evil\u202etxt.exe') // 'evil[U+202E]txt.exe'
 */
export function visibleText(text: string): string {
  return text.replace(FORMATTING, (c) => `[U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
}
