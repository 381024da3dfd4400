/**
 * The controller at fleet scale, against the sandbox with AWS's throttling
 * time-scaled: 17 regions, 20,000 instances, 2,400 of them members of three
 * targets in us-east-1 (each a pool of 16 groups at quota 60: 960 places for
 * 800 members). Measures a cold pass (empty groups), a no-op pass and a pass
 * after 5% churn: EC2 calls by action against the lower bound, wall time
 * against the minimum the token buckets allow, planning CPU time and peak
 * memory; then the same cold start and churn done the naive way (one
 * authorize or revoke call per instance, as boot scripts do) for comparison.
 *
 * The sandbox runs as its own process, so the memory and CPU measured here
 * are the controller's alone. Times are given as measured and as the
 * real-time equivalent (× SCALE): refills run SCALE times faster than AWS's.
 *
 *   npx tsx bench/controller-fleet.ts [scale=20]
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import pLimit from 'p-limit';
import { Ec2Adapter } from '../src/aws/ec2-adapter.js';
import { loadConfig, parseConfig, type LoadedConfig } from '../src/config/index.js';
import { controllerPass } from '../src/controller/pass.js';
import { plan, type Member } from '../src/core/index.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.AWS_ACCESS_KEY_ID = 'sandbox';
process.env.AWS_SECRET_ACCESS_KEY = 'sandbox';
process.env.AWS_EC2_METADATA_DISABLED = 'true';

const SCALE = Number(process.argv[2]?.startsWith('--') ? 20 : (process.argv[2] ?? 20));
const PRIMARY = 'us-east-1';
const REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'sa-east-1', 'eu-west-1', 'eu-west-2', 'eu-west-3',
  'eu-central-1', 'eu-north-1', 'ap-south-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-southeast-1', 'ap-southeast-2',
];
const INSTANCES = 20_000;
const TARGETS = ['api', 'db', 'cache'];
const MEMBERS_PER_TARGET = 800;
const POOL = 16;
/** Authorize and revoke share one bucket: 50 tokens, 5 per second at scale 1. */
const SG_BUCKET = { burst: 50, refill: 5 };
const DESCRIBE_BUCKET = { burst: 100, refill: 20 };
const root = fileURLToPath(new URL('..', import.meta.url));

type Counters = Record<string, Record<string, { calls: number; ok: number; failed: number; throttled: number; faulted: number }>>;

async function startSandbox(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'sandbox', '--port', '0', '--throttle', `aws:${SCALE}`, '--seed', '3'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
  });
  return { url, proc };
}

async function control<T>(url: string, path: string, method = 'GET', body?: unknown): Promise<T> {
  const res = await fetch(`${url}/_sandbox/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A quiet interval: every bucket full again, counters zeroed. */
async function quiet(url: string): Promise<void> {
  await control(url, 'throttle', 'PUT', { mode: 'aws', scale: SCALE });
  await control(url, 'counters/reset', 'POST', {});
}

const clients = new Map<string, EC2Client>();
function ec2(url: string, region: string): EC2Client {
  let c = clients.get(region);
  if (!c) clients.set(region, (c = new EC2Client({ region, endpoint: url, maxAttempts: 20, retryMode: 'adaptive' })));
  return c;
}

interface Fleet {
  pools: Record<string, string[]>;
  naivePools: Record<string, string[]>;
  /** Member instance ids by target and region. */
  members: Record<string, { id: string; region: string }[]>;
}

async function launch(url: string, region: string, count: number, tags: Record<string, string>): Promise<string[]> {
  const ids: string[] = [];
  for (let left = count; left > 0; left -= 1000) {
    const out = await ec2(url, region).send(
      new RunInstancesCommand({
        ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.micro', MinCount: Math.min(left, 1000), MaxCount: Math.min(left, 1000),
        TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
      }),
    );
    ids.push(...out.Instances!.map((i) => i.InstanceId!));
  }
  return ids;
}

async function buildFleet(url: string): Promise<Fleet> {
  await control(url, 'throttle', 'PUT', { mode: 'off' });
  const groups = async (prefix: string) => {
    const out: Record<string, string[]> = {};
    for (const t of TARGETS) {
      out[t] = [];
      for (let i = 0; i < POOL; i++) {
        const g = await ec2(url, PRIMARY).send(new CreateSecurityGroupCommand({ GroupName: `${prefix}-${t}-${i}`, Description: `${prefix} pool of ${t}` }));
        out[t].push(g.GroupId!);
      }
    }
    return out;
  };
  const pools = await groups('sgsync');
  const naivePools = await groups('naive');
  const members: Fleet['members'] = Object.fromEntries(TARGETS.map((t) => [t, []]));
  await Promise.all(
    REGIONS.map(async (region, r) => {
      // Spread evenly; no region holds an exact multiple of a page.
      const total = Math.floor(INSTANCES / REGIONS.length) + (r < INSTANCES % REGIONS.length ? 1 : 0);
      let used = 0;
      for (const t of TARGETS) {
        const n = Math.floor(MEMBERS_PER_TARGET / REGIONS.length) + (r < MEMBERS_PER_TARGET % REGIONS.length ? 1 : 0);
        for (const id of await launch(url, region, n, { role: 'client', 'client-of': t })) members[t]!.push({ id, region });
        used += n;
      }
      await launch(url, region, total - used, { role: 'other' });
    }),
  );
  await control(url, 'throttle', 'PUT', { mode: 'aws', scale: SCALE });
  return { pools, naivePools, members };
}

function configText(url: string, fleet: Fleet): string {
  const targets = TARGETS.map(
    (t) => `  - name: ${t}
    region: ${PRIMARY}
    groups: [${fleet.pools[t]!.join(', ')}]
    ports: [443/tcp]
    quota: 60
    members: { tags: { client-of: ${t} } }`,
  );
  return `deployment: bench
targets:
${targets.join('\n')}
safety: { graceSeconds: 300, revokeLimit: { count: 500, fraction: 0.5 } }
controller: { concurrency: ${REGIONS.length} }
aws: { endpoint: ${url} }
`;
}

function byAction(counters: Counters): Record<string, { calls: number; throttled: number }> {
  const out: Record<string, { calls: number; throttled: number }> = {};
  for (const actions of Object.values(counters)) {
    for (const [action, c] of Object.entries(actions)) {
      const e = (out[action] ??= { calls: 0, throttled: 0 });
      e.calls += c.calls;
      e.throttled += c.throttled;
    }
  }
  return out;
}

/** What one pass, run in its own process, reports back. */
interface ChildPass {
  wallS: number;
  planMs: number;
  maxRssKb: number;
  added: number;
  revoked: number;
  blocked: number;
  rounds: number;
  errors: number;
  halted: boolean;
  instancesPerRegion: number[];
  /** Inbound rules observed plus one default outbound rule per pool group: what the rule pages hold. */
  rulesListed: number;
  authorizeGroups: number;
  revokeGroups: number;
  addresses: Record<string, string>;
}

/** The fewest calls the pass could make: one DescribeRegions, full pages, one call per changed group and kind. */
function lowerBound(r: ChildPass): Record<string, number> {
  const pages = (n: number) => Math.max(1, Math.ceil(n / 1000));
  return {
    DescribeRegions: 1,
    DescribeInstances: r.instancesPerRegion.reduce((n, i) => n + pages(i), 0),
    DescribeSecurityGroupRules: pages(r.rulesListed),
    AuthorizeSecurityGroupIngress: r.authorizeGroups,
    RevokeSecurityGroupIngress: r.revokeGroups,
  };
}

/** Seconds the buckets force a set of calls to take, starting full: the slowest bucket decides. */
function bucketMinimum(perRegionCalls: { region: string; sg: number; describe: Record<string, number> }[]): number {
  let worst = 0;
  for (const r of perRegionCalls) {
    worst = Math.max(worst, Math.max(0, r.sg - SG_BUCKET.burst) / (SG_BUCKET.refill * SCALE));
    for (const n of Object.values(r.describe)) worst = Math.max(worst, Math.max(0, n - DESCRIBE_BUCKET.burst) / (DESCRIBE_BUCKET.refill * SCALE));
  }
  return worst;
}

function perRegion(counters: Counters): { region: string; sg: number; describe: Record<string, number> }[] {
  return Object.entries(counters).map(([region, actions]) => ({
    region,
    sg: (actions.AuthorizeSecurityGroupIngress?.ok ?? 0) + (actions.RevokeSecurityGroupIngress?.ok ?? 0),
    describe: Object.fromEntries(Object.entries(actions).filter(([a]) => a.startsWith('Describe')).map(([a, c]) => [a, c.ok])),
  }));
}

interface Measured { name: string; wallS: number; minS: number; calls: Record<string, { calls: number; throttled: number }>; bound?: Record<string, number>; planMs?: number; note?: string; maxRssKb?: number }

/**
 * One controller pass in a fresh process (`--pass FILE`), so that its peak
 * memory is its own: the same controllerPass a reconcile runs, plus the
 * planner timed again on the pass's own input.
 */
async function childPass(file: string): Promise<void> {
  const loaded = await loadConfig({ configPath: file });
  const adapter = new Ec2Adapter({ endpoint: loaded.config.aws.endpoint, maxAttempts: 20 });
  const start = performance.now();
  const result = await controllerPass({ config: loaded, ec2: adapter, apply: true });
  const wallS = (performance.now() - start) / 1000;
  adapter.clients.destroy();
  const cpu: number[] = [];
  for (let i = 0; i < 5; i++) {
    const before = process.cpuUsage();
    plan({
      deployment: loaded.config.deployment, targets: loaded.targets, members: result.inventory.members, regionInventory: result.inventory.regionInventory,
      observed: result.observedRules, scope: { kind: 'all' }, now: Date.now(), safety: { ...loaded.safety, force: false },
    });
    const used = process.cpuUsage(before);
    cpu.push((used.user + used.system) / 1000);
  }
  const groups = (kind: 'authorize' | 'revoke') => new Set(result.changes.filter((c) => c.action === kind).map((c) => c.groupId)).size;
  const out: ChildPass = {
    wallS,
    planMs: cpu.sort((a, b) => a - b)[2]!,
    maxRssKb: process.resourceUsage().maxRSS,
    added: result.changes.filter((c) => c.action === 'authorize').length,
    revoked: result.changes.filter((c) => c.action === 'revoke').length,
    blocked: result.plan.blocked.length,
    rounds: result.rounds,
    errors: result.errors.length,
    halted: result.plan.halted !== undefined,
    instancesPerRegion: result.inventory.regions.map((r) => r.instances),
    rulesListed: result.observedRules.length + new Set(loaded.targets.flatMap((t) => t.groupIds)).size,
    authorizeGroups: groups('authorize'),
    revokeGroups: groups('revoke'),
    addresses: Object.fromEntries(result.inventory.members.filter((m) => m.publicIpv4).map((m) => [m.instanceId, m.publicIpv4!])),
  };
  process.stdout.write(JSON.stringify(out));
}

async function runChild(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/controller-fleet.ts', ...args], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

async function pass(name: string, url: string, file: string): Promise<Measured & { addresses: Record<string, string> }> {
  await quiet(url);
  const r = JSON.parse(await runChild(['--pass', file])) as ChildPass;
  const counters = await control<Counters>(url, 'counters');
  return {
    name, wallS: r.wallS, minS: bucketMinimum(perRegion(counters)), calls: byAction(counters), bound: lowerBound(r), planMs: r.planMs, maxRssKb: r.maxRssKb, addresses: r.addresses,
    note: `${r.added} added, ${r.revoked} revoked, ${r.blocked} blocked, rounds ${r.rounds}, errors ${r.errors}${r.halted ? ', HALTED' : ''}`,
  };
}

/** 5% churn of the members: a quarter each terminated, stopped, restarted (new address) and newly launched. */
async function churn(url: string, fleet: Fleet): Promise<{ gone: { id: string; region: string; target: string }[]; fresh: { id: string; region: string; target: string }[] }> {
  await control(url, 'throttle', 'PUT', { mode: 'off' });
  const quarter = (MEMBERS_PER_TARGET * TARGETS.length * 0.05) / 4 / TARGETS.length;
  const gone: { id: string; region: string; target: string }[] = [];
  const fresh: { id: string; region: string; target: string }[] = [];
  for (const t of TARGETS) {
    const list = fleet.members[t]!;
    const pick = (from: number) => list.slice(from * 97, from * 97 + quarter);
    const [terminate, stop, restart] = [pick(1), pick(3), pick(5)];
    const byRegion = (xs: { id: string; region: string }[]) => {
      const out = new Map<string, { id: string; region: string }[]>();
      for (const x of xs) out.set(x.region, [...(out.get(x.region) ?? []), x]);
      return out;
    };
    for (const [region, xs] of byRegion(terminate)) await ec2(url, region).send(new TerminateInstancesCommand({ InstanceIds: xs.map((x) => x.id) }));
    for (const [region, xs] of byRegion([...stop, ...restart])) await ec2(url, region).send(new StopInstancesCommand({ InstanceIds: xs.map((x) => x.id) }));
    for (const [region, xs] of byRegion(restart)) await ec2(url, region).send(new StartInstancesCommand({ InstanceIds: xs.map((x) => x.id) }));
    gone.push(...[...terminate, ...stop].map((x) => ({ ...x, target: t })));
    for (let i = 0; i < quarter; i++) {
      const region = REGIONS[(i * 7) % REGIONS.length]!;
      const [id] = await launch(url, region, 1, { role: 'client', 'client-of': t });
      fresh.push({ id: id!, region, target: t });
    }
    fresh.push(...restart.map((x) => ({ ...x, target: t })));
  }
  await control(url, 'throttle', 'PUT', { mode: 'aws', scale: SCALE });
  return { gone, fresh };
}

/** The naive way: every instance makes its own call, all at once (bounded only by a connection pool). */
async function naive(name: string, url: string, work: { kind: 'authorize' | 'revoke'; groupId: string; cidr?: string; ruleId?: string }[]): Promise<Measured & { failed: Record<string, number> }> {
  await quiet(url);
  const limit = pLimit(200);
  const failed: Record<string, number> = {};
  const start = performance.now();
  await Promise.all(
    work.map((w) =>
      limit(async () => {
        try {
          if (w.kind === 'authorize') {
            await ec2(url, PRIMARY).send(new AuthorizeSecurityGroupIngressCommand({ GroupId: w.groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: w.cidr }] }] }));
          } else {
            await ec2(url, PRIMARY).send(new RevokeSecurityGroupIngressCommand({ GroupId: w.groupId, SecurityGroupRuleIds: [w.ruleId!] }));
          }
        } catch (e) {
          const code = (e as { name?: string }).name ?? 'unknown';
          failed[code] = (failed[code] ?? 0) + 1;
        }
      }),
    ),
  );
  const wallS = (performance.now() - start) / 1000;
  const counters = await control<Counters>(url, 'counters');
  return { name, wallS, minS: bucketMinimum(perRegion(counters)), calls: byAction(counters), failed };
}

function total(calls: Record<string, { calls: number }>): number {
  return Object.values(calls).reduce((n, c) => n + c.calls, 0);
}

/**
 * Real-time equivalent of a measured wall time: the part the buckets forced
 * runs SCALE times slower in AWS; the rest (latency, parsing) does not.
 */
function realTime(m: Measured): number {
  return m.wallS - m.minS + m.minS * SCALE;
}

function show(m: Measured): void {
  console.log(`\n${m.name}${m.note ? ` — ${m.note}` : ''}`);
  console.log(`  wall ${m.wallS.toFixed(2)} s measured; bucket minimum ${m.minS.toFixed(2)} s at aws:${SCALE} = ${(m.minS * SCALE).toFixed(1)} s real-time; real-time estimate ${realTime(m).toFixed(1)} s`);
  for (const [action, c] of Object.entries(m.calls).sort()) {
    const bound = m.bound?.[action];
    console.log(`  ${action.padEnd(32)} ${String(c.calls).padStart(6)} calls${c.throttled ? ` (${c.throttled} throttled)` : ''}${bound !== undefined ? `   lower bound ${bound}` : ''}`);
  }
  if (m.bound) {
    const bound = Object.values(m.bound).reduce((a, b) => a + b, 0);
    console.log(`  total ${total(m.calls)} calls, lower bound ${bound}: ${(total(m.calls) / bound).toFixed(3)}×; planning ${m.planMs?.toFixed(0)} ms CPU; peak memory ${mb(m.maxRssKb ?? 0)} (maxRSS of the pass's process)`);
  } else {
    console.log(`  total ${total(m.calls)} calls`);
  }
}

/** The planner alone on 100,000 members (the same three targets): CPU ms, median of 5. */
function planHundredThousand(loaded: LoadedConfig): number {
  const members: Member[] = Array.from({ length: 100_000 }, (_, n) => ({
    instanceId: `i-${n.toString(16).padStart(17, '0')}`, region: REGIONS[n % REGIONS.length]!, state: 'running',
    publicIpv4: `54.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, ipv6: [], tags: { 'client-of': TARGETS[n % 3]! },
  }));
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = process.cpuUsage();
    plan({
      deployment: 'bench', targets: loaded.targets, members, regionInventory: Object.fromEntries(REGIONS.map((r) => [r, { status: 'complete' as const }])),
      observed: [], scope: { kind: 'all' }, now: Date.now(), safety: { ...loaded.safety, force: false },
    });
    const used = process.cpuUsage(start);
    runs.push((used.user + used.system) / 1000);
  }
  return runs.sort((a, b) => a - b)[2]!;
}

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

async function main(): Promise<void> {
  const { url, proc } = await startSandbox();
  try {
    console.log(`sandbox ${url}, throttle aws:${SCALE} (AWS's bucket sizes, refills ${SCALE}× faster)`);
    const setup = performance.now();
    const fleet = await buildFleet(url);
    console.log(`fleet: ${INSTANCES} instances in ${REGIONS.length} regions, ${MEMBERS_PER_TARGET * TARGETS.length} members of ${TARGETS.length} targets (${POOL} groups × 60 each), built in ${((performance.now() - setup) / 1000).toFixed(1)} s`);
    const file = join(mkdtempSync(join(tmpdir(), 'sgsync-bench-')), 'bench.yaml');
    writeFileSync(file, configText(url, fleet));
    const loaded = parseConfig(configText(url, fleet), file);

    const baseline = JSON.parse(await runChild(['--baseline'])) as { maxRssKb: number };
    console.log(`a process that only loads the controller (tsx, SDK, config): maxRSS ${mb(baseline.maxRssKb)}`);

    const cold = await pass('cold pass (empty groups)', url, file);
    show(cold);
    const noop = await pass('no-op pass', url, file);
    show(noop);
    const { gone, fresh } = await churn(url, fleet);
    const churned = await pass(`pass after 5% churn (${gone.length} stopped or terminated, ${fresh.length} new or re-addressed)`, url, file);
    show(churned);

    const hundredK = planHundredThousand(loaded);
    console.log(`\nplanning 100,000 members (three targets, empty pools): ${hundredK.toFixed(0)} ms CPU (median of 5)`);

    // The naive way, into a second set of pools in the same region (so the same buckets), with the addresses the members booted with.
    const ips = new Map(Object.entries(cold.addresses));
    const all = TARGETS.flatMap((t) => fleet.members[t]!.map((m, i) => ({ ...m, groupId: fleet.naivePools[t]![Math.floor(i / 60) % POOL]! })));
    const naiveCold = await naive('naive cold start (one authorize per instance)', url, all.map((m) => ({ kind: 'authorize' as const, groupId: m.groupId, cidr: `${ips.get(m.id)}/32` })));
    show(naiveCold);
    console.log(`  failed after retries: ${JSON.stringify(naiveCold.failed)}`);
    const snap = await control<{ regions: { name: string; rules: { id: string; groupId: string; cidrIpv4?: string }[] }[] }>(url, 'snapshot');
    const naiveRules = new Map(snap.regions.find((r) => r.name === PRIMARY)!.rules.filter((r) => r.cidrIpv4).map((r) => [`${r.groupId} ${r.cidrIpv4}`, r.id]));
    // Stopped, terminated and restarted instances each revoke their old rule on the way down (a shutdown hook that never misses).
    const down = new Set([...gone, ...fresh].map((g) => g.id));
    const revokeWork = all.filter((m) => down.has(m.id) && naiveRules.has(`${m.groupId} ${ips.get(m.id)}/32`)).map((m) => ({ kind: 'revoke' as const, groupId: m.groupId, ruleId: naiveRules.get(`${m.groupId} ${ips.get(m.id)}/32`)! }));
    const newIps = new Map(Object.entries(churned.addresses));
    const authWork = fresh.map((m) => ({ kind: 'authorize' as const, groupId: fleet.naivePools[m.target]![POOL - 1]!, cidr: `${newIps.get(m.id)}/32` }));
    const naiveChurn = await naive('naive churn (one revoke per instance going down, one authorize per instance coming up)', url, [...revokeWork, ...authWork]);
    show(naiveChurn);
    console.log(`  failed after retries: ${JSON.stringify(naiveChurn.failed)}`);

    const ratio = (a: Measured, b: Measured) => `${(total(a.calls) / total(b.calls)).toFixed(1)}× calls, ${(realTime(a) / realTime(b)).toFixed(1)}× real-time (${(a.wallS / b.wallS).toFixed(1)}× measured)`;
    console.log('\nnaive / sgsync:');
    console.log(`  cold:  ${ratio(naiveCold, cold)}`);
    console.log(`  churn: ${ratio(naiveChurn, churned)}`);
  } finally {
    for (const c of clients.values()) c.destroy();
    proc.kill('SIGTERM');
  }
}

if (process.argv[2] === '--pass') await childPass(process.argv[3]!);
else if (process.argv[2] === '--baseline') {
  await loadConfig({ configPath: join(root, 'examples', 'demo.yaml') });
  new Ec2Adapter({}).clients.get(PRIMARY).destroy();
  process.stdout.write(JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }));
} else await main();
