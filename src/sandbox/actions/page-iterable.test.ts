import { describe, expect, it } from 'vitest';
import { decodeToken } from '../pagination.js';
import { filtered, pageOf } from './page-iterable.js';

describe('lazy pages', () => {
  const numbers = Array.from({ length: 23 }, (_, i) => i);

  it('walks every item exactly once, page by page', () => {
    const seen: number[] = [];
    let start = 0;
    for (;;) {
      const page = pageOf(numbers, { maxResults: 5, start }, 'q');
      seen.push(...page.items);
      if (!page.nextToken) break;
      start = decodeToken(page.nextToken, 'q');
    }
    expect(seen).toEqual(numbers);
  });

  it('gives no token when the page ends exactly at the last item', () => {
    expect(pageOf(numbers.slice(0, 10), { maxResults: 5, start: 5 }, 'q')).toEqual({ items: [5, 6, 7, 8, 9] });
  });

  it('returns everything from the start when the caller does not paginate', () => {
    expect(pageOf(numbers, { start: 20 }, 'q').items).toEqual([20, 21, 22]);
  });

  it('stops reading one item past the page', () => {
    let pulled = 0;
    const counting = filtered(numbers, () => {
      pulled++;
      return true;
    });
    pageOf(counting, { maxResults: 5, start: 0 }, 'q');
    expect(pulled).toBe(6);
  });
});
