import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, describe, expect, it } from 'vitest';
import { parseReport } from '../e2e/controller-fleet.js';
import { faultsConfigSchema } from '../../src/sandbox/faults.js';
import { FaultFleet } from './fault-fleet.js';

describe("one member region's EC2 API down for a pass", () => {
  let fleet: FaultFleet | undefined;
  afterAll(() => fleet?.close());

  it("keeps that region's rules (unknown is not gone), says why with exit 6, does the rest, and the next pass converges", async () => {
    fleet = await FaultFleet.start({ seed: 51 });
    const eu = await fleet.launch('eu-west-1', 5);
    const ap = await fleet.launch('ap-southeast-2', 3);
    expect((await fleet.reconcile('initial')).run.code).toBe(0);
    await fleet.fleet.ec2('eu-west-1').send(new TerminateInstancesCommand({ InstanceIds: [eu[0]!] }));
    await fleet.fleet.ec2('ap-southeast-2').send(new TerminateInstancesCommand({ InstanceIds: [ap[0]!] }));
    const [newAp] = await fleet.launch('ap-southeast-2', 1);
    const terminatedEuRule = fleet.view().rules.find((r) => r.instanceId === eu[0])!;

    fleet.sandbox.faults.set(faultsConfigSchema.parse({ rules: [{ action: '*', region: 'eu-west-1', unavailableRate: 1 }] }));
    const before = fleet.view();
    const watch = fleet.watch();
    const outage = await fleet.reconcile('outage');
    const samples = watch.stop();
    fleet.sandbox.faults.set({ rules: [] });

    expect(outage.run.code, 'AWS_UNAVAILABLE (docs/exit-codes.md)').toBe(6);
    const report = parseReport(outage.run);
    expect(report.regions.find((r) => r.region === 'eu-west-1')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/Unavailable|unavailable/) });
    expect(report.regions.find((r) => r.region === 'ap-southeast-2')).toMatchObject({ status: 'complete' });
    // The terminated eu-west-1 member's rule is kept: its region could not be listed.
    expect(report.targets[0]!.kept).toContainEqual(expect.objectContaining({ ruleId: terminatedEuRule.id, reason: 'region-unavailable' }));
    expect(fleet.view().rules.some((r) => r.id === terminatedEuRule.id)).toBe(true);
    // The rest of the pass was done: ap-southeast-2's terminated member revoked, its new one admitted.
    expect(outage.changes.map((c) => `${c.action} ${c.instance}`).sort()).toEqual([`authorize ${newAp}`, `revoke ${ap[0]}`].sort());
    expect(fleet.check({ before, changes: outage.changes, samples, admission: 'admitted-before' })).toEqual([]);
    expect(fleet.check({ admission: 'every-member' }).filter((v) => v.includes(newAp!))).toEqual([]);

    const settled = fleet.view();
    const next = await fleet.reconcile('recovered');
    expect(next.run.code, next.run.stderr).toBe(0);
    expect(next.changes.map((c) => `${c.action} ${c.instance}`)).toEqual([`revoke ${eu[0]}`]);
    expect(fleet.check({ before: settled, changes: next.changes, converged: true })).toEqual([]);
  });
});
