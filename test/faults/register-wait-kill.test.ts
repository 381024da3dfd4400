import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { faultsConfigSchema } from '../../src/sandbox/faults.js';
import type { CliRun } from '../e2e/agent-harness.js';
import { FaultFleet, PRIMARY } from './fault-fleet.js';

const DESCRIBE = 'DescribeSecurityGroupRules';
const AUTHORIZE = 'AuthorizeSecurityGroupIngress';

const held = (action: string, rulesLagSeconds = 0) =>
  faultsConfigSchema.parse({ rules: [{ action, region: PRIMARY, latencyMs: 3000 }], readLag: { rulesSeconds: rulesLagSeconds } });

/** The instance's managed rules, as the checker sees the world. */
const rulesOf = (fleet: FaultFleet, id: string) => fleet.view().rules.filter((r) => r.instanceId === id);

/** No error or fatal line among a process's log lines on stderr (JSON lines, pino levels: 50 error, 60 fatal). */
function errorLines(run: CliRun): string[] {
  return run.stderr.split('\n').filter((l) => !l.startsWith('{') ? l.trim() !== '' : ((JSON.parse(l) as { level?: number }).level ?? 0) >= 50);
}

/**
 * `agent register --wait` has three moments a kill can meet: its authorize
 * in flight, its rule landed and being looked for (the look that would let it
 * print), and its rule landed but not listed yet while it polls. Each is held
 * in the sandbox (the call answers 3 s late) or reached by counting calls, so
 * the kill lands there however slowly a loaded machine runs the agent.
 */
describe('agent register --wait killed with SIGKILL', () => {
  let fleet: FaultFleet;
  afterAll(() => fleet?.close());

  it.each([
    ['with its authorize in flight', AUTHORIZE],
    ['after its authorize was answered, with the look that would let it print in flight', DESCRIBE],
  ])('%s: a fresh register and a reconcile converge, with one rule and no error', async (_name, heldAction) => {
    fleet ??= await FaultFleet.start({ seed: 131 });
    if (fleet.view().members.length === 0) {
      await fleet.launch('eu-west-1', 3);
      expect((await fleet.reconcile('initial')).run.code).toBe(0);
    }
    const [id] = await fleet.launch('eu-west-1', 1);
    const before = fleet.view();
    const watch = fleet.watch();
    if (heldAction === AUTHORIZE) fleet.sandbox.faults.set(held(AUTHORIZE));
    // The describe after the authorize is held: the fault is set as the authorize arrives, before its answer can go out.
    else void fleet.arrival(AUTHORIZE).then(() => fleet.sandbox.faults.set(held(DESCRIBE)));
    const agent = fleet.agent(id!, ['register', '--wait']);
    await fleet.arrival(heldAction, heldAction === DESCRIBE ? 2 : 1);
    agent.proc.kill('SIGKILL');
    const killed = await agent.done;
    await fleet.quiet();
    fleet.sandbox.faults.set({ rules: [] });
    const samples = watch.stop();

    expect(killed.code, 'killed before it printed').toBe(-1);
    expect(killed.stdout).toBe('');
    expect(rulesOf(fleet, id!), 'the authorization landed, once').toHaveLength(1);
    expect(fleet.check({ before, changes: fleet.changes([], [killed]), changesComplete: false, samples })).toEqual([]);

    const settled = fleet.view();
    const again = await fleet.agent(id!, ['register', '--wait']).done;
    expect(again.code, again.stderr).toBe(0);
    expect(errorLines(again)).toEqual([]);
    // Already registered: one look and no mutating call, as for any instance whose rule is in place.
    expect(JSON.parse(again.stdout)).toMatchObject({ changes: [], calls: { DescribeSecurityGroupRules: 1 } });
    expect((JSON.parse(again.stdout) as { calls: object }).calls).not.toHaveProperty(AUTHORIZE);
    const next = await fleet.reconcile(`after-${heldAction}`);
    expect(next.run.code, next.run.stderr).toBe(0);
    expect(next.changes).toEqual([]);
    expect(rulesOf(fleet, id!)).toHaveLength(1);
    expect(fleet.check({ before: settled, changes: fleet.changes([next.audit], [again]), converged: true })).toEqual([]);
  });
});

describe('agent register --wait killed with SIGKILL while it waits for a rule the reads do not list yet', () => {
  let fleet: FaultFleet | undefined;
  afterEach(() => fleet?.close());

  it('a fresh register --wait finds the rule exists, makes no second one, and still waits until it is listed', async () => {
    fleet = await FaultFleet.start({ seed: 132 });
    const f = fleet;
    await f.launch('eu-west-1', 3);
    expect((await f.reconcile('initial')).run.code).toBe(0);
    const [id] = await f.launch('eu-west-1', 1);
    // New rules stay out of DescribeSecurityGroupRules for 60 s of the sandbox's clock, which the test moves.
    f.sandbox.faults.set(faultsConfigSchema.parse({ rules: [], readLag: { rulesSeconds: 60 } }));
    const before = f.view();
    const watch = f.watch();
    const agent = f.agent(id!, ['register', '--wait']);
    // The pass's look, the look after the authorize (not listed), a second after a poll's sleep: it is waiting.
    await f.arrival(DESCRIBE, 3);
    agent.proc.kill('SIGKILL');
    const killed = await agent.done;
    await f.quiet();

    expect(killed.code).toBe(-1);
    expect(killed.stdout).toBe('');
    expect(rulesOf(f, id!)).toHaveLength(1);
    expect(f.check({ before, changes: f.changes([], [killed]), changesComplete: false, samples: watch.stop() })).toEqual([]);

    // AWS answers Duplicate for the unlisted rule: the pass looks again for its 8 rounds, then asks for it alone.
    // Past those rounds the agent is polling, for it promised to return once the rule is observable.
    const settled = f.view();
    const again = f.agent(id!, ['register', '--wait']);
    const waiting = await Promise.race([f.arrival(DESCRIBE, 10).then(() => true), again.done.then(() => false)]);
    expect(waiting, 'register --wait returned while its rule was not listed').toBe(true);
    expect(rulesOf(f, id!), 'no second rule').toHaveLength(1);
    await f.advance(61);
    const run = await again.done;
    expect(run.code, run.stderr).toBe(0);
    expect(errorLines(run)).toEqual([]);
    expect((JSON.parse(run.stdout) as { changes: unknown[] }).changes).toEqual([]);

    const next = await f.reconcile('after-wait');
    expect(next.run.code, next.run.stderr).toBe(0);
    expect(next.changes).toEqual([]);
    expect(rulesOf(f, id!)).toHaveLength(1);
    expect(f.check({ before: settled, changes: f.changes([next.audit], [run]), converged: true })).toEqual([]);
  });
});
