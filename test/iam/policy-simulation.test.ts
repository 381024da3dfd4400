import { beforeAll, describe, expect, it } from 'vitest';
import type { LoadedConfig } from '../../src/config/index.js';
import { IAM_ROLES, iamPolicy, type IamRole, type PolicyDocument, type PolicyStatement, type ScopeBy } from '../../src/iam/policy.js';
import { allowed, denied, G1, HOME, retiringConfig } from './requests.js';
import { ACCOUNT, decide, groupArn } from './simulate.js';

let config: LoadedConfig;
beforeAll(async () => {
  config = await retiringConfig();
});

const cases: { role: IamRole; scope: ScopeBy }[] = IAM_ROLES.flatMap((role) => (['arn', 'tag'] as const).map((scope) => ({ role, scope })));

describe.each(cases)('the $role policy, scoped by $scope', ({ role, scope }) => {
  const policy = (): PolicyDocument => iamPolicy({ role, config, accountId: ACCOUNT, scopeBy: scope });

  it.each(allowed(role, scope).map((r) => [r.what, r] as const))('allows: %s', async (_what, request) => {
    expect(await decide(policy(), request)).toBe('Allowed');
  });

  it.each(denied(role, scope).map((r) => [r.what, r] as const))('denies: %s', async (_what, request) => {
    expect(await decide(policy(), request)).toBe('Denied');
  });
});

describe('the account in the ARNs', () => {
  const inOtherAccount = { what: 'authorize in another account', action: 'ec2:AuthorizeSecurityGroupIngress', resource: groupArn(HOME, G1, '210987654321') };

  it('pins the groups to the given account', async () => {
    expect(await decide(iamPolicy({ role: 'agent', config, accountId: ACCOUNT }), inOtherAccount)).toBe('Denied');
  });

  it('names any account when none is given', async () => {
    expect(await decide(iamPolicy({ role: 'agent', config }), inOtherAccount)).toBe('Allowed');
  });
});

interface Mutation {
  name: string;
  policy: PolicyDocument;
}

/** Every way to widen one statement: any resource, any EC2 action, or one condition fewer. */
function widenings(policy: PolicyDocument): Mutation[] {
  const out: Mutation[] = [];
  const replace = (i: number, statement: PolicyStatement): PolicyDocument => ({
    ...policy,
    Statement: policy.Statement.map((s, j) => (j === i ? statement : s)),
  });
  policy.Statement.forEach((s, i) => {
    if (s.Resource !== '*') out.push({ name: `${s.Sid} on Resource "*"`, policy: replace(i, { ...s, Resource: '*' }) });
    out.push({ name: `${s.Sid} with Action "ec2:*"`, policy: replace(i, { ...s, Action: ['ec2:*'] }) });
    for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
      for (const key of Object.keys(keys)) {
        const condition = structuredClone(s.Condition!);
        delete condition[operator]![key];
        if (Object.keys(condition[operator]!).length === 0) delete condition[operator];
        const { Condition: _dropped, ...rest } = s;
        const widened = Object.keys(condition).length ? { ...rest, Condition: condition } : rest;
        out.push({ name: `${s.Sid} without ${operator} ${key}`, policy: replace(i, widened) });
      }
    }
  });
  return out;
}

/**
 * Widenings no request can tell apart from the original (equivalent mutants):
 * ec2:CreateAction exists only in CreateTags requests, so a statement
 * conditioned on it grants nothing more when its action list grows.
 */
const EQUIVALENT = new Set(['TagRulesOnlyWhenCreatingThem with Action "ec2:*"']);

describe.each(cases)('the denial table of the $role policy, scoped by $scope', ({ role, scope }) => {
  it('catches every widening of every statement', async () => {
    const base = iamPolicy({ role, config, accountId: ACCOUNT, scopeBy: scope });
    const mutations = widenings(base);
    expect(mutations.length).toBeGreaterThanOrEqual(base.Statement.length);
    const uncaught: string[] = [];
    for (const m of mutations) {
      let caught = false;
      for (const request of denied(role, scope)) {
        if ((await decide(m.policy, request)) === 'Allowed') {
          caught = true;
          break;
        }
      }
      if (!caught && !EQUIVALENT.has(m.name)) uncaught.push(m.name);
    }
    expect(uncaught).toEqual([]);
  });
});
