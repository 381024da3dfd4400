import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Params } from '../../src/sandbox/query.js';
import { AgentFleet, poolConfig, problemLines, type CliRun } from './agent-harness.js';

/*
 * Agents run as real processes, at most PARALLEL at a time: every one costs
 * about a second of CPU to start (the AWS SDK), and the machine is shared.
 */
const PARALLEL = 50;

const tagOf = (r: { Tags?: { Key?: string; Value?: string }[] }, key: string) => r.Tags?.find((t) => t.Key === key)?.Value;

function expectAllSucceeded(runs: CliRun[]): void {
  const failed = runs.filter((r) => r.code !== 0 || problemLines(r.stderr).length > 0);
  expect(failed.map((r) => `exit ${r.code}: ${problemLines(r.stderr).join(' | ')}`)).toEqual([]);
}

/** One rule per instance, each with that instance's own public address, and no address twice. */
async function expectOneRuleEach(fleet: AgentFleet, pool: string[], ids: readonly string[]): Promise<void> {
  const rules = await fleet.rules('us-east-1', pool);
  const byInstance = new Map<string, string[]>();
  for (const r of rules) byInstance.set(tagOf(r, 'sgsync:instance') ?? '?', [...(byInstance.get(tagOf(r, 'sgsync:instance') ?? '?') ?? []), r.CidrIpv4 ?? '']);
  const instances = fleet.sandbox.world.region('eu-west-1')!.instances;
  expect(rules).toHaveLength(ids.length);
  expect([...byInstance.keys()].sort()).toEqual([...ids].sort());
  for (const [id, cidrs] of byInstance) expect(cidrs).toEqual([`${instances.get(id)?.publicIp}/32`]);
  expect(new Set(rules.map((r) => r.CidrIpv4)).size).toBe(ids.length);
}

describe('150 agents registering at once into a pool of three groups of 60', () => {
  let fleet: AgentFleet;
  let pool: string[];
  let config: string;
  let ids: string[];

  beforeAll(async () => {
    fleet = await AgentFleet.start({ seed: 11 });
    pool = await fleet.groups('us-east-1', 3);
    for (const g of pool) fleet.sandbox.world.region('us-east-1')!.groups.get(g)!.quota = 60;
    config = fleet.config('sgsync.yaml', poolConfig(pool, fleet.url));
    ids = [...(await fleet.launch('eu-west-1', 100)), ...(await fleet.launch('eu-west-1', 81))];
  });
  afterAll(() => fleet.close());

  it('places 150 rules, one per instance, with no error shown to any agent', async () => {
    const runs = await fleet.runAll(ids.slice(0, 150), ['agent', 'register', '-c', config], PARALLEL);
    expectAllSucceeded(runs);
    await expectOneRuleEach(fleet, pool, ids.slice(0, 150));
    for (const g of pool) expect((await fleet.rules('us-east-1', [g])).length).toBeLessThanOrEqual(60);
  }, 600_000);

  it('fills the pool to 180 with 30 more', async () => {
    const runs = await fleet.runAll(ids.slice(150, 180), ['agent', 'register', '-c', config], PARALLEL);
    expectAllSucceeded(runs);
    await expectOneRuleEach(fleet, pool, ids.slice(0, 180));
    for (const g of pool) expect(await fleet.rules('us-east-1', [g])).toHaveLength(60);
  }, 300_000);

  it('refuses the 181st with the capacity exit code, saying how full the pool is, and changes nothing', async () => {
    const authorized = fleet.counts('us-east-1', 'AuthorizeSecurityGroupIngress').ok;
    const late = await fleet.run(ids[180]!, ['agent', 'register', '-c', config, '--json']);
    expect(late.code).toBe(5);
    expect(late.stderr).toContain(`No group in the pool has room for ${ids[180]}`);
    expect(late.stderr).toContain('(180 of 180 used)');
    expect(JSON.parse(late.stdout)).toMatchObject({ instanceId: ids[180], targets: ['api'], changes: [], error: { code: 'CAPACITY_EXHAUSTED', message: expect.stringContaining('(180 of 180 used)') } });
    expect(fleet.counts('us-east-1', 'AuthorizeSecurityGroupIngress').ok).toBe(authorized);
    await expectOneRuleEach(fleet, pool, ids.slice(0, 180));
  }, 120_000);
});

describe('agents on a bad day at AWS', () => {
  const AGENTS = 30;
  let fleet: AgentFleet;
  let pool: string[];
  let config: string;

  beforeAll(async () => {
    fleet = await AgentFleet.start({ seed: 12 });
    pool = await fleet.groups('us-east-1', 2);
    config = fleet.config('sgsync.yaml', poolConfig(pool, fleet.url));
  });
  afterAll(() => fleet.close());

  it('all register under AWS-style throttling, arriving after the buckets were spent', async () => {
    const ids = await fleet.launch('eu-west-1', AGENTS);
    // AWS's bucket sizes with refills ten times slower (aws:0.1: authorize and
    // revoke share 0.5 tokens per second, describes get 2), both buckets
    // spent first, as by a large fleet that booted a moment earlier: the
    // agents here start about one per second, so without that they would
    // never meet a throttle.
    fleet.sandbox.throttle.mode = { kind: 'aws', scale: 0.1 };
    const params = Params.parse('Filter.1.Name=group-id');
    while (fleet.sandbox.throttle.take('us-east-1', 'AuthorizeSecurityGroupIngress', params));
    while (fleet.sandbox.throttle.take('us-east-1', 'DescribeSecurityGroupRules', params));

    const runs = await fleet.runAll(ids, ['agent', 'register', '-c', config], AGENTS);
    fleet.sandbox.throttle.mode = { kind: 'off' };
    expectAllSucceeded(runs);
    expect(fleet.counts('us-east-1', 'AuthorizeSecurityGroupIngress').throttled).toBeGreaterThan(0);
    await expectOneRuleEach(fleet, pool, ids);
  }, 600_000);

  it('all register and deregister when a fifth of the rule calls answer 503', async () => {
    const before = (await fleet.rules('us-east-1', pool)).length;
    const ids = await fleet.launch('eu-west-1', AGENTS);
    const actions = ['AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress', 'DescribeSecurityGroupRules'];
    fleet.sandbox.faults.set({ seed: 7, rules: actions.map((action) => ({ action, region: 'us-east-1', internalErrorRate: 0, unavailableRate: 0.2, latencyMs: 0, jitterMs: 0, dropRate: 0 })) });

    const registered = await fleet.runAll(ids, ['agent', 'register', '-c', config], AGENTS);
    expectAllSucceeded(registered);
    expect((await fleet.rules('us-east-1', pool)).length).toBe(before + AGENTS);
    const deregistered = await fleet.runAll(ids, ['agent', 'deregister', '-c', config], AGENTS);
    fleet.sandbox.faults.set({ rules: [] });

    expectAllSucceeded(deregistered);
    expect((await fleet.rules('us-east-1', pool)).length).toBe(before);
    for (const action of actions) expect(fleet.counts('us-east-1', action).faulted, action).toBeGreaterThan(0);
  }, 600_000);
});
