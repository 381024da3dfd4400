/**
 * Plain-text tables for terminals: columns padded to their widest cell,
 * numbers right-aligned. Cells are made printable, so a tag value cannot
 * move the cursor, change colours, or reorder what is shown.
 */
import { FORMATTING_CHARACTERS } from '../dashboard/visible-text.js';

/**
 * C0 and C1 controls (a terminal acts on ESC, CSI, OSC: clearing the screen,
 * writing the clipboard, making links), and the Unicode characters that change
 * the direction or lines of the text after them or hide in it: the format
 * characters (a Name `evil` + U+202E + `txt.exe` shows as `evilexe.txt`) and
 * the line and paragraph separators.
 */
export const UNPRINTABLE = new RegExp(`[\\p{Cc}${FORMATTING_CHARACTERS}]`, 'gu');

/** Any value as the text of one cell, each of the characters above shown as `?`. */
export function printable(value: unknown): string {
  const text =
    value === undefined || value === null
      ? '-'
      : typeof value === 'string'
        ? value
        : typeof value === 'number' || typeof value === 'boolean'
          ? String(value)
          : JSON.stringify(value);
  return text.replace(UNPRINTABLE, '?');
}

export function renderTable(headers: string[], rows: unknown[][]): string {
  const cells = rows.map((r) => r.map(printable));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => cells.length > 0 && cells.every((r) => /^-?\d+(\.\d+)?%?$|^-$/.test(r[i] ?? '')));
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}
