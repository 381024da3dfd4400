import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MemberSelector } from '../core/model.js';
import { selectorMatcher } from '../core/selector.js';
import { compileFilters } from '../sandbox/filters.js';
import { MAX_FILTER_VALUE_LENGTH, MAX_FILTER_VALUES } from '../core/ports.js';
import { memberFilters } from './member-filters.js';

const targets = (...selectors: MemberSelector[]) => selectors.map((selector) => ({ selector }));

/** The sandbox's reading of the filters, which follows EC2's (values OR'd, filters AND'd, `*` and `?` wildcards). */
function ec2Admits(filters: ReturnType<typeof memberFilters>, tags: Record<string, string>): boolean {
  const admit = compileFilters<Record<string, string>>(
    filters.map((f) => ({ name: f.Name, values: f.Values })),
    {},
    (t) => new Map(Object.entries(t)),
  );
  return admit(tags);
}

describe('memberFilters', () => {
  it('lists everything when no target is given or a selector names no tag', () => {
    expect(memberFilters([])).toEqual([]);
    expect(memberFilters(targets({}))).toEqual([]);
    expect(memberFilters(targets({ tags: { role: ['api'] } }, { regions: ['eu-west-1'] }))).toEqual([]);
  });

  it('filters on the tags every selector names, with the values any of them lists', () => {
    const filters = memberFilters(
      targets({ tags: { 'client-of': ['api'], env: ['prod'] } }, { tags: { 'client-of': ['db', 'api'], team: ['x'] } }, { tags: { 'client-of': ['cache'] } }),
    );
    expect(filters).toEqual([{ Name: 'tag:client-of', Values: ['api', 'cache', 'db'] }]);
  });

  it('asks only for the key when a selector accepts any value, in one tag-key filter', () => {
    const filters = memberFilters(targets({ tags: { a: ['*'], b: ['1'], c: ['*'] } }, { tags: { a: ['x'], b: ['2'], c: ['y'] } }));
    expect(filters).toEqual([
      { Name: 'tag-key', Values: ['a', 'c'] },
      { Name: 'tag:b', Values: ['1', '2'] },
    ]);
  });

  it('turns wildcard and escape characters into one-character wildcards, and skips a key with an empty value', () => {
    expect(memberFilters(targets({ tags: { k: ['a*b', 'c?d', 'e\\f'], empty: [''] } }))).toEqual([{ Name: 'tag:k', Values: ['a?b', 'c?d', 'e?f'] }]);
  });

  it(`stays within EC2's ${MAX_FILTER_VALUES} filter values a request`, () => {
    const many = Array.from({ length: MAX_FILTER_VALUES }, (_, i) => `v${i}`);
    const filters = memberFilters(targets({ tags: { a: many.slice(0, 150), b: many.slice(0, 100), c: ['x'] } }));
    expect(filters.map((f) => f.Name)).toEqual(['tag:a', 'tag:c']);
    expect(filters.reduce((n, f) => n + f.Values.length, 0)).toBeLessThanOrEqual(MAX_FILTER_VALUES);
  });

  it(`leaves out a tag whose values include one longer than EC2's ${MAX_FILTER_VALUE_LENGTH} characters`, () => {
    const long = 'v'.repeat(MAX_FILTER_VALUE_LENGTH + 1);
    expect(memberFilters(targets({ tags: { a: ['x', long], b: ['y'.repeat(MAX_FILTER_VALUE_LENGTH)] } }))).toEqual([{ Name: 'tag:b', Values: ['y'.repeat(MAX_FILTER_VALUE_LENGTH)] }]);
  });

  it('never leaves out an instance some target selects', () => {
    const key = fc.constantFrom('role', 'team', 'env', 'a*', 'x');
    const value = fc.constantFrom('api', 'db', '', '*', 'a*b', 'a?b', 'axb', 'a\\b', 'ab', 'API');
    const selector = fc.record({ tags: fc.dictionary(key, fc.array(value, { minLength: 1, maxLength: 3 }), { maxKeys: 3 }) });
    const tags = fc.dictionary(key, value, { maxKeys: 4 });
    fc.assert(
      fc.property(fc.array(selector, { minLength: 1, maxLength: 4 }), fc.array(tags, { maxLength: 10 }), (selectors, fleet) => {
        const filters = memberFilters(targets(...selectors));
        const matchers = selectors.map((s) => selectorMatcher(s));
        for (const t of fleet) {
          const selected = matchers.some((m) => m({ region: 'eu-west-1', tags: t }));
          if (selected) expect(ec2Admits(filters, t)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves out instances without the common tags', () => {
    const filters = memberFilters(targets({ tags: { 'client-of': ['api'] } }, { tags: { 'client-of': ['db'] } }));
    expect(ec2Admits(filters, { 'client-of': 'web' })).toBe(false);
    expect(ec2Admits(filters, { Name: 'node-1' })).toBe(false);
    expect(ec2Admits(filters, { 'client-of': 'db' })).toBe(true);
  });
});
