import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SgsyncError } from '../core/errors.js';
import { findConfigFile, loadConfig, MAX_ISSUE_LINES, parseConfig, type ConfigIssue } from './load.js';

/** Strips the indentation of a template literal so line numbers read true. */
function yaml(text: string): string {
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

const TARGET = yaml(`
  deployment: prod
  targets:
    - name: api
      region: us-east-1
      groups: [sg-0123456789abcdef0]
      ports: [443]
      members: {regions: [eu-west-1]}
`);

function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, 'sgsync.yaml', env);
  } catch (e) {
    expect(e).toBeInstanceOf(SgsyncError);
    const err = e as SgsyncError;
    expect(err.code).toBe('CONFIG_INVALID');
    return err.message.split('\n').slice(1);
  }
  throw new Error('expected the configuration to be refused');
}

describe('a configuration with mistakes', () => {
  it.each<[string, string, string[]]>([
    [
      'a port that is not a port',
      TARGET.replace('ports: [443]', 'ports: [443, "44x"]'),
      ['sgsync.yaml:6:18 targets[0].ports[1]: "44x" is not a port, expected 443, 443/tcp, 8000-8100/udp, icmp, icmpv6, all, or {protocol, port}'],
    ],
    [
      'one group given as a string, not a list: one problem, not also a list too long',
      TARGET.replace('groups: [sg-0123456789abcdef0]', 'groups: sg-0123456789abcdef0'),
      ['sgsync.yaml:5:13 targets[0].groups: expected a list, got "sg-0123456789abcdef0"'],
    ],
    [
      'a tag value of nothing',
      TARGET.replace('members: {regions: [eu-west-1]}', 'members: {tags: {role: null}}'),
      ['sgsync.yaml:7:28 targets[0].members.tags.role: expected a string, a number, true or false, or a list, got nothing (null)'],
    ],
    [
      'pacing turned on with true, which it takes only as false or a mapping',
      `${TARGET}aws: {pacing: true}\n`,
      ['sgsync.yaml:8:15 aws.pacing: expected false or a mapping, got boolean true'],
    ],
    [
      'an unknown key close to a known one',
      TARGET.replace('ports: [443]', 'prots: [443]'),
      ['sgsync.yaml:3:5 targets[0].ports: required key is missing', 'sgsync.yaml:6:5 targets[0].prots: unknown key "prots", did you mean "ports"?'],
    ],
    [
      'an unknown top-level key',
      `${TARGET}saftey: {graceSeconds: 10}\n`,
      ['sgsync.yaml:8:1 saftey: unknown key "saftey", did you mean "safety"?'],
    ],
    [
      'a missing deployment and a bad region',
      TARGET.replace('deployment: prod\n', '').replace('us-east-1', 'us-east'),
      ['sgsync.yaml:1:1 deployment: required key is missing', 'sgsync.yaml:3:13 targets[0].region: "us-east" is not an AWS region name such as us-east-1'],
    ],
    [
      'a misspelt choice',
      TARGET.replace('ports: [443]', 'ports: [443]\n    address: pubic'),
      ['sgsync.yaml:7:14 targets[0].address: "pubic" is not one of public, private; did you mean "public"?'],
    ],
    [
      'a pool no network interface could carry',
      TARGET.replace('[sg-0123456789abcdef0]', '[sg-0123456789abcdef0, sg-0123456789abcdef1, sg-0123456789abcdef2, sg-0123456789abcdef3, sg-0123456789abcdef4]').replace(
        'ports: [443]',
        'ports: [443]\n    quota: 250',
      ),
      [
        'sgsync.yaml:7:12 targets[0].quota: target api: 5 groups × quota 250 = 1250 rules per interface; AWS allows at most 1000 (rules per group × groups per network interface); use fewer groups or a smaller quota',
      ],
    ],
    [
      'more groups than an interface takes',
      TARGET.replace('[sg-0123456789abcdef0]', `[${Array.from({ length: 17 }, (_, i) => `sg-${String(i).padStart(17, '0')}`).join(', ')}]`),
      ['sgsync.yaml:5:13 targets[0].groups: at most 16 groups: AWS attaches at most 16 security groups to a network interface'],
    ],
    [
      'two targets with one name, sharing a group across regions',
      `${TARGET}  - name: api\n    region: eu-west-1\n    groups: [sg-0123456789abcdef0]\n    ports: [all]\n    members: {}\n`,
      [
        'sgsync.yaml:8:11 targets[1].name: target name "api" is already used by targets[0]',
        'sgsync.yaml:10:14 targets[1].groups[0]: sg-0123456789abcdef0 is also in target "api" in us-east-1; a security group lives in one region',
      ],
    ],
    [
      'a group both in the pool and retired, and a retired group listed twice',
      TARGET.replace('ports: [443]', 'ports: [443]\n    retiredGroups: [sg-0123456789abcdef0, sg-0123456789abcdef1, sg-0123456789abcdef1]'),
      [
        "sgsync.yaml:7:21 targets[0].retiredGroups[0]: sg-0123456789abcdef0 is in this target's groups too: a group is in the pool or retired, not both",
        'sgsync.yaml:7:65 targets[0].retiredGroups[2]: sg-0123456789abcdef1 is listed twice in retiredGroups',
      ],
    ],
    [
      'a retired group that is a pool group of a target in another region',
      `${TARGET}  - name: web\n    region: eu-west-1\n    groups: [sg-0123456789abcdef1]\n    retiredGroups: [sg-0123456789abcdef0, sg-1]\n    ports: [all]\n    members: {}\n`,
      [
        'sgsync.yaml:11:21 targets[1].retiredGroups[0]: sg-0123456789abcdef0 is also in target "api" in us-east-1; a security group lives in one region',
        'sgsync.yaml:11:43 targets[1].retiredGroups[1]: "sg-1" is not a security group id such as sg-0123456789abcdef0',
      ],
    ],
    [
      'more retired groups than an interface takes',
      TARGET.replace('ports: [443]', `ports: [443]\n    retiredGroups: [${Array.from({ length: 17 }, (_, i) => `sg-${String(i + 1).padStart(17, '0')}`).join(', ')}]`),
      ['sgsync.yaml:7:20 targets[0].retiredGroups: at most 16 retired groups'],
    ],
    [
      'a number given as text and a fraction above one',
      `${TARGET}controller: {concurrency: "8"}\nsafety:\n  revokeLimit: {fraction: 1.5}\n`,
      ['sgsync.yaml:8:27 controller.concurrency: expected a number, got "8"', 'sgsync.yaml:10:27 safety.revokeLimit.fraction: number 1.5 is too big: the maximum is 1'],
    ],
    [
      'static agent tags without tagsFrom: config',
      `${TARGET}agent:\n  tags: {role: worker}\n`,
      ['sgsync.yaml:9:9 agent.tags: only used with tagsFrom: config (tags are read from IMDS otherwise)'],
    ],
    [
      'an empty list of tag values',
      TARGET.replace('members: {regions: [eu-west-1]}', 'members:\n      tags:\n        "aws:autoscaling:groupName": []'),
      ['sgsync.yaml:9:38 targets[0].members.tags["aws:autoscaling:groupName"]: list at least one value (or "*" for any value)'],
    ],
    ['YAML that does not parse', 'deployment: prod: x\ntargets: []\n', ['sgsync.yaml:1:13 YAML: Nested mappings are not allowed in compact mappings']],
    ['a key given twice', `${TARGET}deployment: again\n`, ['sgsync.yaml:8:1 YAML: Map keys must be unique']],
    ['an empty file', '', [expect.stringMatching(/^sgsync\.yaml:1:1 the file is empty; start from an example in .*examples/)]],
  ])('reports %s with file, line and column', (_what, text, expected) => {
    expect(problems(text)).toEqual(expected);
  });

  it("allows a group one target retired in another target's pool of the same region: it is just no longer the first one's", () => {
    const text = `${TARGET.replace('ports: [443]', 'ports: [443]\n    retiredGroups: [sg-0123456789abcdef1]')}  - name: web\n    region: us-east-1\n    groups: [sg-0123456789abcdef1]\n    ports: [80]\n    members: {}\n`;
    expect(parseConfig(text, 'sgsync.yaml', {}).targets.map((t) => [t.name, t.groupIds, t.retiredGroupIds])).toEqual([
      ['api', ['sg-0123456789abcdef0'], ['sg-0123456789abcdef1']],
      ['web', ['sg-0123456789abcdef1'], undefined],
    ]);
  });

  it('reports every problem at once, in the order of the file, and keeps them for --json', () => {
    const text = TARGET.replace('us-east-1', 'mars-1').replace('[443]', '[443, 99999]').replace('prod', 'has space');
    try {
      parseConfig(text, 'sgsync.yaml');
      expect.unreachable();
    } catch (e) {
      const err = e as SgsyncError;
      expect(err.message.split('\n')[0]).toBe('sgsync.yaml is not a valid configuration (3 problems):');
      const issues = err.details.issues as ConfigIssue[];
      expect(issues.map((i) => [i.line, i.path])).toEqual([
        [1, 'deployment'],
        [4, 'targets[0].region'],
        [6, 'targets[0].ports[1]'],
      ]);
    }
  });

  it('spells out the first 50 problems and counts the rest, keeping every one for --json', () => {
    const targets = Array.from({ length: 2000 }, (_, i) => `  - { name: t${i}, region: mars-1, groups: [sg-0123456789abcdef0], ports: [443], members: { tags: { role: web } } }`);
    const text = `deployment: prod\ntargets:\n${targets.join('\n')}\n`;
    const err = (() => {
      try {
        parseConfig(text, 'big.yaml');
      } catch (e) {
        return e as SgsyncError;
      }
      throw new Error('the configuration was accepted');
    })();
    const lines = err.message.split('\n');
    expect(lines[0]).toBe('big.yaml is not a valid configuration (2000 problems):');
    expect(lines).toHaveLength(1 + MAX_ISSUE_LINES + 1);
    expect(lines[MAX_ISSUE_LINES]).toBe(`big.yaml:${MAX_ISSUE_LINES + 2}:26 targets[${MAX_ISSUE_LINES - 1}].region: "mars-1" is not an AWS region name such as us-east-1`);
    expect(lines.at(-1)).toBe(`… and ${2000 - MAX_ISSUE_LINES} more (sgsync config validate --json lists every one)`);
    expect(err.details.issues as ConfigIssue[]).toHaveLength(2000);
  });

  it('blames the environment variable, not the file, for a bad override', () => {
    expect(problems(TARGET, { SGSYNC_ENDPOINT: 'localhost:4566' })).toEqual(['$SGSYNC_ENDPOINT aws.endpoint: "localhost:4566" is not an http(s) URL']);
  });
});

describe('environment overrides', () => {
  it('take SGSYNC_DEPLOYMENT and SGSYNC_ENDPOINT over the file', () => {
    const loaded = parseConfig(`${TARGET}aws: {endpoint: "https://ec2.example.com"}\n`, 'sgsync.yaml', {
      SGSYNC_DEPLOYMENT: 'staging',
      SGSYNC_ENDPOINT: 'http://127.0.0.1:4566',
    });
    expect(loaded.config.deployment).toBe('staging');
    expect(loaded.config.aws.endpoint).toBe('http://127.0.0.1:4566');
  });

  it('ignore variables that are set but empty', () => {
    expect(parseConfig(TARGET, 'sgsync.yaml', { SGSYNC_DEPLOYMENT: '' }).config.deployment).toBe('prod');
  });
});

describe('YAML conveniences', () => {
  it('accepts anchors and merge keys, so targets can share settings', () => {
    const text = yaml(`
      deployment: prod
      targets:
        - &api
          name: api
          region: us-east-1
          groups: [sg-0123456789abcdef0]
          ports: [443]
          members: {tags: {role: worker}}
        - <<: *api
          name: api-west
          region: us-west-2
          groups: [sg-0123456789abcdef1]
    `);
    const targets = parseConfig(text, 'sgsync.yaml').targets;
    expect(targets.map((t) => [t.name, t.region, t.ports.length, t.selector.tags])).toEqual([
      ['api', 'us-east-1', 1, { role: ['worker'] }],
      ['api-west', 'us-west-2', 1, { role: ['worker'] }],
    ]);
  });
});

describe('warnings', () => {
  it('say when a valid pool needs AWS quotas raised first', () => {
    const text = TARGET.replace('[sg-0123456789abcdef0]', `[${Array.from({ length: 6 }, (_, i) => `sg-${String(i).padStart(17, '0')}`).join(', ')}]`).replace(
      'ports: [443]',
      'ports: [443]\n    quota: 100',
    );
    expect(parseConfig(text, 'sgsync.yaml').warnings).toEqual([
      'target api: quota 100 is above AWS\'s default of 60 rules per group; request an increase of "Inbound or outbound rules per security group" (L-0EA8095F) first',
      "target api: 6 groups is above AWS's default of 5 security groups per network interface; request an increase first",
    ]);
  });
});

describe('a port that serves none of its target\'s families', () => {
  it('is a warning that says why and what to change; one that serves a family of the target is not', () => {
    const only4 = TARGET.replace('ports: [443]', 'ports: [443, icmpv6]');
    expect(parseConfig(only4, 'sgsync.yaml').warnings).toEqual([
      'target api: port icmpv6 serves none of its families (ipv4): ICMPv6 runs over IPv6 only, so no rule is written for it; add ipv6 to families or remove the port',
    ]);
    expect(parseConfig(only4.replace('ports: [443, icmpv6]', 'ports: [443, icmpv6, icmp]\n    families: [ipv4, ipv6]'), 'sgsync.yaml').warnings).toEqual([]);
  });
});

describe('finding the configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgsync-config-'));
  writeFileSync(join(dir, 'sgsync.yaml'), TARGET);
  writeFileSync(join(dir, 'other.yaml'), TARGET.replace('prod', 'other'));
  mkdirSync(join(dir, 'empty'));

  it.each<[string, { configPath?: string; env: Record<string, string>; cwd: string }, string]>([
    ['--config first', { configPath: 'other.yaml', env: { SGSYNC_CONFIG: 'sgsync.yaml' }, cwd: dir }, 'other.yaml'],
    ['then $SGSYNC_CONFIG', { env: { SGSYNC_CONFIG: 'other.yaml' }, cwd: dir }, 'other.yaml'],
    ['then ./sgsync.yaml', { env: {}, cwd: dir }, 'sgsync.yaml'],
  ])('takes %s', (_what, options, file) => {
    expect(findConfigFile(options)).toBe(file);
  });

  it('lists the places it tried when there is no configuration anywhere', () => {
    expect(() => findConfigFile({ env: {}, cwd: join(dir, 'empty') })).toThrow(
      /no configuration found; tried --config \(not given\), \$SGSYNC_CONFIG \(not set\) and \.\/sgsync\.yaml \(not found in .*empty\)/,
    );
  });

  it('does not fall back when the chosen file is missing', async () => {
    await expect(loadConfig({ env: { SGSYNC_CONFIG: 'missing.yaml' }, cwd: dir })).rejects.toThrow(
      'cannot read configuration missing.yaml (from $SGSYNC_CONFIG): no such file',
    );
  });

  it('reads and checks the file it finds', async () => {
    const loaded = await loadConfig({ configPath: 'other.yaml', env: {}, cwd: dir });
    expect(loaded.file).toBe('other.yaml');
    expect(loaded.config.deployment).toBe('other');
  });
});
