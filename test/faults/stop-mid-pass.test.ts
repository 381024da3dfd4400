import { readFileSync } from 'node:fs';
import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createHandler } from '../../src/controller/lambda.js';
import { faultsConfigSchema } from '../../src/sandbox/faults.js';
import { FaultFleet, PRIMARY } from './fault-fleet.js';

const SCHEDULED = { version: '0', id: 'schedule', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012', time: '2026-11-26T06:00:00Z', region: 'us-east-1', resources: [], detail: {} };
const REVOKE = 'RevokeSecurityGroupIngress';

let fleet: FaultFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

/**
 * A fleet whose next pass has revokes to make in more than one group (the
 * rules of terminated workers), one group at a time (`controller.concurrency:
 * 1`, in `config`), each revoke held 2.5 s in the sandbox: a stop that comes
 * as the first one arrives finds it in flight and the others not started,
 * however slowly a loaded machine hands the signal to the process.
 */
async function staleInSeveralGroups(seed: number): Promise<{ fleet: FaultFleet; config: string; yaml: string; groups: number }> {
  const f = await FaultFleet.start({ seed, groups: 3, quota: 8 });
  fleet = f;
  const eu = await f.launch('eu-west-1', 6);
  const ap = await f.launch('ap-southeast-2', 4);
  const initial = await f.reconcile('initial');
  expect(initial.run.code, initial.run.stderr).toBe(0);
  const gone = [eu[0]!, eu[2]!, eu[4]!, ap[0]!, ap[2]!];
  await f.fleet.ec2('eu-west-1').send(new TerminateInstancesCommand({ InstanceIds: gone.slice(0, 3) }));
  await f.fleet.ec2('ap-southeast-2').send(new TerminateInstancesCommand({ InstanceIds: gone.slice(3) }));
  const groups = new Set(f.view().rules.filter((r) => gone.includes(r.instanceId ?? '')).map((r) => r.groupId)).size;
  expect(groups, 'the stale rules are in more than one group').toBeGreaterThan(1);
  f.sandbox.faults.set(faultsConfigSchema.parse({ rules: [{ action: REVOKE, region: PRIMARY, latencyMs: 2500 }] }));
  const yaml = readFileSync(f.config, 'utf8').replace('controller:\n', 'controller:\n  concurrency: 1\n');
  return { fleet: f, config: f.fleet.config('one-group-at-a-time.yaml', yaml), yaml, groups };
}

/** Revoke calls that reached the sandbox so far. */
function revokeCalls(f: FaultFleet): number {
  return f.sandbox.counters.snapshot()[PRIMARY]?.[REVOKE]?.calls ?? 0;
}

/** After the stop: every change that landed has its audit line, no live member lost its rule, and the next pass finishes the work. */
async function finishedByTheNextPass(f: FaultFleet, before: ReturnType<FaultFleet['view']>, audit: string, samples: ReturnType<ReturnType<FaultFleet['watch']>['stop']>): Promise<void> {
  expect(f.check({ before, changes: f.changes([audit]), changesComplete: true, samples, admission: 'admitted-before' })).toEqual([]);
  f.sandbox.faults.set({ rules: [] });
  const settled = f.view();
  const next = await f.reconcile('next');
  expect(next.run.code, next.run.stderr).toBe(0);
  expect(next.changes.length, 'the next pass had work left').toBeGreaterThan(0);
  expect(f.check({ before: settled, changes: next.changes, converged: true })).toEqual([]);
}

/** Runs sgsync with `args` as a process, sends it SIGTERM as the first revoke reaches AWS, and waits for it and the sandbox to settle. */
async function terminatedMidApply(f: FaultFleet, args: string[], logLevel: string) {
  const before = f.view();
  const watch = f.watch();
  const calls = revokeCalls(f);
  const child = f.fleet.spawn('i-00000000000000000', args, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', SGSYNC_LOG_LEVEL: logLevel });
  await f.arrival(REVOKE);
  child.proc.kill('SIGTERM');
  const run = await child.done;
  await f.quiet();
  return { run, before, samples: watch.stop(), revokes: revokeCalls(f) - calls };
}

describe('a pass that must stop before it is done', () => {
  it('in a Lambda whose time runs out mid-pass: starts no further change, audits the one in flight, and returns ok: false without throwing', async () => {
    const { fleet: f, yaml } = await staleInSeveralGroups(91);
    process.env.AWS_ACCESS_KEY_ID = 'AKIDSANDBOX';
    process.env.AWS_SECRET_ACCESS_KEY = 'sandbox';
    const audit = f.auditFile('lambda.jsonl');
    const handler = createHandler({ env: { SGSYNC_CONFIG_YAML: yaml }, log: pino({ level: 'silent' }), auditFile: audit });
    // A minute for the invocation, until the first revoke reaches AWS: then only 5 s are left.
    let left = 60_000;
    void f.arrival(REVOKE).then(() => (left = 5_000));
    const before = f.view();
    const watch = f.watch();
    const calls = revokeCalls(f);

    const summary = await handler(SCHEDULED, { awsRequestId: 'req-1', getRemainingTimeInMillis: () => left });
    await f.quiet();
    const samples = watch.stop();

    expect(revokeCalls(f) - calls, 'the revoke in flight, and no other').toBe(1);
    expect(summary).toMatchObject({ ok: false, event: 'schedule', converged: false, stopped: expect.stringMatching(/^the function's time limit is near \(5\.0 s left; 20 s are kept/) as string });
    if (summary.event === 'ignored') throw new Error('not a pass');
    expect(summary.revoked).toBeGreaterThan(0);
    expect(summary.problems).toEqual([expect.stringMatching(/^pass cut short: the function's time limit is near .*The changes under way were finished and logged, no further change was started; the next invocation finishes the work$/)]);
    expect(f.changes([audit]).length).toBe(summary.revoked);
    await finishedByTheNextPass(f, before, audit, samples);
  });

  it('in controller run told to stop by SIGTERM: starts no further change, audits the one in flight, and exits 0', async () => {
    const { fleet: f, config } = await staleInSeveralGroups(92);
    const audit = f.auditFile('daemon.jsonl');
    const { run, before, samples, revokes } = await terminatedMidApply(f, ['controller', 'run', '-c', config, '--interval', '3600', '--audit-log', audit], 'info');

    expect(run.code, run.stderr).toBe(0);
    expect(revokes, 'the revoke in flight, and no other').toBe(1);
    expect(f.changes([audit]).length, 'the revoke in flight landed and was audited').toBeGreaterThan(0);
    expect(run.stderr).toContain('pass cut short: sgsync was told to stop (SIGTERM). The changes under way were finished and logged, no further change was started; the next pass finishes the work');
    expect(run.stderr).toMatch(/controller stopped/);
    await finishedByTheNextPass(f, before, audit, samples);
  });

  it('in reconcile told to stop by SIGTERM: the same, with a report that says so, and exit 143', async () => {
    const { fleet: f, config } = await staleInSeveralGroups(93);
    const audit = f.auditFile('reconcile.jsonl');
    const { run, before, samples, revokes } = await terminatedMidApply(f, ['reconcile', '-c', config, '--json', '--audit-log', audit], 'warn');

    expect(run.code, run.stderr).toBe(143);
    expect(revokes, 'the revoke in flight, and no other').toBe(1);
    const report = JSON.parse(run.stdout) as { outcome: string; stopped?: string; summary: { revoke: number } };
    expect(report).toMatchObject({ outcome: 'incomplete', stopped: 'sgsync was told to stop (SIGTERM)' });
    expect(report.summary.revoke).toBe(f.changes([audit]).length);
    expect(report.summary.revoke).toBeGreaterThan(0);
    await finishedByTheNextPass(f, before, audit, samples);
  });
});
