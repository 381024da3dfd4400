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

/** True when the selector rules out this region whatever the instance's tags. */
export function excludesRegion(selector: MemberSelector | undefined, region: string): boolean {
  return selector?.regions !== undefined && !selector.regions.includes(region);
}
