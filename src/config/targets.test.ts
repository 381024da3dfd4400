import { describe, expect, it } from 'vitest';
import type { Target } from '../core/model.js';
import { parseConfig } from './load.js';
import { normaliseTags } from './targets.js';

const header = 'deployment: prod\ntargets:\n';

describe('targets from a configuration', () => {
  it.each<[string, string, Target]>([
    [
      'fills in the defaults',
      `  - name: api
    region: us-east-1
    groups: [sg-0123456789abcdef0]
    ports: [443]
    members: {}
`,
      {
        name: 'api',
        region: 'us-east-1',
        groupIds: ['sg-0123456789abcdef0'],
        ports: [{ protocol: 'tcp', fromPort: 443, toPort: 443 }],
        families: ['ipv4'],
        address: 'public',
        quota: 60,
        selector: {},
      },
    ],
    [
      'canonicalises ports and lists each once',
      `  - name: mixed
    region: eu-west-1
    groups: [sg-0123456789abcdef0, sg-0123456789abcdef1]
    ports: [443, 443/tcp, {protocol: tcp, port: 443}, 53/udp, 8000-8100, icmp, {protocol: icmp, type: 8, code: 0}, all]
    families: [ipv4, ipv6]
    address: private
    quota: 100
    members: {regions: [us-east-1, us-east-1, ap-south-1], tags: {role: worker}}
`,
      {
        name: 'mixed',
        region: 'eu-west-1',
        groupIds: ['sg-0123456789abcdef0', 'sg-0123456789abcdef1'],
        ports: [
          { protocol: 'tcp', fromPort: 443, toPort: 443 },
          { protocol: 'udp', fromPort: 53, toPort: 53 },
          { protocol: 'tcp', fromPort: 8000, toPort: 8100 },
          { protocol: 'icmp', fromPort: -1, toPort: -1 },
          { protocol: 'icmp', fromPort: 8, toPort: 0 },
          { protocol: '-1', fromPort: -1, toPort: -1 },
        ],
        families: ['ipv4', 'ipv6'],
        address: 'private',
        quota: 100,
        selector: { regions: ['us-east-1', 'ap-south-1'], tags: { role: ['worker'] } },
      },
    ],
  ])('%s', (_what, yaml, expected) => {
    expect(parseConfig(header + yaml, 'sgsync.yaml').targets).toEqual([expected]);
  });

  it('keeps the order of targets and of each pool', () => {
    const yaml = `${header}  - {name: b, region: us-east-1, groups: [sg-0000000000000000b, sg-0000000000000000a], ports: [22], members: {}}
  - {name: a, region: us-east-1, groups: [sg-0000000000000000c], ports: [22], members: {}}
`;
    const targets = parseConfig(yaml, 'sgsync.yaml').targets;
    expect(targets.map((t) => [t.name, t.groupIds])).toEqual([
      ['b', ['sg-0000000000000000b', 'sg-0000000000000000a']],
      ['a', ['sg-0000000000000000c']],
    ]);
  });

  it('gives a target its retired groups, in the order written, and none when it lists none', () => {
    const yaml = `${header}  - {name: b, region: us-east-1, groups: [sg-0000000000000000b], retiredGroups: [sg-0000000000000000d, sg-0000000000000000a], ports: [22], members: {}}
  - {name: a, region: us-east-1, groups: [sg-0000000000000000c], retiredGroups: [], ports: [22], members: {}}
`;
    const targets = parseConfig(yaml, 'sgsync.yaml').targets;
    expect(targets.map((t) => [t.name, t.retiredGroupIds])).toEqual([
      ['b', ['sg-0000000000000000d', 'sg-0000000000000000a']],
      ['a', undefined],
    ]);
  });

  it('turns the safety section into the settings of a pass, never forced by the file', () => {
    const yaml = `${header}  - {name: a, region: us-east-1, groups: [sg-0000000000000000c], ports: [22], members: {}}
safety: {graceSeconds: 30, revokeLimit: {count: 5}}
`;
    expect(parseConfig(yaml, 'sgsync.yaml').safety).toEqual({ graceSeconds: 30, revokeLimit: { count: 5, fraction: 0.5 }, force: false });
  });
});

describe('tag selectors', () => {
  it.each<[Record<string, string | number | boolean | (string | number | boolean)[]>, Record<string, string[]>]>([
    [{ role: 'worker' }, { role: ['worker'] }],
    [{ env: ['prod', 'staging', 'prod'] }, { env: ['prod', 'staging'] }],
    [{ tier: 2, spot: true }, { tier: ['2'], spot: ['true'] }],
    [{ role: ['worker', '*'] }, { role: ['*'] }],
    [{ 'aws:autoscaling:groupName': '*' }, { 'aws:autoscaling:groupName': ['*'] }],
  ])('normalises %j to %j', (input, expected) => {
    expect(normaliseTags(input)).toEqual(expected);
  });
});
