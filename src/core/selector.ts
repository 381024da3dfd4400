/**
 * Which instances a target admits. A selector narrows by region and by tags;
 * an empty selector admits every instance.
 */
import type { Member, MemberSelector } from './model.js';

/** Matches any value of a tag, but the tag must be present. */
export const ANY_VALUE = '*';

/**
 * True when the member is in one of the selector's regions (undefined means
 * any region; an empty list means none) and, for every selector tag, carries
 * that tag with one of the listed values (`*` accepts any value).
 */
export function matchesSelector(member: Pick<Member, 'region' | 'tags'>, selector: MemberSelector | undefined): boolean {
  if (!selector) return true;
  if (selector.regions !== undefined && !selector.regions.includes(member.region)) return false;
  const tags = member.tags ?? {};
  const wanted = selector.tags ?? {};
  for (const key in wanted) {
    if (!Object.hasOwn(wanted, key)) continue;
    if (!Object.hasOwn(tags, key)) return false;
    const actual = tags[key];
    if (!(wanted[key] ?? []).some((v) => v === ANY_VALUE || v === actual)) return false;
  }
  return true;
}

/**
 * `matchesSelector` for one selector, prepared once: the region list becomes
 * a set and each tag's values a set, so checking a whole fleet against a
 * target costs a few lookups per instance.
 */
export function selectorMatcher(selector: MemberSelector | undefined): (member: Pick<Member, 'region' | 'tags'>) => boolean {
  if (!selector) return () => true;
  const regions = selector.regions !== undefined ? new Set(selector.regions) : undefined;
  const wanted = selector.tags ?? {};
  const tags = Object.keys(wanted).map((key) => {
    const values = wanted[key] ?? [];
    // Strings compare the same in a set; anything else keeps the exact `===` test.
    const exact = values.every((v) => typeof v === 'string') ? new Set(values) : undefined;
    return { key, any: values.includes(ANY_VALUE), exact, values };
  });
  return (member) => {
    if (regions !== undefined && !regions.has(member.region)) return false;
    const own = member.tags ?? {};
    for (const { key, any, exact, values } of tags) {
      if (!Object.hasOwn(own, key)) return false;
      if (any) continue;
      const actual = own[key];
      if (exact ? !exact.has(actual as string) : !values.some((v) => v === actual)) return false;
    }
    return true;
  };
}

/** True when the selector rules out this region whatever the instance's tags. */
export function excludesRegion(selector: MemberSelector | undefined, region: string): boolean {
  return selector?.regions !== undefined && !selector.regions.includes(region);
}
