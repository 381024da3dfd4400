import { encodeToken, type PageRequest } from '../pagination.js';

/**
 * One page from a filtered sequence, without materialising the whole
 * sequence: it stops one item past the page, which is all it needs to know
 * whether a next page exists. Its tokens are `encodeToken`'s, which
 * `readPageRequest` reads back.
 */
export function pageOf<T>(items: Iterable<T>, page: PageRequest, fingerprint: string): { items: T[]; nextToken?: string } {
  const out: T[] = [];
  const end = page.maxResults === undefined ? Infinity : page.start + page.maxResults;
  let index = 0;
  for (const item of items) {
    if (index >= end) return { items: out, nextToken: encodeToken(end, fingerprint) };
    if (index >= page.start) out.push(item);
    index++;
  }
  return { items: out };
}

/** The items of `source` that pass `keep`, lazily. */
export function* filtered<T>(source: Iterable<T>, keep: (item: T) => boolean): Generator<T> {
  for (const item of source) if (keep(item)) yield item;
}
