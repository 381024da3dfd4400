import { describe, expect, it } from 'vitest';
import { pageNumber, pageOf, PAGE_SIZE } from './fleet-page.js';

describe('the page a query asks for', () => {
  it.each<[string | undefined, number]>([
    ['3', 3],
    [' 12 ', 12],
    ['1', 1],
    [undefined, 1],
    ['', 1],
    ['0', 1],
    ['-2', 1],
    ['2.5', 1],
    ['1e3', 1],
    ['abc', 1],
    ['0x10', 1],
    ['99999999999999999999', 1],
  ])('is %j → page %i', (text, page) => {
    expect(pageNumber(text)).toBe(page);
  });
});

describe('a page of rows', () => {
  it.each([
    ['the first page', 20180, 1, { page: 1, pages: 101, start: 0, end: 200 }],
    ['a page in the middle', 20180, 2, { page: 2, pages: 101, start: 200, end: 400 }],
    ['the last page, partly filled', 20180, 101, { page: 101, pages: 101, start: 20000, end: 20180 }],
    ['a page past the end, as the last page', 20180, 500, { page: 101, pages: 101, start: 20000, end: 20180 }],
    ['page 0, as the first', 20180, 0, { page: 1, pages: 101, start: 0, end: 200 }],
    ['a negative page, as the first', 20180, -4, { page: 1, pages: 101, start: 0, end: 200 }],
    ['a page of a fleet that fills its pages exactly', 400, 2, { page: 2, pages: 2, start: 200, end: 400 }],
    ['one row', 1, 3, { page: 1, pages: 1, start: 0, end: 1 }],
    ['no rows at all (an empty filter result), as page 1 of 1', 0, 7, { page: 1, pages: 1, start: 0, end: 0 }],
  ])('of %s', (_what, total, requested, expected) => {
    expect(pageOf(total, requested, 200)).toEqual({ ...expected, total });
  });

  it('is 200 rows by default', () => {
    expect(PAGE_SIZE).toBe(200);
    expect(pageOf(1000, 1).end).toBe(200);
  });

  it('never shows a row twice or leaves one out, over every page', () => {
    for (const [total, size] of [[0, 3], [1, 3], [10, 3], [12, 3], [12, 1], [7, 10]] as const) {
      const { pages } = pageOf(total, 1, size);
      const seen: number[] = [];
      for (let p = 1; p <= pages; p++) {
        const s = pageOf(total, p, size);
        for (let i = s.start; i < s.end; i++) seen.push(i);
      }
      expect(seen).toEqual([...Array(total).keys()]);
    }
  });

  it.each([0, -1, 2.5, Number.NaN])('refuses a page size of %d', (size) => {
    expect(() => pageOf(10, 1, size)).toThrow(RangeError);
  });
});
