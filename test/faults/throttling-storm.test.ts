import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemLines } from '../e2e/agent-harness.js';
import { Params } from '../../src/sandbox/query.js';
import { FaultFleet, PRIMARY } from './fault-fleet.js';

/** Calls throttled so far, in every region and action. */
function throttledCalls(fleet: FaultFleet): number {
  let n = 0;
  for (const actions of Object.values(fleet.sandbox.counters.snapshot())) for (const c of Object.values(actions)) n += c.throttled;
  return n;
}

describe('a throttling storm at AWS bucket sizes', () => {
  let fleet: FaultFleet;
  afterAll(() => fleet?.close());

  beforeAll(async () => {
    fleet = await FaultFleet.start({ seed: 31 });
    // Fifteen members admitted before the storm; three of them then terminate.
    const old = [...(await fleet.launch('eu-west-1', 10)), ...(await fleet.launch('ap-southeast-2', 5))];
    const first = await fleet.reconcile('before-storm');
    expect(first.run.code, first.run.stderr).toBe(0);
    await fleet.fleet.ec2('eu-west-1').send(new TerminateInstancesCommand({ InstanceIds: old.slice(0, 3) }));
  });

  it('20 agents and a controller at once, arriving after the buckets were spent, all converge with no error shown', async () => {
    const fresh = [...(await fleet.launch('eu-west-1', 14)), ...(await fleet.launch('ap-southeast-2', 6))];
    // AWS's bucket sizes and refill rates, on a clock that moves only while calls are being
    // throttled (one sandbox second per 200 ms that saw a throttled call): processes start here
    // far slower than instances boot, so with real time the buckets would refill between arrivals.
    // The target region's rule and describe buckets are spent first, as by a fleet that booted a
    // moment earlier, so every agent meets an empty bucket whatever the speed of the machine.
    const throttle = fleet.sandbox.throttle;
    throttle.useClock(() => 0);
    throttle.mode = { kind: 'aws', scale: 1 };
    const params = Params.parse('Filter.1.Name=group-id');
    while (throttle.take(PRIMARY, 'AuthorizeSecurityGroupIngress', params));
    while (throttle.take(PRIMARY, 'DescribeSecurityGroupRules', params));
    let seen = 0;
    const refill = setInterval(() => {
      const throttled = throttledCalls(fleet);
      if (throttled > seen) throttle.advance(1000);
      seen = throttled;
    }, 200);
    const before = fleet.view();
    const watch = fleet.watch();

    const audit = fleet.auditFile('storm.jsonl');
    const controller = fleet.controller(audit);
    const agents = await fleet.agents(fresh, fresh.length);
    const pass = await controller.done;
    const samples = watch.stop();
    clearInterval(refill);
    throttle.mode = { kind: 'off' };
    throttle.useClock(() => performance.now());

    expect(fleet.fleet.counts(PRIMARY, 'AuthorizeSecurityGroupIngress').throttled, 'the storm met the throttle').toBeGreaterThan(0);
    expect(agents.filter((r) => r.code !== 0 || problemLines(r.stderr).length > 0).map((r) => `exit ${r.code}: ${problemLines(r.stderr).join(' | ')}`)).toEqual([]);
    expect(pass.code, pass.stderr).toBe(0);
    expect(problemLines(pass.stderr)).toEqual([]);
    expect(fleet.check({ before, changes: fleet.changes([audit], agents), samples, converged: true })).toEqual([]);
  });
});
