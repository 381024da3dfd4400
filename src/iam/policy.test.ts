import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { iamPolicy, RULE_TAG_KEYS } from './policy.js';
import { policyRisks } from './risks.js';

const config = parseConfig(
  [
    'deployment: prod',
    'targets:',
    '  - { name: api, region: us-east-1, groups: [sg-0aaaaaaaaaaaaaaa1, sg-0aaaaaaaaaaaaaaa2], ports: [443], members: {} }',
    '  - { name: db, region: eu-central-1, groups: [sg-0bbbbbbbbbbbbbbb1], ports: [5432], members: {} }',
    '  - { name: admin, region: us-east-1, groups: [sg-0aaaaaaaaaaaaaaa1], ports: [22], members: {} }',
  ].join('\n'),
  'sgsync.yaml',
);

const statement = (doc: ReturnType<typeof iamPolicy>, sid: string) => doc.Statement.find((s) => s.Sid === sid);

describe('iamPolicy', () => {
  it('lets the read-only role describe and nothing else', () => {
    const doc = iamPolicy({ role: 'readonly', config });
    expect(doc.Statement).toEqual([
      {
        Sid: 'ReadInstancesAndRules',
        Effect: 'Allow',
        Action: ['ec2:DescribeInstances', 'ec2:DescribeRegions', 'ec2:DescribeSecurityGroupRules', 'ec2:DescribeSecurityGroups'],
        Resource: '*',
      },
    ]);
  });

  it('lets the controller list the pool groups, to find one that does not exist', () => {
    expect(statement(iamPolicy({ role: 'controller', config }), 'ReadInstancesAndRules')?.Action).toContain('ec2:DescribeSecurityGroups');
  });

  it('lets the agent read only rules: it never lists instances, regions or groups', () => {
    expect(statement(iamPolicy({ role: 'agent', config }), 'ReadInstancesAndRules')?.Action).toEqual(['ec2:DescribeSecurityGroupRules']);
  });

  it('lists each target group once, in its own region, for the given account', () => {
    expect(statement(iamPolicy({ role: 'controller', config, accountId: '111122223333' }), 'ChangeRulesOfTargetGroups')?.Resource).toEqual([
      'arn:aws:ec2:eu-central-1:111122223333:security-group/sg-0bbbbbbbbbbbbbbb1',
      'arn:aws:ec2:us-east-1:111122223333:security-group/sg-0aaaaaaaaaaaaaaa1',
      'arn:aws:ec2:us-east-1:111122223333:security-group/sg-0aaaaaaaaaaaaaaa2',
    ]);
  });

  it('scopes by the group tag, per target region, with --scope-by tag', () => {
    const s = statement(iamPolicy({ role: 'agent', config, scopeBy: 'tag', partition: 'aws-cn' }), 'ChangeRulesOfTaggedGroups');
    expect(s?.Resource).toEqual(['arn:aws-cn:ec2:eu-central-1:*:security-group/*', 'arn:aws-cn:ec2:us-east-1:*:security-group/*']);
    expect(s?.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/sgsync:deployment': 'prod' } });
  });

  it("requires this deployment's ownership tag and only sgsync's tag keys on new rules", () => {
    expect(statement(iamPolicy({ role: 'agent', config }), 'CreateOnlyRulesOwnedByThisDeployment')?.Condition).toEqual({
      StringEquals: { 'aws:RequestTag/sgsync:managed-by': 'prod' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': [...RULE_TAG_KEYS] },
    });
  });

  describe('retired groups', () => {
    const retiring = parseConfig(
      [
        'deployment: prod',
        'targets:',
        '  - { name: api, region: us-east-1, groups: [sg-0aaaaaaaaaaaaaaa1], retiredGroups: [sg-0aaaaaaaaaaaaaaa9, sg-0aaaaaaaaaaaaaaa2], ports: [443], members: {} }',
        '  - { name: web, region: us-east-1, groups: [sg-0aaaaaaaaaaaaaaa2], ports: [80], members: {} }',
      ].join('\n'),
      'sgsync.yaml',
    );

    it('may only be revoked in, never authorized in; one another target pools is changed as a pool group', () => {
      const doc = iamPolicy({ role: 'agent', config: retiring, accountId: '111122223333' });
      expect(statement(doc, 'ChangeRulesOfTargetGroups')?.Resource).toEqual([
        'arn:aws:ec2:us-east-1:111122223333:security-group/sg-0aaaaaaaaaaaaaaa1',
        'arn:aws:ec2:us-east-1:111122223333:security-group/sg-0aaaaaaaaaaaaaaa2',
      ]);
      expect(statement(doc, 'RevokeRulesOfRetiredGroups')).toEqual({
        Sid: 'RevokeRulesOfRetiredGroups',
        Effect: 'Allow',
        Action: ['ec2:RevokeSecurityGroupIngress'],
        Resource: ['arn:aws:ec2:us-east-1:111122223333:security-group/sg-0aaaaaaaaaaaaaaa9'],
      });
    });

    it('are named by ARN with --scope-by tag too, so a retired group need not keep the tag that allows authorizing', () => {
      expect(statement(iamPolicy({ role: 'controller', config: retiring, scopeBy: 'tag' }), 'RevokeRulesOfRetiredGroups')?.Resource).toEqual([
        'arn:aws:ec2:us-east-1:*:security-group/sg-0aaaaaaaaaaaaaaa2',
        'arn:aws:ec2:us-east-1:*:security-group/sg-0aaaaaaaaaaaaaaa9',
      ]);
    });

    it('add nothing to the read-only policy, nor a statement to a configuration without them', () => {
      expect(iamPolicy({ role: 'readonly', config: retiring })).toEqual(iamPolicy({ role: 'readonly', config }));
      expect(statement(iamPolicy({ role: 'controller', config }), 'RevokeRulesOfRetiredGroups')).toBeUndefined();
    });
  });

  it.each([
    ['an account id that is not 12 digits', { accountId: '1234' }],
    ['an unknown partition', { partition: 'azure' }],
  ])('rejects %s', (_what, extra) => {
    expect(() => iamPolicy({ role: 'agent', config, ...extra })).toThrow(/is not an AWS/);
  });
});

describe('policyRisks', () => {
  it("warns that an agent can open any CIDR and revoke other instances' rules", () => {
    const text = policyRisks({ role: 'agent', deployment: 'prod', accountId: '111122223333' });
    expect(text).toMatch(/0\.0\.0\.0\/0/);
    expect(text).toMatch(/rules of every other instance/);
    expect(text).toMatch(/sgsync status` exits 10/);
    expect(text).not.toMatch(/No --account/);
  });

  it('names the group tag that decides the scope with --scope-by tag, and says when the account is open', () => {
    const text = policyRisks({ role: 'controller', deployment: 'prod', scopeBy: 'tag' });
    expect(text).toMatch(/sgsync:deployment=prod/);
    expect(text).toMatch(/No --account given/);
  });

  it.each(['agent', 'controller'] as const)('reminds the %s role without --account that its ARNs name any account', (role) => {
    expect(policyRisks({ role, deployment: 'prod' })).toContain('No --account given: the ARNs name any account (*).');
  });

  it('does not remind the readonly role of an account its policy never names, having no ARNs', () => {
    expect(policyRisks({ role: 'readonly', deployment: 'prod' })).not.toMatch(/--account|ARN/);
  });
});
