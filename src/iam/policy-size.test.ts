import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { iamPolicy, type PolicyDocument } from './policy.js';
import { policyCharacters, policySizeProblem, ROLE_INLINE_POLICY_MAX } from './policy-size.js';

/** `targets` targets in us-east-1, each with a pool of `groups` groups. */
const pools = (targets: number, groups: number) =>
  parseConfig(
    `deployment: prod\ntargets:\n${Array.from(
      { length: targets },
      (_, t) => `  - { name: t${t}, region: us-east-1, groups: [${Array.from({ length: groups }, (_, g) => `sg-${(t * 100 + g).toString(16).padStart(17, '0')}`).join(', ')}], ports: [443], members: { regions: [eu-west-1] } }`,
    ).join('\n')}\n`,
    'sgsync.yaml',
  );

/** A policy of exactly `size` characters as IAM counts them. */
function policyOf(size: number): PolicyDocument {
  const empty: PolicyDocument = { Version: '2012-10-17', Statement: [{ Sid: 'S', Effect: 'Allow', Action: ['ec2:X'], Resource: '' }] };
  return { ...empty, Statement: [{ ...empty.Statement[0]!, Resource: 'x'.repeat(size - policyCharacters(empty)) }] };
}

describe('policy size', () => {
  it('counts the characters of the JSON, not the whitespace of its layout', () => {
    const policy = iamPolicy({ role: 'agent', config: pools(1, 2) });
    expect(policyCharacters(policy)).toBe(JSON.stringify(policy).length);
    expect(policyCharacters(policy)).toBeLessThan(JSON.stringify(policy, null, 2).length);
  });

  it.each([
    [ROLE_INLINE_POLICY_MAX, undefined],
    [ROLE_INLINE_POLICY_MAX + 1, "the controller policy is 10,241 characters; IAM allows 10,240 in a role's inline policies (whitespace not counted) and refuses it with LimitExceeded."],
  ])('of %i characters: %s', (size, problem) => {
    expect(policySizeProblem(policyOf(size), 'controller')).toBe(problem);
  });

  it('is too large for a role with eight targets of sixteen groups, and fits with fifteen', () => {
    const accountId = '123456789012';
    expect(policySizeProblem(iamPolicy({ role: 'controller', config: pools(8, 16), accountId }), 'controller')).toMatch(/^the controller policy is 10,3\d\d characters;/);
    expect(policySizeProblem(iamPolicy({ role: 'controller', config: pools(8, 15), accountId }), 'controller')).toBeUndefined();
    expect(policySizeProblem(iamPolicy({ role: 'controller', config: pools(8, 16), accountId, scopeBy: 'tag' }), 'controller')).toBeUndefined();
  });
});
