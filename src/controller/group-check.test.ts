import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { SgsyncError } from '../core/errors.js';
import type { Ec2Port } from '../core/ports.js';
import { checkGroups, groupCheckWarning, missingGroupErrors, type GroupCheck } from './group-check.js';

const A = 'sg-0aaaaaaaaaaaaaaa1';
const B = 'sg-0bbbbbbbbbbbbbbb2';
const W = 'sg-0ccccccccccccccc3';

function ec2(answers: Record<string, string[] | Error>): { port: Ec2Port; asked: string[] } {
  const asked: string[] = [];
  const port = {
    existingGroups: (region: string, ids: readonly string[]) => {
      asked.push(`${region} ${ids.join(' ')}`);
      const answer = answers[region];
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer ?? []);
    },
  } as unknown as Ec2Port;
  return { port, asked };
}

describe('checking that the pool groups exist', () => {
  it('asks once per region and names the groups EC2 does not list', async () => {
    const { port, asked } = ec2({ 'us-east-1': [A], 'eu-west-1': [W] });
    const check = await checkGroups(port, [{ region: 'us-east-1', groupIds: [A, B] }, { region: 'eu-west-1', groupIds: [W] }]);
    expect(asked.sort()).toEqual([`eu-west-1 ${W}`, `us-east-1 ${A} ${B}`]);
    expect(check).toEqual({ missing: [{ groupId: B, region: 'us-east-1' }], unchecked: [] });
  });

  it('never fails the pass: a region that cannot be listed is unchecked, and its groups are not called missing', async () => {
    const denied = new SgsyncError('PERMISSION_DENIED', 'AWS denied ec2:DescribeSecurityGroups in us-east-1.');
    const { port } = ec2({ 'us-east-1': denied });
    const check = await checkGroups(port, [{ region: 'us-east-1', groupIds: [A] }]);
    expect(check).toEqual({ missing: [], unchecked: [{ region: 'us-east-1', code: 'PERMISSION_DENIED', reason: 'AWS denied ec2:DescribeSecurityGroups in us-east-1.' }] });
  });

  it('checks nothing through a port that cannot list groups', async () => {
    expect(await checkGroups({} as Ec2Port, [{ region: 'us-east-1', groupIds: [A] }])).toEqual({ missing: [], unchecked: [] });
  });
});

describe('the warning when the groups could not be checked', () => {
  const unchecked = (code: string, reason: string, region = 'us-east-1'): GroupCheck => ({ missing: [], unchecked: [{ region, code, reason }] });

  it.each([
    ['a denial names the permission to add', unchecked('PERMISSION_DENIED', 'denied'), /^Could not check that the pool groups exist in us-east-1 \(AWS denied ec2:DescribeSecurityGroups\): .* Add ec2:DescribeSecurityGroups to the role/],
    ['another failure gives its reason', unchecked('AWS_UNAVAILABLE', 'AWS kept failing DescribeSecurityGroups in us-east-1 (HTTP 503). Try again later.'), /\(us-east-1: AWS kept failing DescribeSecurityGroups in us-east-1 \(HTTP 503\)\. Try again later\): a group that does not exist looks empty until AWS refuses a rule there\.$/],
  ])('%s', (_, check, says) => {
    expect(groupCheckWarning(check)).toMatch(says);
  });
});

describe('the errors of groups that do not exist', () => {
  it('name each group once, with where the configuration lists it', () => {
    const loaded = parseConfig(
      ['deployment: prod', 'targets:', `  - { name: api, region: us-east-1, groups: [${A}, ${B}], ports: [443], members: {} }`, `  - { name: web, region: us-east-1, groups: [${B}], ports: [80], members: {} }`].join('\n'),
      'sgsync.yaml',
    );
    const missing = [{ target: 'api', groupId: B, region: 'us-east-1' }, { target: 'web', groupId: B, region: 'us-east-1' }];
    const errors = missingGroupErrors(loaded, { missing } as never, { missing: [{ groupId: B, region: 'us-east-1' }], unchecked: [] });
    expect(errors.map((e) => [e.code, e.message, e.details])).toEqual([
      [
        'NOT_FOUND',
        `Security group ${B} (targets[0].groups[1], targets[1].groups[0] in sgsync.yaml) does not exist in us-east-1; nothing is placed in it. Correct the id, or take it out of the pool; a group lives in one region, so check the target's region too.`,
        { groupId: B, region: 'us-east-1', action: 'DescribeSecurityGroups' },
      ],
    ]);
  });
});
