import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { SgsyncError } from '../core/errors.js';
import type { Member, ObservedRule } from '../core/model.js';
import type { Ec2Port } from '../core/ports.js';
import { controllerPass } from './pass.js';
import { summarizePass } from './pass-summary.js';

const GROUP = 'sg-0123456789abcdef0';
const yaml = (safety: string) =>
  [
    'deployment: prod',
    'targets:',
    '  - { name: api, region: us-east-1, groups: [sg-0123456789abcdef0], ports: [443], members: { regions: [eu-west-1, sa-east-1] } }',
    'controller: { regions: [eu-west-1, sa-east-1] }',
    safety,
  ].join('\n');

const staleRule = (n: number, region = 'eu-west-1'): ObservedRule => ({
  ruleId: `sgr-00000000000000${String(n).padStart(3, '0')}`,
  groupId: GROUP,
  family: 'ipv4',
  protocol: 'tcp',
  fromPort: 443,
  toPort: 443,
  cidr: `52.16.0.${n}/32`,
  tags: { 'sgsync:managed-by': 'prod', 'sgsync:target': 'api', 'sgsync:instance': `i-0000000000000${String(n).padStart(4, '0')}`, 'sgsync:region': region, 'sgsync:registered-at': '2026-01-01T00:00:00Z' },
});

/** An EC2 with a running worker in eu-west-1, no other instance, the given rules, and sa-east-1 failing when asked to. */
function fakeEc2(rules: ObservedRule[], saEast1Fails: boolean): Ec2Port {
  const worker: Member = { instanceId: 'i-0aaaaaaaaaaaaaaa1', region: 'eu-west-1', state: 'running', publicIpv4: '52.16.1.10', ipv6: [], tags: {} };
  return {
    enabledRegions: () => Promise.resolve(['eu-west-1', 'sa-east-1']),
    listMembers: (region) =>
      region === 'sa-east-1' && saEast1Fails
        ? Promise.reject(new SgsyncError('AWS_UNAVAILABLE', 'DescribeInstances in sa-east-1 kept failing', { retryable: true }))
        : Promise.resolve(region === 'eu-west-1' ? [worker] : []),
    listRules: () => Promise.resolve(rules),
    authorize: (b) => Promise.resolve({ created: b.items.map((r, i) => ({ ruleId: `sgr-new${i}`, cidr: r.cidr, protocol: 'tcp', fromPort: 443, toPort: 443 })), duplicate: false }),
    revoke: (b) => Promise.resolve({ revoked: b.items.map((r) => r.ruleId), notFound: false }),
  };
}

describe('the summary of a pass', () => {
  it('is ok when every region was listed and every change landed', async () => {
    const result = await controllerPass({ config: parseConfig(yaml('safety: { revokeLimit: { fraction: 1 } }'), 'f'), ec2: fakeEc2([staleRule(1)], false), apply: true });
    expect(summarizePass(result)).toMatchObject({ ok: true, problems: [], added: 1, revoked: 1, blocked: 0, converged: true });
  });

  it('needs attention when a region could not be listed, and keeps that region\'s rules', async () => {
    const result = await controllerPass({ config: parseConfig(yaml(''), 'f'), ec2: fakeEc2([staleRule(2, 'sa-east-1')], true), apply: true });
    const summary = summarizePass(result);
    expect(summary).toMatchObject({ ok: false, revoked: 0, kept: { 'region-unavailable': 1 } });
    expect(summary.problems).toEqual(['inventory of sa-east-1 failed: DescribeInstances in sa-east-1 kept failing']);
    expect(summary.regions).toContainEqual({ region: 'sa-east-1', status: 'failed', instances: 0, reason: 'DescribeInstances in sa-east-1 kept failing' });
  });

  it('needs attention when the blast radius halted the revokes', async () => {
    const rules = [1, 2, 3, 4].map((n) => staleRule(n));
    const result = await controllerPass({ config: parseConfig(yaml('safety: { revokeLimit: { count: 2 } }'), 'f'), ec2: fakeEc2(rules, false), apply: true });
    const summary = summarizePass(result);
    expect(summary).toMatchObject({ ok: false, revoked: 0, added: 1, kept: { 'blast-radius': 4 } });
    expect(summary.problems).toEqual([
      'the pass would revoke 4 of 4 managed rules, over the limit of 2; none of them was revoked. Check why so many rules look stale; if it is right, run `sgsync reconcile --force` once (or raise safety.revokeLimit)',
    ]);
  });
  it('needs attention when the pass was cut short, saying so plainly and who finishes the work', async () => {
    const rules = [1, 2].map((n) => staleRule(n));
    let stop: string | undefined;
    const ec2 = fakeEc2(rules, false);
    // The stop comes as the first change lands: the revokes, after it, are not started.
    const result = await controllerPass({
      config: parseConfig(yaml('safety: { revokeLimit: { fraction: 1 } }'), 'f'),
      ec2: { ...ec2, authorize: (b) => ec2.authorize(b).finally(() => (stop = 'sgsync was told to stop (SIGTERM)')) },
      apply: true,
      shouldStop: () => stop,
    });
    const summary = summarizePass(result, 'the next invocation');
    expect(summary).toMatchObject({ ok: false, added: 1, revoked: 0, converged: false, stopped: 'sgsync was told to stop (SIGTERM)' });
    expect(summary.problems).toEqual([
      'pass cut short: sgsync was told to stop (SIGTERM). The changes under way were finished and logged, no further change was started; the next invocation finishes the work',
    ]);
  });
});
