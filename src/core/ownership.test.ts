import { describe, expect, it } from 'vitest';
import { isManagedBy, ownershipTags, registeredAtMs, ruleMember, TAG } from './ownership.js';

const rule = (tags: Record<string, string>) => ({ tags });

describe('ownership', () => {
  it('tags a new rule with its deployment, target, instance, region and time', () => {
    expect(ownershipTags('prod', { target: 'api', instanceId: 'i-1', memberRegion: 'eu-west-1' }, '2025-01-01T00:00:00.000Z')).toEqual({
      'sgsync:managed-by': 'prod',
      'sgsync:target': 'api',
      'sgsync:instance': 'i-1',
      'sgsync:region': 'eu-west-1',
      'sgsync:registered-at': '2025-01-01T00:00:00.000Z',
    });
  });

  it.each([
    ['the managed-by tag names this deployment', { [TAG.managedBy]: 'prod' }, true],
    ['the managed-by tag names another deployment', { [TAG.managedBy]: 'staging' }, false],
    ['the managed-by tag differs only in case', { [TAG.managedBy]: 'Prod' }, false],
    ['there are sgsync tags but no managed-by', { [TAG.target]: 'api', [TAG.instance]: 'i-1' }, false],
    ['there are no tags', {}, false],
  ])('a rule is managed when %s: %s', (_case, tags, expected) => {
    expect(isManagedBy(rule(tags), 'prod')).toBe(expected);
  });

  it('never judges ownership by the description or the CIDR', () => {
    const lookalike = { tags: {}, description: 'sgsync prod/api i-1 eu-west-1', cidr: '54.12.0.7/32' };
    expect(isManagedBy(lookalike, 'prod')).toBe(false);
  });

  it('copes with a rule that has no tags object at all', () => {
    expect(isManagedBy({ tags: undefined as unknown as Record<string, string> }, 'prod')).toBe(false);
  });

  it.each([
    ['2025-01-01T00:00:00.000Z', Date.UTC(2025, 0, 1)],
    ['2025-01-01T00:00:10Z', Date.UTC(2025, 0, 1, 0, 0, 10)],
    ['yesterday', undefined],
    ['1735689600000', undefined],
    ['', undefined],
  ])('reads the registration time "%s" as %s', (text, ms) => {
    expect(registeredAtMs(rule({ [TAG.registeredAt]: text }))).toBe(ms);
  });
});

describe('ruleMember', () => {
  it.each([
    ['tags win over the description', { [TAG.instance]: 'i-0aaa1111', [TAG.region]: 'eu-west-1' }, 'sgsync prod/api i-0bbb2222 us-west-2', 'i-0aaa1111', 'eu-west-1'],
    ['the description names the member when a batch could carry only shared tags', { [TAG.managedBy]: 'prod' }, 'sgsync prod/api i-0bbb2222 us-west-2', 'i-0bbb2222', 'us-west-2'],
    ['a description in another shape names nobody', { [TAG.managedBy]: 'prod' }, 'admin laptop', undefined, undefined],
  ])('%s', (_name, tags, description, instanceId, memberRegion) => {
    expect(ruleMember({ tags, description })).toEqual({ instanceId, memberRegion });
  });
});
