import { UnassignIpv6AddressesCommand, type SecurityGroupRule } from '@aws-sdk/client-ec2';
import ipaddr from 'ipaddr.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultVpc } from '../../src/sandbox/actions/lookup.js';
import { ipv6BlockOf } from '../../src/sandbox/addresses.js';
import { AgentFleet, poolConfig } from './agent-harness.js';

// The agent and the controller on one instance with several IPv6 addresses, each a real process, in turns.
vi.setConfig({ testTimeout: 120_000 });

let fleet: AgentFleet;
let pool: string[];
let config: string;

beforeAll(async () => {
  fleet = await AgentFleet.start({ seed: 5 });
  pool = await fleet.groups('us-east-1', 1);
  config = fleet.config('ipv6.yaml', poolConfig(pool, fleet.url).replace('ports: [443]', 'ports: [443]\n    families: [ipv6]'));
});
afterAll(() => fleet.close());

const tagsOf = (r: SecurityGroupRule) => Object.fromEntries((r.Tags ?? []).map((t) => [t.Key ?? '', t.Value]));

/** The instance's rules, as `rule id cidr`, sorted. */
async function rulesOf(id: string): Promise<string[]> {
  const mine = (await fleet.rules('us-east-1', pool)).filter((r) => tagsOf(r)['sgsync:instance'] === id);
  return mine.map((r) => `${r.SecurityGroupRuleId} ${r.CidrIpv6 ?? r.CidrIpv4}`).sort();
}

/** Host `host` of the subnet of eu-west-1b in the default VPC, where every instance here is launched. */
function address(host: string): string {
  const [base] = ipaddr.IPv6.parseCIDR(ipv6BlockOf(defaultVpc(fleet.sandbox.world.region('eu-west-1')!)!));
  const parts = base.parts.slice(0, 4);
  parts[3] = (parts[3]! & 0xff00) | 1;
  return ipaddr.IPv6.parse(`${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toString().replace(/::$/, '')}::${host}`).toString();
}

/** A worker whose interface holds `hosts` (as assigned, in that order). */
async function worker(...hosts: string[]): Promise<string> {
  const [id] = await fleet.launch('eu-west-1', 1, { role: 'worker' }, { Ipv6Addresses: hosts.map((h) => ({ Ipv6Address: address(h) })) });
  return id!;
}

const agent = async (id: string) => {
  const run = await fleet.run(id, ['agent', 'register', '-c', config]);
  expect(run.code, run.stderr).toBe(0);
};
const controller = async (id: string) => {
  const run = await fleet.run(id, ['reconcile', '-c', config]);
  expect(run.code, run.stderr).toBe(0);
};

/** Runs the passes in turn and the instance's rules after each: a pass that changes them makes this differ from one line repeated. */
async function history(id: string, passes: ((id: string) => Promise<void>)[]): Promise<string[][]> {
  const seen: string[][] = [];
  for (const pass of passes) {
    await pass(id);
    seen.push(await rulesOf(id));
  }
  return seen;
}

describe('an instance with several IPv6 addresses', () => {
  it('keeps the rule the agent registered through controller passes and further registrations', async () => {
    // IMDS shows c first (the first assigned); DescribeInstances lists a, b, c.
    const id = await worker('c', 'a', 'b');
    const seen = await history(id, [agent, controller, agent, controller]);
    expect(seen[0]).toHaveLength(1);
    expect(seen).toEqual([seen[0], seen[0], seen[0], seen[0]]);
    // The one address both sides choose: the lowest of the primary interface.
    expect(seen[0]![0]).toMatch(new RegExp(` ${address('a')}/128$`));
  });

  it('keeps the rule a controller pass made through agent registrations and further passes', async () => {
    const id = await worker('f', 'd', 'e');
    const seen = await history(id, [controller, agent, controller, agent]);
    expect(seen[0]).toHaveLength(1);
    expect(seen).toEqual([seen[0], seen[0], seen[0], seen[0]]);
  });

  it('moves the rule when its address is taken off the instance, and then both sides leave it', async () => {
    const id = await worker('11', '10', '12');
    await agent(id);
    const [before] = await rulesOf(id);
    expect(before).toMatch(new RegExp(` ${address('10')}/128$`));
    const eni = `eni-${id.slice(2)}`;
    await fleet.ec2('eu-west-1').send(new UnassignIpv6AddressesCommand({ NetworkInterfaceId: eni, Ipv6Addresses: [address('10')] }));

    const seen = await history(id, [controller, agent, controller]);
    expect(seen[0]).toHaveLength(1);
    expect(seen[0]![0]).toMatch(new RegExp(` ${address('11')}/128$`));
    expect(seen).toEqual([seen[0], seen[0], seen[0]]);
  });
});
