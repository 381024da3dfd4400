import { afterEach, describe, expect, it } from 'vitest';
import { parseReport } from '../e2e/controller-fleet.js';
import { faultsConfigSchema } from '../../src/sandbox/faults.js';
import { FaultFleet } from './fault-fleet.js';

/**
 * A pool of one group, three members admitted by a first pass, then a
 * newcomer: the second pass runs at once, while the first pass's rules are
 * not listed yet, so its batch for the group names rules AWS already has.
 */
async function secondPassBehindTheReads(lagSeconds: number) {
  const fleet = await FaultFleet.start({ seed: 93, groups: 1 });
  fleet.sandbox.faults.set(faultsConfigSchema.parse({ rules: [], readLag: { rulesSeconds: lagSeconds } }));
  await fleet.launch('eu-west-1', 3);
  const first = await fleet.reconcile('first');
  expect(first.run.code, first.run.stderr).toBe(0);
  const [late] = await fleet.launch('eu-west-1', 1);
  const before = fleet.view();
  const watch = fleet.watch();
  const second = await fleet.reconcile('second');
  return { fleet, late: late!, before, second, samples: watch.stop() };
}

describe('reads that lag writes (DescribeSecurityGroupRules does not show a new rule yet)', () => {
  let fleet: FaultFleet | undefined;
  afterEach(() => fleet?.close());

  it('a pass right behind another looks again until its rules are listed, and adds only what is missing', async () => {
    const run = await secondPassBehindTheReads(2);
    fleet = run.fleet;
    const { second, late } = run;
    expect(second.run.code, second.run.stderr).toBe(0);
    // AWS answered Duplicate for the unlisted rules, and the pass looked again rather than making them twice.
    expect(parseReport(second.run).calls?.AuthorizeSecurityGroupIngress).toBeGreaterThan(1);
    expect(second.changes.map((c) => [c.action, c.instance])).toEqual([['authorize', late]]);
    expect(fleet.check({ before: run.before, changes: second.changes, samples: run.samples, converged: true })).toEqual([]);
  });

  it('still adds the newcomer when the reads stay behind for longer than its rounds: the last round halves the batch, makes nothing twice, and says what was not listed', async () => {
    const run = await secondPassBehindTheReads(30);
    fleet = run.fleet;
    const { second, late } = run;
    expect(second.run.code, second.run.stderr).toBe(0);
    const report = parseReport(second.run);
    expect(report.outcome).toBe('applied');
    expect(report.errors).toEqual([]);
    expect(second.changes.map((c) => [c.action, c.instance])).toEqual([['authorize', late]]);
    expect(report.warnings).toEqual([expect.stringMatching(/^3 rule\(s\) AWS says exist were not listed yet \(EC2's reads lag its writes\), so they were not added again: /)]);
    // Seven rounds sent the batch whole; the eighth halved it down to the rules AWS said exist, one by one.
    expect(parseReport(second.run).calls?.AuthorizeSecurityGroupIngress).toBeGreaterThan(8);
    expect(fleet.check({ before: run.before, changes: second.changes, samples: run.samples, converged: true })).toEqual([]);

    await fleet.advance(31);
    const third = await fleet.reconcile('third');
    expect(third.run.code, third.run.stderr).toBe(0);
    expect(parseReport(third.run).outcome).toBe('in-sync');
    expect(third.changes).toEqual([]);
    expect(fleet.check({ changes: third.changes, converged: true })).toEqual([]);
  });
});
