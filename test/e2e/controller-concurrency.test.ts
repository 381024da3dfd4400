import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { killStragglers, parseReport, rulesByInstance, startFleet, type Fleet, type Run } from './controller-fleet.js';

/** Agents started at once with a controller, all writing to one pool at the same moment. */
const AGENTS = 50;

let fleet: Fleet | undefined;
afterEach(async () => {
  killStragglers();
  await fleet?.close();
  fleet = undefined;
});

/** Error lines a user would see on stderr (pino JSON at level 50 or more, or an sgsync: message). */
function errorsShown(run: Run): string[] {
  return run.stderr.split('\n').filter((l) => /"level":(50|60)/.test(l) || l.startsWith('sgsync:'));
}

describe('sgsync reconcile alongside others, without locks', () => {
  it('two controllers at once converge on one rule per member, with no errors', { timeout: 180_000 }, async () => {
    const f = (fleet = await startFleet());
    const members = [...(await f.launch('eu-west-1', 8)), ...(await f.launch('ap-southeast-2', 6))];
    const runs = await Promise.all([f.spawn(['reconcile', '--json']), f.spawn(['reconcile', '--json'])]);

    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(errorsShown(run)).toEqual([]);
      expect(parseReport(run).outcome).toMatch(/^(applied|in-sync)$/);
    }
    expect([...rulesByInstance(await f.poolRules())].sort()).toEqual(members.map((id) => [id, 1]).sort());

    // And again while instances go: both revoke the same rules, neither complains.
    await f.ec2('eu-west-1').send(new TerminateInstancesCommand({ InstanceIds: members.slice(0, 3) }));
    const again = await Promise.all([f.spawn(['reconcile']), f.spawn(['reconcile'])]);
    for (const run of again) {
      expect(run.code, run.stderr).toBe(0);
      expect(errorsShown(run)).toEqual([]);
    }
    expect([...rulesByInstance(await f.poolRules()).keys()].sort()).toEqual(members.slice(3).sort());
    expect((await f.sgsync(['plan'])).code).toBe(0);
  });

  it(`a controller and ${AGENTS} agents registering at once converge on one rule per member, with no errors`, { timeout: 300_000 }, async () => {
    const f = (fleet = await startFleet());
    const agents = [...(await f.launch('eu-west-1', AGENTS / 2)), ...(await f.launch('ap-southeast-2', AGENTS / 2))];
    const controllerOnly = await f.launch('eu-west-1', 4);

    const runs = await Promise.all([
      f.spawn(['reconcile']),
      ...agents.map((id) => f.spawn(['agent', 'register'], { AWS_EC2_METADATA_SERVICE_ENDPOINT: `${f.url}/imds/${id}/` })),
    ]);
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(errorsShown(run)).toEqual([]);
    }
    expect([...rulesByInstance(await f.poolRules())].sort()).toEqual([...agents, ...controllerOnly].map((id) => [id, 1]).sort());
    expect((await f.sgsync(['plan'])).code).toBe(0);
  });
});
