import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultsConfigSchema } from '../../src/sandbox/faults.js';
import { FaultFleet, PRIMARY } from './fault-fleet.js';

const slow = (actions: string[], latencyMs: number) =>
  faultsConfigSchema.parse({ rules: actions.map((action) => ({ action, region: PRIMARY, latencyMs })) });

describe('an agent killed with SIGKILL between two of its calls', () => {
  let fleet: FaultFleet;
  beforeAll(async () => {
    fleet = await FaultFleet.start({ seed: 71 });
    await fleet.launch('eu-west-1', 4);
    expect((await fleet.reconcile('initial')).run.code).toBe(0);
  });
  afterAll(() => fleet?.close());

  it.each([
    ['after its describe arrived, before it could authorize', 'DescribeSecurityGroupRules', false],
    ['after its authorize arrived, before it heard the answer', 'AuthorizeSecurityGroupIngress', true],
  ])('%s: the next register converges, with no duplicate', async (_name, action, lands) => {
    const [id] = await fleet.launch('eu-west-1', 1);
    const before = fleet.view();
    const watch = fleet.watch();
    // The latency holds the call in the sandbox, so the agent is surely between two calls when it dies.
    fleet.sandbox.faults.set(slow([action], 1500));
    const agent = fleet.agent(id!);
    await fleet.arrival(action);
    agent.proc.kill('SIGKILL');
    const killed = await agent.done;
    await fleet.quiet();
    fleet.sandbox.faults.set({ rules: [] });
    const samples = watch.stop();

    expect(killed.code).toBe(-1);
    expect(fleet.view().rules.some((r) => r.instanceId === id), lands ? 'the authorization landed after all' : 'nothing was authorized').toBe(lands);
    expect(fleet.check({ before, changes: fleet.changes([], [killed]), changesComplete: false, samples, admission: 'admitted-before' })).toEqual([]);

    const settled = fleet.view();
    const again = await fleet.agent(id!).done;
    expect(again.code, again.stderr).toBe(0);
    expect(fleet.check({ before: settled, changes: fleet.changes([], [again]), converged: true })).toEqual([]);
  });
});

describe('a controller killed with SIGKILL in the middle of applying a plan', () => {
  let fleet: FaultFleet | undefined;
  afterAll(() => fleet?.close());

  it('leaves a world the next pass converges from, with every live member kept and every logged change real', async () => {
    // Groups of 8 rules: the plan spans three groups, so it takes several authorize and revoke calls.
    fleet = await FaultFleet.start({ seed: 72, groups: 3, quota: 8 });
    const old = [...(await fleet.launch('eu-west-1', 6)), ...(await fleet.launch('ap-southeast-2', 4))];
    expect((await fleet.reconcile('initial')).run.code).toBe(0);
    await fleet.fleet.ec2('eu-west-1').send(new TerminateInstancesCommand({ InstanceIds: old.slice(0, 3) }));
    await fleet.fleet.ec2('ap-southeast-2').send(new TerminateInstancesCommand({ InstanceIds: old.slice(6, 8) }));
    await fleet.launch('eu-west-1', 6);
    await fleet.launch('ap-southeast-2', 4);

    const before = fleet.view();
    const watch = fleet.watch();
    fleet.sandbox.faults.set(slow(['AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress'], 700));
    const audit = fleet.auditFile('killed.jsonl');
    const controller = fleet.controller(audit);
    // The newcomers' rules that fit in their groups as they are go first and land; then the revokes,
    // in more than one group. Killed when the second revoke arrives, both still held.
    await Promise.race([fleet.arrival('RevokeSecurityGroupIngress', 2), controller.done]);
    controller.proc.kill('SIGKILL');
    const killed = await controller.done;
    await fleet.quiet();
    fleet.sandbox.faults.set({ rules: [] });
    const samples = watch.stop();

    expect(killed.code, 'killed mid-way, not finished').toBe(-1);
    const midway = fleet.changes([audit]);
    expect(midway.length, 'some changes landed before the kill').toBeGreaterThan(0);
    expect(fleet.check({ before, changes: midway, changesComplete: false, samples, admission: 'admitted-before' })).toEqual([]);
    // The revokes in flight landed with nobody left to log them: the kill fell between a change and its line.
    expect(fleet.check({ before, changes: midway, changesComplete: true })).toContainEqual(expect.stringMatching(/^\[6 audit\] rule .* disappeared with no revoke line/));

    const settled = fleet.view();
    const next = await fleet.reconcile('after-kill');
    expect(next.run.code, next.run.stderr).toBe(0);
    expect(fleet.check({ before: settled, changes: next.changes, converged: true })).toEqual([]);
  });
});
