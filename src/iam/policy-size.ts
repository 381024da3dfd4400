/**
 * IAM's limit on the size of a role's inline policies. A policy over it is
 * refused when it is attached (`PutRolePolicy`, or the stack that creates the
 * role fails with LimitExceeded), not when it is generated, so sgsync says so
 * as it prints one. With `--scope-by arn` the policy names every group of
 * every target, so it grows with the pools: eight targets of sixteen groups,
 * with the account given, already pass the limit.
 */
import type { PolicyDocument } from './policy.js';

/** What IAM allows in a role's inline policies, all together, in characters; whitespace is not counted. */
export const ROLE_INLINE_POLICY_MAX = 10_240;

/** How many characters IAM counts in `policy`: its JSON without whitespace. */
export function policyCharacters(policy: PolicyDocument): number {
  return JSON.stringify(policy).replace(/\s/g, '').length;
}

/**
 * Why `policy` cannot be a role's inline policy, or undefined when it fits.
 * The caller adds what to do, which depends on the command.
 *
 * @example policySizeProblem(policy) // 'the controller policy is 10,315 characters; IAM allows 10,240 …'
 */
export function policySizeProblem(policy: PolicyDocument, role: string): string | undefined {
  const size = policyCharacters(policy);
  if (size <= ROLE_INLINE_POLICY_MAX) return undefined;
  const n = (x: number) => x.toLocaleString('en-US');
  return `the ${role} policy is ${n(size)} characters; IAM allows ${n(ROLE_INLINE_POLICY_MAX)} in a role's inline policies (whitespace not counted) and refuses it with LimitExceeded.`;
}
