import { describe, expect, it } from 'vitest';
import { groupKeys, missingGroupText } from './group-keys.js';
import { parseConfig } from './load.js';

const config = parseConfig(
  [
    'deployment: prod',
    'targets:',
    '  - { name: api, region: us-east-1, groups: [sg-0aaaaaaaaaaaaaaa1, sg-0bbbbbbbbbbbbbbb2], ports: [443], members: {} }',
    '  - { name: web, region: us-east-1, groups: [sg-0bbbbbbbbbbbbbbb2], ports: [80], members: {} }',
    '  - { name: far, region: eu-west-1, groups: [sg-0ccccccccccccccc3], ports: [80], members: {} }',
  ].join('\n'),
  'sgsync.yaml',
);

describe('where the configuration names a group', () => {
  it('gives the key of every pool that lists it in the region, in the order of the file', () => {
    expect(groupKeys(config, 'sg-0bbbbbbbbbbbbbbb2', 'us-east-1')).toEqual(['targets[0].groups[1]', 'targets[1].groups[0]']);
    expect(groupKeys(config, 'sg-0ccccccccccccccc3', 'eu-west-1')).toEqual(['targets[2].groups[0]']);
    // The same id in another region would name another group.
    expect(groupKeys(config, 'sg-0ccccccccccccccc3', 'us-east-1')).toEqual([]);
  });

  it('names a group that does not exist with its keys and the file, so the line to fix is found at once', () => {
    expect(missingGroupText(config, { groupId: 'sg-0aaaaaaaaaaaaaaa1', region: 'us-east-1' })).toBe(
      'Security group sg-0aaaaaaaaaaaaaaa1 (targets[0].groups[0] in sgsync.yaml) does not exist in us-east-1',
    );
  });
});
