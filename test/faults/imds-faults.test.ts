import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemLines } from '../e2e/agent-harness.js';
import { FaultFleet, PRIMARY, until } from './fault-fleet.js';

const sum = (counts: Record<string, { ok: number; failed: number; faulted: number }> | undefined, field: 'ok' | 'failed' | 'faulted', kind: string) => counts?.[kind]?.[field] ?? 0;

describe('the agent when the instance metadata service misbehaves', () => {
  let fleet: FaultFleet;
  beforeAll(async () => {
    fleet = await FaultFleet.start({ seed: 61 });
  });
  afterAll(() => fleet?.close());

  it('exits 7 (not on an instance) with one clear line when IMDS is down, and changes nothing', async () => {
    const [id] = await fleet.launch('eu-west-1', 1);
    const before = fleet.view();
    const calls = fleet.fleet.counts(PRIMARY, 'DescribeSecurityGroupRules').calls;
    fleet.sandbox.faults.setImds({ down: true, latencyMs: 0, jitterMs: 0, rejectTokens: false });
    const run = await fleet.agent(id!).done;
    fleet.sandbox.faults.setImds({ down: false, latencyMs: 0, jitterMs: 0, rejectTokens: false });

    expect(run.code).toBe(7);
    const lines = problemLines(run.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^sgsync: Could not read .* from the instance metadata service \\(IMDSv2\\) at http://127\\.0\\.0\\.1:\\d+/imds/${id}/: .*AWS_EC2_METADATA_SERVICE_ENDPOINT`));
    expect(sum(fleet.sandbox.imdsCounters.snapshot()[id!], 'faulted', 'token')).toBeGreaterThan(0);
    expect(fleet.fleet.counts(PRIMARY, 'DescribeSecurityGroupRules').calls, 'no EC2 call without knowing the instance').toBe(calls);
    expect(fleet.check({ before, changes: [], admission: 'admitted-before' })).toEqual([]);
    // The instance never got its rule; it goes, so the next cases start from a converged world.
    await fleet.fleet.ec2('eu-west-1').send(new TerminateInstancesCommand({ InstanceIds: [id!] }));
  });

  it('registers when IMDS is slow but answers within its timeout', async () => {
    const [id] = await fleet.launch('eu-west-1', 1);
    const before = fleet.view();
    fleet.sandbox.faults.setImds({ down: false, latencyMs: 600, jitterMs: 300, rejectTokens: false });
    const run = await fleet.agent(id!).done;
    fleet.sandbox.faults.setImds({ down: false, latencyMs: 0, jitterMs: 0, rejectTokens: false });

    expect(run.code, run.stderr).toBe(0);
    expect(problemLines(run.stderr)).toEqual([]);
    expect(fleet.check({ before, changes: fleet.changes([], [run]), converged: true })).toEqual([]);
  });

  it('answers a 401 to its stale token by fetching one new token, and registers', async () => {
    const [id] = await fleet.launch('eu-west-1', 1);
    const before = fleet.view();
    // Slow answers keep the agent's reads in flight long enough to make its first token stale under them.
    fleet.sandbox.faults.setImds({ down: false, latencyMs: 300, jitterMs: 0, rejectTokens: false });
    const agent = fleet.agent(id!);
    await until('the agent has its first token', () => sum(fleet.sandbox.imdsCounters.snapshot()[id!], 'ok', 'token') === 1);
    fleet.sandbox.faults.setImds({ down: false, latencyMs: 300, jitterMs: 0, rejectTokens: true });
    const run = await agent.done;
    fleet.sandbox.faults.setImds({ down: false, latencyMs: 0, jitterMs: 0, rejectTokens: false });

    const imds = fleet.sandbox.imdsCounters.snapshot()[id!];
    expect(run.code, run.stderr).toBe(0);
    expect(problemLines(run.stderr)).toEqual([]);
    expect(sum(imds, 'failed', 'read'), 'reads refused with 401').toBeGreaterThan(0);
    expect(sum(imds, 'ok', 'token'), 'tokens issued: the first and exactly one more').toBe(2);
    expect(fleet.check({ before, changes: fleet.changes([], [run]), converged: true })).toEqual([]);
  });
});
