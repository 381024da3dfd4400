import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultsConfigSchema } from '../../src/sandbox/faults.js';
import { AgentFleet, poolConfig, type CliRun } from './agent-harness.js';

let fleet: AgentFleet;
let pool: string[];
let elsewhere: string[];
let worker: string;
let closedPort: number;

beforeAll(async () => {
  fleet = await AgentFleet.start({ seed: 21 });
  pool = await fleet.groups('us-east-1', 1);
  elsewhere = await fleet.groups('us-west-2', 1);
  [worker] = (await fleet.launch('eu-west-1', 1)) as [string];
  // A port that nothing listens on: an IMDS that cannot be reached.
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  closedPort = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
});
afterAll(() => fleet.close());

/** Every rule and every rule-changing call the sandbox saw, to show that nothing changed. */
async function world() {
  const rules = async (region: string) => (await fleet.rules(region, region === 'us-east-1' ? pool : elsewhere)).map((r) => r.SecurityGroupRuleId).sort();
  const changed = (action: string) => fleet.counts('us-east-1', action).ok + fleet.counts('us-west-2', action).ok;
  return { east: await rules('us-east-1'), west: await rules('us-west-2'), authorized: changed('AuthorizeSecurityGroupIngress'), revoked: changed('RevokeSecurityGroupIngress') };
}

interface Case {
  what: string;
  exit: number;
  says: RegExp;
  run: () => Promise<CliRun>;
}

const register = (id: string, config: string, env: Record<string, string> = {}) => fleet.run(id, ['agent', 'register', '-c', config], env);

const cases: Case[] = [
  {
    what: 'a configuration with an invalid port',
    exit: 3,
    says: /bad\.yaml:6:\d+ .*ports/,
    run: () => register(worker, fleet.config('bad.yaml', poolConfig(pool, fleet.url).replace('ports: [443]', 'ports: [70000]'))),
  },
  {
    what: 'an instance metadata service that cannot be reached',
    exit: 7,
    says: /instance metadata service \(IMDSv2\).*ECONNREFUSED/,
    run: () => register(worker, fleet.config('ok.yaml', poolConfig(pool, fleet.url)), { AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${closedPort}/` }),
  },
  {
    what: 'a group that lives in another region than the target says',
    exit: 1,
    says: /Security group sg-\w+ does not exist in us-east-1\. Security groups are regional/,
    run: () => register(worker, fleet.config('region.yaml', poolConfig(elsewhere, fleet.url))),
  },
  {
    what: 'a role without ec2:AuthorizeSecurityGroupIngress',
    exit: 4,
    says: /AWS denied ec2:AuthorizeSecurityGroupIngress in us-east-1 on sg-\w+/,
    run: async () => {
      fleet.sandbox.faults.set({ rules: [{ action: 'AuthorizeSecurityGroupIngress', region: '*', error: { code: 'UnauthorizedOperation', rate: 1 }, internalErrorRate: 0, unavailableRate: 0, latencyMs: 0, jitterMs: 0, dropRate: 0 }] });
      try {
        return await register(worker, fleet.config('ok.yaml', poolConfig(pool, fleet.url)));
      } finally {
        fleet.sandbox.faults.set({ rules: [] });
      }
    },
  },
  {
    what: 'an instance without a public address on a public target',
    exit: 1,
    says: /target api: .*public.*Nothing was authorized\./,
    run: async () => {
      const [id] = await fleet.launch('eu-west-1', 1, { role: 'worker' }, { NetworkInterfaces: [{ DeviceIndex: 0, AssociatePublicIpAddress: false }] });
      return register(id!, fleet.config('ok.yaml', poolConfig(pool, fleet.url)));
    },
  },
];

describe('sgsync agent register refuses clearly and changes nothing', () => {
  it.each(cases)('on $what: exit $exit', async ({ exit, says, run }) => {
    const before = await world();
    const result = await run();
    expect(result.code, result.stderr).toBe(exit);
    expect(result.stderr).toMatch(says);
    expect(result.stderr.trim().split('\n').filter((l) => l.startsWith('sgsync:'))).toHaveLength(1);
    expect(result.stdout).toBe('');
    expect(await world()).toEqual(before);
  });
});

describe('sgsync agent register while AWS keeps throttling', () => {
  it('logs each further round with the refusal as it goes, then exits 6', async () => {
    fleet.sandbox.faults.set(faultsConfigSchema.parse({ rules: [{ action: 'AuthorizeSecurityGroupIngress', error: { code: 'RequestLimitExceeded', status: 503 } }] }));
    try {
      const result = await register(worker, fleet.config('no-retries.yaml', poolConfig(pool, fleet.url, 'agent:\n  retries: 0')));
      expect(result.code, result.stderr).toBe(6);
      const rounds = result.stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level?: number; msg?: string; round?: number })
        .filter((l) => l.msg?.includes('looking again'));
      expect(rounds.map((l) => [l.level, l.round])).toEqual([2, 3, 4, 5, 6, 7, 8].map((round) => [30, round]));
      expect(rounds[0]?.msg).toMatch(/^AWS refused a change \(.*\); looking again, round 2 of at most 8$/);
    } finally {
      fleet.sandbox.faults.set({ rules: [] });
    }
  });
});
