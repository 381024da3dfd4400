/**
 * A pool group that does not exist (a typo in sgsync.yaml, or a group
 * deleted): DescribeSecurityGroupRules answers its id with no rules, as for
 * an empty group, so each command must find out otherwise and say so.
 */
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { spreadStart } from '../../src/core/capacity.js';
import { AgentFleet, poolConfig, problemLines } from './agent-harness.js';
import { killStragglers, parseReport, PRIMARY, rulesByInstance, startFleet, type Fleet } from './controller-fleet.js';

vi.setConfig({ testTimeout: 120_000 });

/** Well formed, and no group of the sandbox's. */
const TYPO = 'sg-0123456789abcdef0';

let fleet: Fleet | undefined;
afterEach(async () => {
  killStragglers();
  await fleet?.close();
  fleet = undefined;
});

/** The fleet's config with `groups` as the pool of its one target. */
function pool(f: Fleet, groups: string[], members = '{ role: worker }'): void {
  writeFileSync(
    f.config,
    `deployment: e2e
targets:
  - name: api
    region: ${PRIMARY}
    groups: [${groups.join(', ')}]
    ports: [443/tcp]
    members:
      regions: [eu-west-1, ap-southeast-2]
      tags: ${members}
safety: { graceSeconds: 300, revokeLimit: { count: 50, fraction: 1 } }
`,
  );
}

async function faults(f: Fleet, rules: unknown[]): Promise<void> {
  const res = await fetch(`${f.url}/_sandbox/faults`, { method: 'PUT', body: JSON.stringify({ rules }) });
  expect(res.status).toBe(200);
}
const denyGroupListing = [{ action: 'DescribeSecurityGroups', error: { code: 'UnauthorizedOperation' } }];
const counted = (f: Fleet, action: string) => f.running.sandbox.counters.snapshot()[PRIMARY]?.[action] ?? { calls: 0, ok: 0, failed: 0, throttled: 0, faulted: 0 };
const NAMED = (key: string) => new RegExp(`Security group ${TYPO} \\(${key.replace(/[[\].]/g, '\\$&')} in [^)]*sgsync\\.yaml\\) does not exist in us-east-1`);

describe('sgsync status', () => {
  it('names a pool group that does not exist, and where the configuration lists it, as needing attention, with nothing to add', async () => {
    const f = (fleet = await startFleet());
    // The second group holds no foreign rule: nothing else needs attention.
    pool(f, [TYPO, f.pool[1]], '{ role: nobody }');

    const text = await f.sgsync(['status']);
    expect(text.code, text.stderr).toBe(10);
    expect(text.stdout).toMatch(new RegExp(`${TYPO} +ipv4 +DOES NOT EXIST`));
    expect(text.stdout).toMatch(NAMED('targets[0].groups[0]'));
    expect(text.stdout).not.toContain('All is well');

    const json = await f.sgsync(['status', '--json']);
    expect(json.code).toBe(10);
    const out = JSON.parse(json.stdout) as { ok: boolean; attention: string[]; targets: { missing: string[] }[] };
    expect(out).toMatchObject({ ok: false, targets: [{ missing: [TYPO] }] });
    expect(out.attention).toEqual([expect.stringMatching(NAMED('targets[0].groups[0]'))]);
  });
});

describe('sgsync plan and reconcile', () => {
  it('place nothing in a group that does not exist and say why; its members go to the groups that exist', async () => {
    const f = (fleet = await startFleet());
    pool(f, [TYPO, ...f.pool]);
    const workers = [...(await f.launch('eu-west-1', 4)), ...(await f.launch('ap-southeast-2', 4))];

    const plan = await f.sgsync(['plan', '--json']);
    const planned = parseReport(plan);
    expect(plan.code).toBe(1);
    expect(planned.targets[0]!.add.map((a) => a.instanceId).sort()).toEqual([...workers].sort());
    expect(planned.targets[0]!.add.filter((a) => (a as { groupId?: string }).groupId === TYPO)).toEqual([]);
    expect(planned.errors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', message: expect.stringMatching(NAMED('targets[0].groups[0]')) as unknown })]);
    expect(planned.outcome).toBe('incomplete');
    // One listing of the pool's groups, in the target's region, beside the rule reads.
    expect(planned.calls?.DescribeSecurityGroups).toBe(1);

    const text = await f.sgsync(['reconcile']);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(new RegExp(`${TYPO} +ipv4 +60 +- +- +- +- +DOES NOT EXIST`));
    expect(text.stdout).toMatch(/Error: Security group sg-0123456789abcdef0 \(targets\[0\]\.groups\[0\]/);
    // Every member admitted, and no authorize was sent to the group that does not exist.
    expect([...rulesByInstance(await f.poolRules())].sort()).toEqual(workers.map((id) => [id, 1]).sort());
    expect(counted(f, 'AuthorizeSecurityGroupIngress').failed).toBe(0);

    // With nothing left to add it still says so: the configuration is wrong until someone fixes it.
    const again = parseReport(await f.sgsync(['reconcile', '--json']));
    expect(again).toMatchObject({ outcome: 'incomplete', summary: { add: 0, revoke: 0, missing: 1 } });
  });

  it('work as before when the role may not list groups, and warn that the groups were not checked and what to add', async () => {
    const f = (fleet = await startFleet());
    await faults(f, denyGroupListing);
    const workers = await f.launch('eu-west-1', 3);

    const run = await f.sgsync(['reconcile', '--json']);
    const report = parseReport(run);
    expect(run.code, run.stderr).toBe(0);
    expect(report.outcome).toBe('applied');
    expect(report.warnings).toEqual([expect.stringMatching(/^Could not check that the pool groups exist in us-east-1 \(AWS denied ec2:DescribeSecurityGroups\).*Add ec2:DescribeSecurityGroups to the role/)]);
    expect([...rulesByInstance(await f.poolRules())].sort()).toEqual(workers.map((id) => [id, 1]).sort());
  });

  it('without the listing, find a group that does not exist when AWS refuses a rule there, and admit its members elsewhere', async () => {
    const f = (fleet = await startFleet());
    await faults(f, denyGroupListing);
    pool(f, [TYPO, ...f.pool]);
    const workers = await f.launch('eu-west-1', 8);

    const run = await f.sgsync(['reconcile', '--json']);
    const report = parseReport(run);
    expect(run.code).toBe(1);
    expect([...rulesByInstance(await f.poolRules())].sort()).toEqual(workers.map((id) => [id, 1]).sort());
    expect(report.errors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', message: expect.stringMatching(NAMED('targets[0].groups[0]')) as unknown })]);
    expect(report.warnings).toEqual([expect.stringContaining('Add ec2:DescribeSecurityGroups')]);
  });
});

describe('sgsync controller run --once', () => {
  it('warns once that the groups could not be checked, and the pass is done', async () => {
    const f = (fleet = await startFleet());
    await faults(f, denyGroupListing);
    await f.launch('eu-west-1', 1);
    const run = await f.sgsync(['controller', 'run', '--once']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.split('\n').filter((l) => l.includes('Could not check that the pool groups exist'))).toHaveLength(1);
  });
});

describe('sgsync agent register', () => {
  let agents: AgentFleet | undefined;
  afterEach(async () => {
    await agents?.close();
    agents = undefined;
  });

  it('admits the instance to another group of the pool when its own does not exist, and warns naming where it is configured', async () => {
    agents = await AgentFleet.start({ seed: 9 });
    const [real] = await agents.groups('us-east-1', 1);
    const [id] = await agents.launch('eu-west-1', 1);
    // The typo goes where the instance's id starts its search.
    const groups = spreadStart(id!, 2) === 0 ? [TYPO, real!] : [real!, TYPO];
    const config = agents.config('sgsync.yaml', poolConfig(groups, agents.url));

    const run = await agents.run(id!, ['agent', 'register', '-c', config]);
    expect(run.code, run.stderr).toBe(0);
    expect((await agents.rules('us-east-1', [real!])).map((r) => r.Tags?.find((t) => t.Key === 'sgsync:instance')?.Value)).toEqual([id]);
    expect(problemLines(run.stderr).join('\n')).toMatch(NAMED(`targets[0].groups[${groups.indexOf(TYPO)}]`));
  });

  it('exits 1 saying no group of the pool exists when none does', async () => {
    agents = await AgentFleet.start({ seed: 9 });
    const [id] = await agents.launch('eu-west-1', 1);
    const config = agents.config('only-typo.yaml', poolConfig([TYPO], agents.url));
    const run = await agents.run(id!, ['agent', 'register', '-c', config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`No group of the pool of target api exists, so ${id} cannot be admitted: Security group ${TYPO} \\(targets\\[0\\]\\.groups\\[0\\]`));
  });
});
