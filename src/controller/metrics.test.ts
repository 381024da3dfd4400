import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import type { Member, ObservedRule } from '../core/model.js';
import type { Ec2Port } from '../core/ports.js';
import { ControllerMetrics } from './metrics.js';
import { controllerPass } from './pass.js';
import { summarizePass } from './pass-summary.js';
import { renderExposition } from './prometheus.js';

const config = parseConfig(
  ['deployment: prod', 'targets:', '  - name: api', '    region: us-east-1', '    groups: [sg-0123456789abcdef0]', '    ports: [443]', '    members: { regions: [eu-west-1] }', 'controller: { regions: [eu-west-1] }', 'safety: { revokeLimit: { fraction: 1 } }'].join('\n'),
  'sgsync.yaml',
);
const GROUP = 'sg-0123456789abcdef0';

const worker: Member = { instanceId: 'i-0aaaaaaaaaaaaaaa1', region: 'eu-west-1', state: 'running', publicIpv4: '52.16.0.10', ipv6: [], tags: {} };
const gone: Member = { ...worker, instanceId: 'i-0aaaaaaaaaaaaaaa2', state: 'terminated', publicIpv4: undefined };
const rules: ObservedRule[] = [
  {
    ruleId: 'sgr-0000000000000stale',
    groupId: GROUP,
    family: 'ipv4',
    protocol: 'tcp',
    fromPort: 443,
    toPort: 443,
    cidr: '52.16.0.99/32',
    tags: { 'sgsync:managed-by': 'prod', 'sgsync:target': 'api', 'sgsync:instance': gone.instanceId, 'sgsync:region': 'eu-west-1', 'sgsync:registered-at': '2026-01-01T00:00:00Z' },
  },
  { ruleId: 'sgr-00000000000000open', groupId: GROUP, family: 'ipv4', protocol: 'tcp', fromPort: 443, toPort: 443, cidr: '0.0.0.0/0', tags: {} },
];

/** An EC2 that holds one running worker, one terminated instance with a stale rule, and a rule open to the world; it accepts every change. */
const ec2: Ec2Port = {
  enabledRegions: () => Promise.resolve(['eu-west-1']),
  listMembers: () => Promise.resolve([worker, gone]),
  listRules: () => Promise.resolve(rules),
  authorize: (batch) =>
    Promise.resolve({ created: batch.items.map((r, i) => ({ ruleId: `sgr-new${i}`, cidr: r.cidr, protocol: 'tcp', fromPort: 443, toPort: 443 })), duplicate: false }),
  revoke: (batch) => Promise.resolve({ revoked: batch.items.map((r) => r.ruleId), notFound: false }),
};

async function recordOnePass(metrics: ControllerMetrics, at: number): Promise<void> {
  const result = await controllerPass({ config, ec2, apply: true, now: () => at });
  metrics.recordPass(result, summarizePass(result), { startedAtMs: at, finishedAtMs: at + 1_500 });
}

/** `name{labels} value` lines as a map, for reading single samples. */
function samples(text: string): Map<string, number> {
  return new Map(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => {
        const at = l.lastIndexOf(' ');
        const value = l.slice(at + 1);
        return [l.slice(0, at), value === '+Inf' ? Infinity : Number(value)];
      }),
  );
}

describe('the controller metrics', () => {
  const at = Date.parse('2026-03-01T12:00:00Z');

  it('count rules added and revoked per target and reason, across passes', async () => {
    const metrics = new ControllerMetrics();
    await recordOnePass(metrics, at);
    await recordOnePass(metrics, at + 60_000);
    const s = samples(metrics.render(at + 61_500));
    expect(s.get('sgsync_rules_added_total{target="api"}')).toBe(2);
    expect(s.get('sgsync_rules_revoked_total{target="api",reason="instance-terminated"}')).toBe(2);
    expect(s.get('sgsync_stale_rules_found_total{target="api",reason="instance-terminated"}')).toBe(2);
    expect(s.get('sgsync_passes_total{outcome="success"}')).toBe(2);
  });

  it('describe each group after the pass: managed rules, rules used and the quota', async () => {
    const metrics = new ControllerMetrics();
    await recordOnePass(metrics, at);
    const s = samples(metrics.render(at + 2_000));
    const labels = `{target="api",group="${GROUP}",family="ipv4"}`;
    expect([s.get(`sgsync_managed_rules${labels}`), s.get(`sgsync_capacity_used_rules${labels}`), s.get(`sgsync_capacity_quota_rules${labels}`)]).toEqual([1, 2, 60]);
    expect(s.get(`sgsync_foreign_rules{target="api",group="${GROUP}",open_to_world="true"}`)).toBe(1);
    expect(s.get('sgsync_inventory_region_up{region="eu-west-1"}')).toBe(1);
  });

  it('time the last pass and the last success', async () => {
    const metrics = new ControllerMetrics();
    expect(samples(metrics.render(at)).get('sgsync_seconds_since_last_success')).toBe(Infinity);
    await recordOnePass(metrics, at);
    metrics.recordFailure({ startedAtMs: at + 30_000, finishedAtMs: at + 32_000 });
    const s = samples(metrics.render(at + 41_500));
    expect(s.get('sgsync_seconds_since_last_success')).toBe(40);
    expect(s.get('sgsync_last_success_timestamp_seconds')).toBe((at + 1_500) / 1000);
    expect(s.get('sgsync_last_pass_success')).toBe(0);
    expect(s.get('sgsync_pass_duration_seconds')).toBe(2);
    expect(s.get('sgsync_passes_total{outcome="failure"}')).toBe(1);
  });

  it('split EC2 calls by region and action into attempts, errors, throttles and answers that the change was already made', () => {
    const text = new ControllerMetrics().render(at, [
      { region: 'eu-west-1', action: 'DescribeInstances', outcome: 'ok', count: 7 },
      { region: 'eu-west-1', action: 'DescribeInstances', outcome: 'throttled', count: 2 },
      { region: 'us-east-1', action: 'AuthorizeSecurityGroupIngress', outcome: 'error', count: 1 },
      { region: 'us-east-1', action: 'AuthorizeSecurityGroupIngress', outcome: 'already-done', count: 4 },
      { region: 'us-east-1', action: 'RevokeSecurityGroupIngress', outcome: 'already-done', count: 2 },
      { region: 'ap-south-1', action: 'DescribeInstances', outcome: 'cancelled', count: 3 },
    ]);
    const s = samples(text);
    expect(s.get('sgsync_aws_api_calls_total{region="eu-west-1",action="DescribeInstances"}')).toBe(9);
    expect(s.get('sgsync_aws_api_throttles_total{region="eu-west-1",action="DescribeInstances"}')).toBe(2);
    expect(s.get('sgsync_aws_api_errors_total{region="us-east-1",action="AuthorizeSecurityGroupIngress"}')).toBe(1);
    expect(s.has('sgsync_aws_api_errors_total{region="eu-west-1",action="DescribeInstances"}')).toBe(false);
    // A race another writer won is no error: it is counted apart, and in the attempts.
    expect(s.get('sgsync_aws_api_calls_total{region="us-east-1",action="AuthorizeSecurityGroupIngress"}')).toBe(5);
    expect(s.get('sgsync_aws_api_already_done_total{region="us-east-1",action="AuthorizeSecurityGroupIngress"}')).toBe(4);
    expect(s.get('sgsync_aws_api_already_done_total{region="us-east-1",action="RevokeSecurityGroupIngress"}')).toBe(2);
    expect(s.has('sgsync_aws_api_errors_total{region="us-east-1",action="RevokeSecurityGroupIngress"}')).toBe(false);
    // A listing a failed pass stopped is no error of that region either.
    expect(s.get('sgsync_aws_api_cancelled_total{region="ap-south-1",action="DescribeInstances"}')).toBe(3);
    expect(s.has('sgsync_aws_api_errors_total{region="ap-south-1",action="DescribeInstances"}')).toBe(false);
  });

  it('show the waits of sgsync\'s own pacing, by region and action', () => {
    const s = samples(new ControllerMetrics().render(at, [], [{ region: 'us-east-1', action: 'RevokeSecurityGroupIngress', waits: 3, seconds: 1.2 }]));
    expect(s.get('sgsync_aws_api_pacing_waits_total{region="us-east-1",action="RevokeSecurityGroupIngress"}')).toBe(3);
    expect(s.get('sgsync_aws_api_pacing_seconds_total{region="us-east-1",action="RevokeSecurityGroupIngress"}')).toBe(1.2);
  });

  it('time each phase of the last pass', async () => {
    const metrics = new ControllerMetrics();
    await recordOnePass(metrics, at);
    const s = samples(metrics.render(at));
    for (const phase of ['inventory', 'rules', 'plan', 'apply']) expect(s.get(`sgsync_pass_phase_seconds{phase="${phase}"}`)).toBeGreaterThanOrEqual(0);
  });

  it('render every line in the exposition format, with help and type for every metric', async () => {
    const metrics = new ControllerMetrics();
    await recordOnePass(metrics, at);
    const lines = metrics.render(at).trimEnd().split('\n');
    const sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? (-?\d+(\.\d+)?(e[+-]?\d+)?|[+-]Inf|NaN)$/;
    for (const line of lines) if (!line.startsWith('#')) expect(line).toMatch(sample);
    const declared = lines.filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
    const helped = lines.filter((l) => l.startsWith('# HELP ')).map((l) => l.split(' ')[2]);
    expect(helped).toEqual(declared);
    for (const name of new Set(lines.filter((l) => !l.startsWith('#')).map((l) => /^[^{ ]+/.exec(l)![0]))) expect(declared).toContain(name);
  });
});

describe('the exposition format', () => {
  it('escapes backslashes, quotes and newlines in label values and help', () => {
    const text = renderExposition([{ name: 'x_total', type: 'counter', help: 'a\\b\nc', samples: [{ labels: { why: 'say "hi"\\\n' }, value: 1 }] }]);
    expect(text).toBe('# HELP x_total a\\\\b\\nc\n# TYPE x_total counter\nx_total{why="say \\"hi\\"\\\\\\n"} 1\n');
  });

  it('declares a metric that has no samples yet', () => {
    expect(renderExposition([{ name: 'y', type: 'gauge', help: 'h', samples: [] }])).toBe('# HELP y h\n# TYPE y gauge\n');
  });

  it.each([
    ['a metric name with a dash', { name: 'bad-name', labels: {} }],
    ['a label name with a dash', { name: 'ok', labels: { 'bad-label': 'v' } }],
    ['a reserved label name', { name: 'ok', labels: { __name__: 'v' } }],
  ])('refuses %s', (_what, { name, labels }) => {
    expect(() => renderExposition([{ name, type: 'gauge', help: 'h', samples: [{ labels, value: 1 }] }])).toThrow(/not a valid/);
  });
});
