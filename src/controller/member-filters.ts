/**
 * The DescribeInstances filters a fleet-wide pass lists with: the tags every
 * target's selector asks for, so EC2 sends the instances some target may
 * select and leaves the rest of the fleet out. The filters only narrow the
 * listing; which instance a target admits is still decided by its selector,
 * here, so a filter that lets through a little more than needed costs bytes,
 * never a rule.
 *
 * Always a superset: an instance any target selects carries every tag
 * common to all selectors, with one of the values some selector lists for it.
 */
import type { Target } from '../core/model.js';
import { MAX_FILTER_VALUE_LENGTH, MAX_FILTER_VALUES, type ListFilter } from '../core/ports.js';
import { ANY_VALUE } from '../core/selector.js';

/**
 * EC2 reads `*` and `?` in a filter value as wildcards and `\` as an escape.
 * Each becomes `?` (any one character): the value then matches itself and a
 * few others, which the selector turns away.
 */
function asPattern(text: string): string {
  return text.replace(/[*?\\]/g, '?');
}

/**
 * The filters for the targets' members, or [] when the selectors share no
 * tag (some target admits instances whatever their tags): then every
 * instance is listed.
 */
export function memberFilters(targets: readonly Pick<Target, 'selector'>[]): ListFilter[] {
  if (targets.length === 0) return [];
  const selectors = targets.map((t) => t.selector.tags ?? {});
  const common = Object.keys(selectors[0] ?? {})
    .filter((key) => selectors.every((tags) => Object.hasOwn(tags, key)))
    .sort();
  const anyValue: string[] = [];
  const byValue: ListFilter[] = [];
  for (const key of common) {
    const values = new Set(selectors.flatMap((tags) => tags[key] ?? []));
    if (values.has(ANY_VALUE)) anyValue.push(asPattern(key));
    // An empty value cannot be sent as a filter value; the key then narrows nothing.
    else if (values.size > 0 && ![...values].some((v) => v === '')) byValue.push({ Name: `tag:${key}`, Values: [...values].map(asPattern).sort() });
  }
  // Values are OR'd within a filter: one `tag-key` filter with every such key
  // admits instances with any of them, a superset of those with all of them.
  const filters = anyValue.length > 0 ? [{ Name: 'tag-key', Values: anyValue }, ...byValue] : byValue;
  // Within EC2's caps on values and their length; dropping a filter only lets more through.
  const kept: ListFilter[] = [];
  let values = 0;
  for (const f of filters) {
    if (values + f.Values.length > MAX_FILTER_VALUES || f.Values.some((v) => v.length > MAX_FILTER_VALUE_LENGTH)) continue;
    kept.push(f);
    values += f.Values.length;
  }
  return kept;
}
