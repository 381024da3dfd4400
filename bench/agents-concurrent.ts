/**
 * Agents at fleet scale: N `sgsync agent register` processes (the built CLI,
 * dist/ — run `npm run build` first), at most P at a time, against an
 * in-process sandbox with AWS's throttling, all admitting themselves into one
 * target pool in us-east-1. Reports the wall time against the least time the
 * token buckets allow, the EC2 calls by action and outcome, how many agents
 * failed, and the calls one first registration, one repeated registration
 * and one deregistration make.
 *
 * The lower bound: every agent needs one DescribeSecurityGroupRules and one
 * AuthorizeSecurityGroupIngress in the target region. Authorize and revoke
 * share one bucket (50 tokens, 5 per second at scale 1) and describes have
 * their own (100, 20 per second), so N agents need at least
 * max((N − 50) / 5, (N − 100) / 20) / SCALE seconds, however they are spread.
 * Races for the last room in a group cost extra calls; the bound ignores them.
 *
 *   npx tsx bench/agents-concurrent.ts [agents=150] [parallel=50] [throttle=aws] [mode=process] [groups=3] [quota=60]
 *
 * `throttle` is `aws` (AWS's real bucket sizes and rates), `aws:SCALE`
 * (the same buckets, refills SCALE times faster) or `off`. `mode` is
 * `process` (each agent is an `sgsync agent register` process: the real
 * thing, but on a small machine the CPU to start N Node processes with the
 * AWS SDK dominates) or `inprocess` (each agent
 * is `register()` with its own EC2 clients and IMDS session in this process:
 * what AWS's buckets alone cost).
 */
import pLimit from 'p-limit';
import { register } from '../src/agent/register.js';
import { Ec2Adapter } from '../src/aws/ec2-adapter.js';
import { Imds } from '../src/aws/imds.js';
import { exitCodeFor } from '../src/cli/exit-codes.js';
import { loadConfig } from '../src/config/index.js';
import { isSgsyncError } from '../src/core/errors.js';
import { parseThrottleMode } from '../src/sandbox/throttle.js';
import type { CliRun } from '../test/e2e/agent-harness.js';
import { AgentFleet, poolConfig, problemLines } from '../test/e2e/agent-harness.js';

const AGENTS = Number(process.argv[2] ?? 150);
const PARALLEL = Number(process.argv[3] ?? 50);
const THROTTLE = parseThrottleMode(process.argv[4] ?? 'aws');
const MODE = process.argv[5] ?? 'process';
const GROUPS = Number(process.argv[6] ?? 3);
const QUOTA = Number(process.argv[7] ?? 60);
process.env.AWS_ACCESS_KEY_ID = 'sandbox';
process.env.AWS_SECRET_ACCESS_KEY = 'sandbox';

function bucketBound(agents: number, scale: number): number {
  return Math.max(0, (agents - 50) / 5, (agents - 100) / 20) / scale;
}

const fleet = await AgentFleet.start({ seed: 99 });
try {
  const pool = await fleet.groups('us-east-1', GROUPS);
  for (const g of pool) fleet.sandbox.world.region('us-east-1')!.groups.get(g)!.quota = QUOTA;
  const config = fleet.config('sgsync.yaml', poolConfig(pool, fleet.url).replace('    ports: [443]', `    ports: [443]\n    quota: ${QUOTA}`));
  const ids: string[] = [];
  while (ids.length < AGENTS + 1) ids.push(...(await fleet.launch('eu-west-1', Math.min(1000, AGENTS + 1 - ids.length))));
  const [probe, ...agents] = ids as [string, ...string[]];

  // One agent alone, throttling off: the calls of each kind of pass.
  const calls = async (args: string[]) => (JSON.parse((await fleet.run(probe, [...args, '-c', config, '--json'])).stdout) as { calls: Record<string, number> }).calls;
  const perPass = {
    'first register': await calls(['agent', 'register']),
    'repeated register': await calls(['agent', 'register']),
    deregister: await calls(['agent', 'deregister']),
  };
  console.log('EC2 calls of one agent (from its --json output):');
  for (const [what, c] of Object.entries(perPass)) console.log(`  ${what.padEnd(18)} ${Object.entries(c).map(([a, n]) => `${a} ${n}`).join(', ')}`);

  fleet.sandbox.counters.reset();
  fleet.sandbox.throttle.mode = THROTTLE;
  const started = performance.now();
  const loaded = await loadConfig({ configPath: config, env: {} });
  /** One agent in this process, with its own clients, reporting like the CLI would. */
  const inProcess = async (id: string): Promise<CliRun> => {
    const ec2 = new Ec2Adapter({ endpoint: fleet.url, maxAttempts: loaded.config.agent.retries + 1 });
    const instance = new Imds({ endpoint: fleet.running.imdsUrl(id) });
    try {
      await register({ config: loaded, ec2, instance, now: Date.now });
      return { code: 0, stdout: '', stderr: '' };
    } catch (e) {
      return isSgsyncError(e) ? { code: exitCodeFor(e.code), stdout: '', stderr: `sgsync: ${e.message}` } : { code: 1, stdout: '', stderr: `sgsync: ${String(e)}` };
    } finally {
      ec2.clients.destroy();
      instance.close();
    }
  };
  const limit = pLimit(PARALLEL);
  const runs =
    MODE === 'inprocess'
      ? await Promise.all(agents.map((id) => limit(() => inProcess(id))))
      : await fleet.runAll(agents, ['agent', 'register', '-c', config], PARALLEL);
  const seconds = (performance.now() - started) / 1000;

  const rules = await fleet.rules('us-east-1', pool);
  const byCode = new Map<number, number>();
  for (const r of runs) byCode.set(r.code, (byCode.get(r.code) ?? 0) + 1);
  const withProblems = runs.filter((r) => problemLines(r.stderr).length > 0);
  const scale = THROTTLE.kind === 'aws' ? THROTTLE.scale : Infinity;

  console.log(`\n${runs.length} agents (${MODE}), ${PARALLEL} at a time, throttle ${process.argv[4] ?? 'aws'}, pool ${GROUPS} × ${QUOTA}`);
  console.log(`  wall time            ${seconds.toFixed(1)} s`);
  console.log(`  token-bucket minimum ${Number.isFinite(scale) ? `${bucketBound(AGENTS, scale).toFixed(1)} s` : 'none (throttling off)'}`);
  console.log(`  exit codes           ${[...byCode].map(([c, n]) => `${c}: ${n}`).join(', ')}`);
  console.log(`  agents with warnings or errors on stderr: ${withProblems.length}`);
  const examples = new Map<number, string>();
  for (const r of withProblems) if (!examples.has(r.code)) examples.set(r.code, problemLines(r.stderr).join(' | '));
  for (const [code, text] of examples) console.log(`    exit ${code}, e.g.: ${text.slice(0, 400)}`);
  console.log(`  rules in the pool    ${rules.length} (distinct CIDRs ${new Set(rules.map((r) => r.CidrIpv4)).size})`);
  console.log('  sandbox calls in us-east-1 (calls / ok / failed / throttled / faulted):');
  for (const [action, c] of Object.entries(fleet.sandbox.counters.snapshot()['us-east-1'] ?? {})) {
    console.log(`    ${action.padEnd(30)} ${c.calls} / ${c.ok} / ${c.failed} / ${c.throttled} / ${c.faulted}`);
  }
} finally {
  await fleet.close();
}
