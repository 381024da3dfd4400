/**
 * Paging the Fleet table. A browser that draws 20,000 rows spends seconds on
 * every refresh; one page of rows at a time keeps each answer the same small
 * size however large the fleet. The counts above the table still cover the
 * whole fleet: only the rows are paged.
 */

/** Rows per page: enough to scroll through, few enough that a refresh draws in a blink. */
export const PAGE_SIZE = 200;

export interface PageSlice {
  /** The page shown, from 1; never past the last page. */
  page: number;
  /** How many pages the rows make; 1 when there are none, so "page 1 of 1" is always true. */
  pages: number;
  /** Index of the first row shown, and one past the last (`rows.slice(start, end)`). */
  start: number;
  end: number;
  total: number;
}

/**
 * The page a query asks for, from its text: a whole number from 1. Anything
 * else (absent, `0`, `-3`, `2.5`, `abc`, a number too large to be exact)
 * asks for the first page, as a link without `page` does.
 *
 * @example pageNumber('3') // 3
 * @example pageNumber('0') // 1
 */
export function pageNumber(text: string | undefined): number {
  const trimmed = text?.trim() ?? '';
  if (!/^\d+$/.test(trimmed)) return 1;
  const n = Number(trimmed);
  return Number.isSafeInteger(n) && n >= 1 ? n : 1;
}

/**
 * Which rows a page shows. A page past the end shows the last page, not an
 * empty table: a bookmark of page 40 still shows rows after the fleet shrank.
 *
 * @example pageOf(20180, 2, 200) // { page: 2, pages: 101, start: 200, end: 400, total: 20180 }
 */
export function pageOf(total: number, requested: number, size: number = PAGE_SIZE): PageSlice {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`page size must be a whole number from 1, not ${size}`);
  const pages = Math.max(1, Math.ceil(total / size));
  const page = Math.min(Math.max(1, Math.floor(requested) || 1), pages);
  const start = (page - 1) * size;
  return { page, pages, start, end: Math.min(start + size, total), total };
}
