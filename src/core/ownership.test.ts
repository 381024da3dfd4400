import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commonTags, isManagedBy, ownershipTags, registeredAtMs, ruleInstanceSpan, ruleMember, TAG, type TextSpan } from './ownership.js';

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

describe('the tags of a batch authorize', () => {
  it('are those every rule shares: ownership and target, never one member\'s instance or region', () => {
    const at = '2025-06-01T12:00:00.000Z';
    const items = [
      { tags: ownershipTags('prod', { target: 'api', instanceId: 'i-1', memberRegion: 'eu-west-1' }, at) },
      { tags: ownershipTags('prod', { target: 'api', instanceId: 'i-2', memberRegion: 'eu-west-1' }, at) },
      { tags: ownershipTags('prod', { target: 'api', instanceId: 'i-3', memberRegion: 'ap-southeast-2' }, at) },
    ];
    expect(commonTags(items)).toEqual({ [TAG.managedBy]: 'prod', [TAG.target]: 'api', [TAG.registeredAt]: at });
    expect(commonTags(items.slice(0, 1))).toEqual(items[0]!.tags);
    expect(commonTags([])).toEqual({});
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

describe('a description naming a member', () => {
  // What the description reader accepts, as one regular expression: `sgsync`, an owner token with a '/'
  // inside, an instance id and a region, separated by one space each. (`\S` is anything but JavaScript's white space.)
  const SHAPE = /^sgsync (\S+\/\S+) (i-[0-9a-f]{8,17}) ([a-z]{2}(?:-[a-z]+)+-\d+)$/;
  // Mostly valid pieces, so that about half the descriptions have the shape and the rest miss it by one piece.
  const piece = (valid: string[], odd: string[], chars: string) =>
    fc.oneof(
      { arbitrary: fc.constantFrom(...valid), weight: 12 },
      { arbitrary: fc.constantFrom(...odd), weight: 1 },
      { arbitrary: fc.string({ unit: fc.constantFrom(...chars), maxLength: 22 }), weight: 1 },
    );
  const space = fc.oneof({ arbitrary: fc.constant(' '), weight: 30 }, { arbitrary: fc.constantFrom('', '  ', '\t', '\u00a0', '\u2028', '\ufeff', '\u3000', 'x'), weight: 1 });
  const owner = piece(['prod/api', 'a/b', 'a/b/c', '/a/b', 'dev-1/web.tier'], ['prod', '/ab', 'ab/', '/', '//', 'a//', 'pro d/api', 'p\u00a0d/api', 'é/x', 'x/\u205fy'], 'a/ \t\u00a0é-');
  const instance = piece(
    ['i-0abc1234', 'i-0123456789abcdef0', 'i-00000000'],
    ['i-0123456789abcdef01', 'i-1234567', 'i-ABCDEF12', 'I-01234567', 'i_01234567', 'i-0123456g', 'i-', 'i-0abc 1234'],
    'i-0af9gA ',
  );
  const region = piece(
    ['eu-west-1', 'us-gov-west-1', 'ap-northeast-3', 'me-south-12'],
    ['eu-west-', 'eu-1', 'e-west-1', 'EU-west-1', 'eu-west-1 ', 'eu--west-1', 'eu-west-1a', 'eu-west-1\n', 'euw-west-1x'],
    'euw-1 x',
  );
  const prefix = fc.oneof({ arbitrary: fc.constant('sgsync'), weight: 20 }, { arbitrary: fc.constantFrom('Sgsync', 'sgsyn', ''), weight: 1 });
  const described = fc.oneof(
    { arbitrary: fc.tuple(prefix, space, owner, space, instance, space, region).map((parts) => parts.join('')), weight: 9 },
    { arbitrary: fc.string({ maxLength: 60 }), weight: 1 },
  );

  it('is read exactly when it has the shape, by ruleMember and ruleInstanceSpan alike', () => {
    fc.assert(
      fc.property(described, (description) => {
        const m = SHAPE.exec(description);
        expect(ruleMember({ tags: {}, description })).toEqual({ instanceId: m?.[2], memberRegion: m?.[3] });
        const span: TextSpan = { text: '', start: 0, end: 0 };
        const named = ruleInstanceSpan({ tags: {}, description }, span);
        expect(named ? span.text.slice(span.start, span.end) : undefined).toBe(m?.[2]);
      }),
      { numRuns: 5000 },
    );
  });
});
