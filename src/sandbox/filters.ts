import { errors } from './errors.js';

export interface Filter {
  name: string;
  values: string[];
}

/**
 * EC2 filter values accept `*` (any run of characters) and `?` (one
 * character); a backslash makes the next character literal (`\*` is a star).
 */
export function wildcardMatch(pattern: string, value: string): boolean {
  if (!/[*?\\]/.test(pattern)) return pattern === value;
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) re += escapeRegExp(pattern[++i] as string);
    else if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else re += escapeRegExp(c);
  }
  return new RegExp(`^${re}$`, 's').test(value);
}

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Matches `tag:<key>`, `tag-key` and `tag-value` filters against a resource's
 * tags. Returns undefined when the filter is not a tag filter.
 */
export function matchTagFilter(filter: Filter, tags: ReadonlyMap<string, string>): boolean | undefined {
  if (filter.name.startsWith('tag:')) {
    const value = tags.get(filter.name.slice(4));
    return value !== undefined && filter.values.some((v) => wildcardMatch(v, value));
  }
  if (filter.name === 'tag-key') return [...tags.keys()].some((k) => filter.values.some((v) => wildcardMatch(v, k)));
  if (filter.name === 'tag-value') return [...tags.values()].some((x) => filter.values.some((v) => wildcardMatch(v, x)));
  return undefined;
}

/**
 * Builds a predicate from filters, given the resource's own fields. Unknown
 * filter names are an error, as in AWS.
 */
export function compileFilters<T>(
  filters: readonly Filter[],
  fields: Record<string, (item: T) => string | readonly string[] | undefined>,
  tagsOf: (item: T) => ReadonlyMap<string, string>,
): (item: T) => boolean {
  for (const f of filters) {
    const isTag = f.name.startsWith('tag:') || f.name === 'tag-key' || f.name === 'tag-value';
    if (!isTag && !(f.name in fields)) throw errors.invalidValue(`The filter '${f.name}' is invalid`);
  }
  return (item) =>
    filters.every((f) => {
      const tagged = matchTagFilter(f, tagsOf(item));
      if (tagged !== undefined) return tagged;
      const raw = fields[f.name]!(item);
      if (raw === undefined) return false;
      const values = typeof raw === 'string' ? [raw] : raw;
      return values.some((value) => f.values.some((pattern) => wildcardMatch(pattern, value)));
    });
}
