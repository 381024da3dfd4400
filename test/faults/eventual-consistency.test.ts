import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseReport } from '../e2e/controller-fleet.js';
import { faultsConfigSchema } from '../../src/sandbox/faults.js';
import { FaultFleet } from './fault-fleet.js';

describe('reads that lag writes (DescribeInstances does not show a new instance yet)', () => {
  let fleet: FaultFleet | undefined;
  afterAll(() => fleet?.close());

  it('revokes nothing that is merely not yet visible: the grace period keeps the rule, and once visible all converges', async () => {
    fleet = await FaultFleet.start({ seed: 91 });
    await fleet.launch('eu-west-1', 3);
    expect((await fleet.reconcile('initial')).run.code).toBe(0);
    // The first members are old news (launched two minutes ago on the sandbox clock) by the time reads lag.
    await fleet.advance(120);

    fleet.sandbox.faults.set(faultsConfigSchema.parse({ rules: [], readLag: { instancesSeconds: 60 } }));
    const [fresh] = await fleet.launch('eu-west-1', 1);
    const registered = await fleet.agent(fresh!).done;
    expect(registered.code, registered.stderr).toBe(0);
    const rule = fleet.view().rules.find((r) => r.instanceId === fresh)!;
    expect(rule, 'the agent admitted the new instance').toBeDefined();

    // Without the grace period the same pass would take the rule away: the lag really hides the instance.
    const noGrace = fleet.fleet.config('no-grace.yaml', readFileSync(fleet.config, 'utf8').replace('graceSeconds: 300', 'graceSeconds: 0'));
    const plan = await fleet.fleet.run('i-00000000000000000', ['plan', '-c', noGrace, '--json'], { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
    expect(parseReport(plan).targets[0]!.revoke).toEqual([expect.objectContaining({ ruleId: rule.id, instanceId: fresh, reason: 'instance-gone' })]);

    const before = fleet.view();
    const watch = fleet.watch();
    const lagging = await fleet.reconcile('lagging');
    const samples = watch.stop();
    expect(lagging.run.code, lagging.run.stderr).toBe(0);
    expect(parseReport(lagging.run).targets[0]!.kept).toEqual([expect.objectContaining({ ruleId: rule.id, reason: 'grace' })]);
    expect(lagging.changes).toEqual([]);
    expect(fleet.check({ before, changes: lagging.changes, samples, converged: true })).toEqual([]);

    // A minute later on the sandbox clock the instance is listed, and the pass has nothing to keep or change.
    await fleet.advance(61);
    const settled = fleet.view();
    const visible = await fleet.reconcile('visible');
    fleet.sandbox.faults.set({ rules: [] });
    expect(visible.run.code, visible.run.stderr).toBe(0);
    const report = parseReport(visible.run);
    expect([report.targets[0]!.kept, report.targets[0]!.revoke, report.targets[0]!.add]).toEqual([[], [], []]);
    expect(fleet.check({ before: settled, changes: visible.changes, converged: true })).toEqual([]);
  });
});
