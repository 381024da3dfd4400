import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemLines } from '../e2e/agent-harness.js';
import { faultsConfigSchema } from '../../src/sandbox/faults.js';
import { FaultFleet } from './fault-fleet.js';

/** Exit codes a pass may end with when AWS keeps failing: done, or "AWS unavailable" (docs/exit-codes.md). */
const GAVE_UP = 6;

/*
 * One fleet for every case: each case terminates a member, launches new
 * workers, runs a controller and two agents against a faulty EC2 API, checks
 * the invariants, then lifts the faults and shows that a clean pass converges
 * (which is where the next case starts).
 */
describe('passes against a faulty EC2 API', () => {
  let fleet: FaultFleet;
  let members: string[];
  afterAll(() => fleet?.close());

  beforeAll(async () => {
    fleet = await FaultFleet.start({ seed: 41 });
    members = [...(await fleet.launch('eu-west-1', 6)), ...(await fleet.launch('ap-southeast-2', 4))];
    const first = await fleet.reconcile('initial');
    expect(first.run.code, first.run.stderr).toBe(0);
  });

  it.each([
    ['a fifth of the calls answer 500 or 503', { internalErrorRate: 0.1, unavailableRate: 0.1 }],
    ['half of the calls answer 500 or 503', { internalErrorRate: 0.25, unavailableRate: 0.25 }],
    ['every call is slow, some very slow (latency spikes)', { latencyMs: 100, jitterMs: 900 }],
    ['a fifth of the connections are dropped', { dropRate: 0.2 }],
    // Giving up takes every retry's back-off; one controller is enough to show it.
    ['every authorization answers 503, so the pass gives up', { action: 'AuthorizeSecurityGroupIngress', unavailableRate: 1 }],
  ] as [string, Record<string, unknown>][])('%s: the pass converges or gives up with exit 6 having changed nothing wrong; a clean pass converges', async (_name, rule) => {
    const gone = members.shift()!;
    await fleet.fleet.ec2(regionOf(fleet, gone)).send(new TerminateInstancesCommand({ InstanceIds: [gone] }));
    const fresh = [...(await fleet.launch('eu-west-1', 2)), ...(await fleet.launch('ap-southeast-2', 1))];
    members.push(...fresh);

    fleet.sandbox.faults.set(faultsConfigSchema.parse({ seed: 5, rules: [{ action: '*', region: '*', ...rule }] }));
    const before = fleet.view();
    const watch = fleet.watch();
    const audit = fleet.auditFile(`faulty-${members.length}.jsonl`);
    const controller = fleet.controller(audit);
    const givesUp = rule.unavailableRate === 1;
    const agents = await Promise.all(fresh.slice(0, givesUp ? 0 : 2).map((id) => fleet.agent(id).done));
    const pass = await controller.done;
    const samples = watch.stop();
    fleet.sandbox.faults.set({ rules: [] });

    const faulted = Object.values(fleet.sandbox.counters.snapshot()).flatMap((a) => Object.values(a)).reduce((n, c) => n + c.faulted, 0);
    if (rule.latencyMs === undefined) expect(faulted, 'the faults fired').toBeGreaterThan(0);
    if (givesUp) expect(pass.code).toBe(GAVE_UP);
    for (const run of [pass, ...agents]) {
      expect([0, GAVE_UP], run.stderr).toContain(run.code);
      // Retried failures are not shown to users; giving up is, in one line that says why.
      if (run.code === 0) expect(problemLines(run.stderr).filter((l) => !l.includes('"level":40'))).toEqual([]);
      else expect(`${run.stdout}\n${run.stderr}`).toMatch(/AWS_UNAVAILABLE|AWS kept|Unavailable|InternalError|ECONNRESET|socket hang up/);
    }
    const allDone = [pass, ...agents].every((r) => r.code === 0);
    expect(fleet.check({ before, changes: fleet.changes([audit], agents), samples, converged: allDone, admission: allDone ? 'every-member' : 'admitted-before' })).toEqual([]);

    const settled = fleet.view();
    const clean = await fleet.reconcile(`clean-${members.length}`);
    expect(clean.run.code, clean.run.stderr).toBe(0);
    expect(fleet.check({ before: settled, changes: clean.changes, converged: true })).toEqual([]);
  });
});

function regionOf(fleet: FaultFleet, id: string): string {
  for (const region of fleet.sandbox.world.regions.values()) if (region.instances.has(id)) return region.name;
  throw new Error(`no instance ${id}`);
}
