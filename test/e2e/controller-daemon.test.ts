import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuthorizeSecurityGroupIngressCommand, RevokeSecurityGroupIngressCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoFleet } from '../../src/sandbox/demo-fleet.js';
import { faultsConfigSchema } from '../../src/sandbox/faults.js';
import { startTestSandbox, type TestSandbox } from '../contract/helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sgsync-daemon-'));
const MEMBER_REGIONS = ['eu-west-1', 'ap-southeast-2', 'us-west-2', 'sa-east-1'];
const env = { ...process.env, AWS_ACCESS_KEY_ID: 'sandbox', AWS_SECRET_ACCESS_KEY: 'sandbox', AWS_EC2_METADATA_DISABLED: 'true', SGSYNC_LOG_LEVEL: undefined };

let sb: TestSandbox;
let configFile: string;
let pool: string[];
const running: ChildProcess[] = [];

beforeAll(async () => {
  sb = await startTestSandbox({ seed: 33 });
  const fleet = await buildDemoFleet(sb.sandbox);
  pool = fleet.groups.filter((g) => g.name.startsWith('sgsync-primary')).map((g) => g.id);
  configFile = join(dir, 'sgsync.yaml');
  writeFileSync(
    configFile,
    [
      'deployment: daemon-test',
      'targets:',
      `  - { name: api, region: us-east-1, groups: [${pool.join(', ')}], ports: [443], members: { regions: [${MEMBER_REGIONS.join(', ')}], tags: { role: worker } } }`,
      `controller: { regions: [us-east-1, ${MEMBER_REGIONS.join(', ')}], jitterSeconds: 0 }`,
      `aws: { endpoint: "${sb.url}" }`,
    ].join('\n'),
  );
});

afterAll(async () => {
  for (const proc of running) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  await sb.close();
});

function sgsync(args: string[]): { proc: ChildProcess; stdout: () => string; stderr: () => string } {
  const proc = spawn(process.execPath, ['dist/bin/sgsync.js', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(proc);
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { proc, stdout: () => out, stderr: () => err };
}

/** Polls `read` every 200 ms until `done` holds (at most `tries` times), and returns the last value read. */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, tries = 150): Promise<T> {
  let value = await read();
  for (let i = 0; i < tries && !done(value); i++) {
    await new Promise((r) => setTimeout(r, 200));
    value = await read();
  }
  return value;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return new Map(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]),
  );
}

function runningWorkers(): string[] {
  return MEMBER_REGIONS.flatMap((r) => [...sb.sandbox.world.region(r)!.instances.values()]).filter((i) => i.state === 'running' && i.tags.get('role') === 'worker').map((i) => i.id);
}

describe('sgsync controller run', () => {
  it('serves health and metrics, cleans up after a terminated worker, notices a failing region, and stops on SIGTERM with 0', async () => {
    const audit = join(dir, 'audit.jsonl');
    const daemon = sgsync(['controller', 'run', '-c', configFile, '--interval', '1', '--metrics-port', '0', '--audit-log', audit]);
    const url = await new Promise<string>((resolve, reject) => {
      daemon.proc.stderr!.on('data', () => {
        const m = /metrics on (http:\/\/127\.0\.0\.1:\d+)/.exec(daemon.stderr());
        if (m) resolve(m[1]!);
      });
      daemon.proc.once('exit', (code) => reject(new Error(`exited with ${code}:\n${daemon.stderr()}`)));
    });

    const health = await until(() => fetch(`${url}/healthz`).then(async (r) => ({ status: r.status, body: (await r.json()) as { reason: string } })), (h) => h.status === 200);
    expect(health.body.reason).toMatch(/the last successful pass finished \d+s ago/);
    const workers = runningWorkers();
    let m = await scrape(url);
    expect(m.get('sgsync_rules_added_total{target="api"}')).toBe(workers.length);
    expect(m.get('sgsync_last_pass_success')).toBe(1);
    expect(m.get('sgsync_aws_api_calls_total{region="eu-west-1",action="DescribeInstances"}')).toBeGreaterThan(0);
    const pool = [...m.keys()].filter((k) => k.startsWith('sgsync_managed_rules{'));
    expect(pool.reduce((n, k) => n + m.get(k)!, 0)).toBe(workers.length);

    const gone = workers[0]!;
    const region = MEMBER_REGIONS.find((r) => sb.sandbox.world.region(r)!.instances.has(gone))!;
    await sb.ec2(region).send(new TerminateInstancesCommand({ InstanceIds: [gone] }));
    m = await until(() => scrape(url), (s) => s.has('sgsync_rules_revoked_total{target="api",reason="instance-terminated"}'));
    expect(m.get('sgsync_rules_revoked_total{target="api",reason="instance-terminated"}')).toBe(1);
    const lines = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.action === 'revoke')).toEqual([expect.objectContaining({ instance: gone, reason: 'instance-terminated', actor: 'controller' })]);

    sb.sandbox.faults.set({ rules: [{ action: 'DescribeInstances', region: 'sa-east-1', error: { code: 'UnauthorizedOperation', status: 403, rate: 1 }, internalErrorRate: 0, unavailableRate: 0, latencyMs: 0, jitterMs: 0, dropRate: 0 }] });
    m = await until(() => scrape(url), (s) => s.get('sgsync_inventory_region_up{region="sa-east-1"}') === 0);
    expect(m.get('sgsync_last_pass_success')).toBe(0);
    expect(m.get('sgsync_aws_api_errors_total{region="sa-east-1",action="DescribeInstances"}')).toBeGreaterThan(0);
    sb.sandbox.faults.set({ rules: [] });

    // Each pass logs what it did and where its time went.
    const done = daemon
      .stderr()
      .split('\n')
      .filter((l) => l.includes('"msg":"pass done'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(done.length).toBeGreaterThanOrEqual(3);
    const ms = expect.any(Number) as number;
    for (const line of done) expect(line).toMatchObject({ durationMs: ms, timings: { inventoryMs: ms, observeMs: ms, planMs: ms, applyMs: ms } });
    expect(done.some((l) => l.revoked === 1)).toBe(true);

    const exited = once(daemon.proc, 'exit');
    daemon.proc.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(daemon.stderr()).toMatch(/controller stopped/);
  });

  it('stops at once with 130 on a second signal during a pass, saying what that may leave unaudited', async () => {
    // Every call takes four seconds: the first pass is still under way when the signals come.
    sb.sandbox.faults.set(faultsConfigSchema.parse({ rules: [{ action: '*', region: '*', latencyMs: 4000 }] }));
    try {
      // The metrics line comes once the signals are handled, just before the first pass starts.
      const daemon = sgsync(['controller', 'run', '-c', configFile, '--metrics-port', '0']);
      const exited = once(daemon.proc, 'exit');
      await until(() => Promise.resolve(daemon.stderr()), (text) => text.includes('metrics on http://'), 100);
      daemon.proc.kill('SIGTERM');
      await until(() => Promise.resolve(daemon.stderr()), (text) => text.includes('stopping: the pass under way starts no further change'), 50);
      daemon.proc.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect(code).toBe(130);
      expect(daemon.stderr()).toMatch(/second SIGTERM: stopping at once; changes in flight may land without an audit line/);
    } finally {
      sb.sandbox.faults.set({ rules: [] });
    }
  });

  it('with --once, runs one pass, prints what it did and exits like reconcile', async () => {
    const ok = sgsync(['controller', 'run', '-c', configFile, '--once', '--json']);
    const [code] = (await once(ok.proc, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(JSON.parse(ok.stdout())).toMatchObject({ ok: true, added: 0, revoked: 0, problems: [] });
  });

  it('logs a warning of the passes when it first appears, not at every pass, and once more when it is gone', async () => {
    const daemon = sgsync(['controller', 'run', '-c', configFile, '--interval', '1']);
    const lines = () =>
      daemon
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: number; msg?: string; warning?: string })
        // The audit lines (on stderr too) have no message.
        .filter((l): l is { level: number; msg: string; warning?: string } => typeof l.msg === 'string');
    const passes = () => lines().filter((l) => l.msg.startsWith('pass done')).length;
    /** Waits for `n` more passes to finish. */
    const morePasses = async (n: number) => {
      const after = passes() + n;
      await until(() => Promise.resolve(passes()), (p) => p >= after);
    };
    await morePasses(1);

    // A rule of this deployment that names no instance: every pass leaves it alone, and warns.
    const group = pool[0]!;
    const added = await sb.ec2('us-east-1').send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: group,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '198.51.100.9/32' }] }],
        TagSpecifications: [
          {
            ResourceType: 'security-group-rule',
            Tags: [
              { Key: 'sgsync:managed-by', Value: 'daemon-test' },
              { Key: 'sgsync:target', Value: 'api' },
              { Key: 'sgsync:region', Value: 'eu-west-1' },
            ],
          },
        ],
      }),
    );
    const ruleId = added.SecurityGroupRules![0]!.SecurityGroupRuleId!;
    const warning = `rule ${ruleId} in ${group} names no instance (no sgsync:instance tag, no sgsync description); it is left alone`;
    // A pass a second: ten seconds are many passes.
    await until(() => Promise.resolve(lines()), (ls) => ls.some((l) => l.msg === warning), 50);
    expect(lines().filter((l) => l.msg === warning)).toHaveLength(1);
    await morePasses(3);
    await sb.ec2('us-east-1').send(new RevokeSecurityGroupIngressCommand({ GroupId: group, SecurityGroupRuleIds: [ruleId] }));
    await until(() => Promise.resolve(lines()), (ls) => ls.some((l) => l.msg.startsWith('warning cleared')), 50);
    await morePasses(2);

    const exited = once(daemon.proc, 'exit');
    daemon.proc.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
    expect(lines().filter((l) => l.msg.includes(ruleId)).map((l) => [l.level, l.msg])).toEqual([
      [40, warning],
      [30, `warning cleared: ${warning}`],
    ]);
    expect(lines().find((l) => l.level === 30 && l.msg.startsWith('warning cleared'))?.warning).toBe(warning);
  });

  it('refuses an interval that is not a number of seconds, with the usage exit code', async () => {
    const bad = sgsync(['controller', 'run', '-c', configFile, '--interval', 'soon']);
    const [code] = (await once(bad.proc, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(bad.stderr()).toMatch(/--interval must be a number from 1 to 86400, not "soon"/);
  });
});
