import { describe, expect, it } from 'vitest';
import type { MemberSelector } from './model.js';
import { excludesRegion, matchesSelector, selectorMatcher } from './selector.js';

const member = { region: 'eu-west-1', tags: { role: 'worker', env: 'prod' } };

describe('member selectors', () => {
  it.each<[string, MemberSelector | undefined, boolean]>([
    ['no selector selects everyone', undefined, true],
    ['an empty selector selects everyone', {}, true],
    ['a listed region selects', { regions: ['us-east-1', 'eu-west-1'] }, true],
    ['an unlisted region does not', { regions: ['us-east-1'] }, false],
    ['an empty region list selects no one', { regions: [] }, false],
    ['a matching tag value selects', { tags: { role: ['worker'] } }, true],
    ['any one of several values selects', { tags: { role: ['api', 'worker'] } }, true],
    ['another value does not', { tags: { role: ['api'] } }, false],
    ['tag values are case-sensitive', { tags: { role: ['Worker'] } }, false],
    ['* selects any value of a present tag', { tags: { env: ['*'] } }, true],
    ['* does not select a missing tag', { tags: { team: ['*'] } }, false],
    ['every tag must match', { tags: { role: ['worker'], env: ['staging'] } }, false],
    ['regions and tags must both match', { regions: ['eu-west-1'], tags: { role: ['worker'], env: ['prod'] } }, true],
    ['a tag with no allowed values selects no one', { tags: { role: [] } }, false],
  ])('%s', (_case, selector, expected) => {
    expect(matchesSelector(member, selector)).toBe(expected);
    // The planner's form, prepared once per target, answers alike.
    expect(selectorMatcher(selector)(member)).toBe(expected);
    // A selector that rules out the member's region, whatever its tags, does not select it.
    if (excludesRegion(selector, member.region)) expect(expected).toBe(false);
  });
});
