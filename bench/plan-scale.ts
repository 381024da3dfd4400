/**
 * How long one `plan()` takes for a large fleet, and how much memory it
 * needs. The world: 100,000 instances across 17 regions (most running, some
 * pending, stopped or terminated; about a third with IPv6), three targets in
 * us-east-1 with pools sized to hold every member at quota 1000, and the
 * rules a controller leaves behind — tagged with the deployment, target and
 * registration time, the member named in the description (one tag set per
 * authorize call), a tenth tagged in full by agents, and a few foreign rules
 * per group. The world is then copied into the shape EC2's answers reach
 * the planner in: flat strings, objects built one after another.
 *
 * Two worlds are planned:
 * - steady: the groups already hold the rules of the previous pass, and the
 *   fleet has churned since (new instances, stop/starts with a new address,
 *   stopped, terminated and vanished instances, a few duplicate rules);
 * - cold: the same fleet, empty groups.
 *
 * Each is planned twice to warm up, then `runs` times; reported are the
 * median and worst wall time, the median CPU time (user + system), the heap
 * in use right after planning (world and plan still alive), the heap the
 * plan itself keeps, and the process's peak RSS.
 *
 * Every plan, warm-up included, gets a fresh copy of its world, as every
 * pass plans what a fresh listing returned, and the heap is left to the
 * collector as a running process leaves it. A forced collection before
 * each run (`gc()`) would throw away the planner's optimized code: that
 * collection lets go of objects the code was compiled against, so about
 * twenty of the planner's functions are deoptimized (V8 says: "weak
 * objects") at each one, and the next plan runs while some forty are
 * compiled again, 40–60 ms of planning 100k members. Collections that V8
 * started by itself (between plans, garbage allocated as a listing would)
 * deoptimized one function in all, over six of them. The heap figures come
 * from one more plan, between forced collections, after the timed runs.
 *
 * `--built` measures dist/core's `plan` (see `builtPlanner`), as `npm run bench` does; without it, the
 * sources' through tsx.
 *
 *   npx tsx bench/plan-scale.ts [members] [--members N] [--runs N] [--built] [--json]
 */
import { performance } from 'node:perf_hooks';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deserialize, serialize, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { applyPlanToObserved, plan, TAG, type Member, type ObservedRule, type Plan, type PlanInput, type Target } from '../src/core/index.js';
import { median } from './support/runs.js';

export const REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'sa-east-1', 'eu-west-1', 'eu-west-2', 'eu-west-3',
  'eu-central-1', 'eu-north-1', 'ap-south-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-southeast-1', 'ap-southeast-2',
];
const DEPLOYMENT = 'bench';
const QUOTA = 1000;
const FOREIGN_PER_GROUP = 3;
const NOW = Date.UTC(2025, 5, 1, 12);
const DAY = 86_400_000;

/** One world's figures. */
export interface PlanScaleRun {
  /** Observed rules the plan started from (managed and foreign). */
  observed: number;
  /** Rules planned to authorize plus rules planned to revoke. */
  ruleChanges: number;
  authorize: number;
  revoke: number;
  blocked: number;
  kept: number;
  wallMsMedian: number;
  wallMsMax: number;
  cpuMsMedian: number;
  /** Heap in use right after a plan returned, world and plan included (an untimed plan after a collection). */
  heapUsedMb: number;
  /** Heap the returned plan keeps alive, after a collection. */
  planRetainedMb: number;
}

/** The steady-state figures at top level (what "planning 100k members" means), the cold world beside them. */
export interface PlanScaleResult extends PlanScaleRun {
  members: number;
  regions: number;
  targets: number;
  runs: number;
  cold: PlanScaleRun;
  /** Peak resident set of the whole process (world building included). */
  maxRssMb: number;
}

/** A small deterministic PRNG (mulberry32), so every run plans the same world. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const dotted = (first: number, n: number) => `${first}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

/** 17 hex digits like EC2's, unique per n but not in n's order (so not in region order either). */
function instanceId(n: number): string {
  return `i-0${(Math.imul(n, 2654435761) >>> 0).toString(16).padStart(8, '0')}${n.toString(16).padStart(8, '0')}`;
}

type Role = 'web' | 'worker' | 'batch';

function member(n: number, rnd: () => number): Member {
  const r = rnd();
  const role: Role = r < 0.5 ? 'web' : r < 0.85 ? 'worker' : 'batch';
  const s = rnd();
  const state = s < 0.96 ? 'running' : s < 0.97 ? 'pending' : s < 0.99 ? 'stopped' : 'terminated';
  const hasIpv6 = rnd() < 0.3;
  return {
    instanceId: instanceId(n),
    region: REGIONS[Math.floor(rnd() * REGIONS.length)]!,
    accountId: '111122223333',
    state,
    // Public addresses in 3.0.0.0/8 and 54.0.0.0/8 (a restarted member moves to the latter).
    publicIpv4: state === 'running' ? dotted(3, n) : undefined,
    privateIpv4: dotted(10, n),
    ipv6: hasIpv6 ? [`2600:1f18:${(n >> 16).toString(16)}:${(n & 0xffff).toString(16)}::a`] : [],
    tags: { Name: `${role}-${n}`, role, env: 'prod' },
    launchTime: new Date(NOW - 30 * DAY).toISOString(),
    instanceType: 'm7g.large',
  };
}

function targets(groupsPerTarget: Record<string, number>): Target[] {
  const pool = (name: string) => Array.from({ length: groupsPerTarget[name] ?? 1 }, (_, i) => `sg-${name.padEnd(6, '0')}${String(i).padStart(11, '0')}`);
  return [
    { name: 'api', region: 'us-east-1', groupIds: pool('api'), ports: [{ protocol: 'tcp', fromPort: 443, toPort: 443 }], families: ['ipv4', 'ipv6'], address: 'public', quota: QUOTA, selector: { tags: { role: ['web'] } } },
    { name: 'db', region: 'us-east-1', groupIds: pool('db'), ports: [{ protocol: 'tcp', fromPort: 5432, toPort: 5432 }], families: ['ipv4'], address: 'private', quota: QUOTA, selector: { tags: { role: ['worker'] } } },
    {
      name: 'cache',
      region: 'us-east-1',
      groupIds: pool('cache'),
      ports: [{ protocol: 'tcp', fromPort: 6379, toPort: 6379 }],
      families: ['ipv4'],
      address: 'private',
      quota: QUOTA,
      selector: { regions: REGIONS.slice(0, 6), tags: { role: ['web', 'worker'] } },
    },
  ];
}

function foreignRules(ts: Target[]): ObservedRule[] {
  const rules: ObservedRule[] = [];
  for (const t of ts) {
    t.groupIds.forEach((groupId, g) => {
      for (let i = 0; i < FOREIGN_PER_GROUP; i++) {
        const open = g === 0 && i === 0 && t.name === 'api';
        rules.push({
          ruleId: `sgr-f${t.name}${g}x${i}`,
          groupId,
          family: 'ipv4',
          protocol: 'tcp',
          fromPort: 443,
          toPort: 443,
          cidr: open ? '0.0.0.0/0' : `198.51.${g & 255}.${i * 16}/28`,
          description: open ? 'temporary' : 'office',
          tags: {},
        });
      }
    });
  }
  return rules;
}

/**
 * The rules a controller pass would have left in the groups, the way EC2
 * lists them: one TagSpecification per authorize call carries only what its
 * rules share, so the member shows in the description alone (agents tag
 * their one rule fully: every tenth rule here).
 */
function asObserved(rules: ObservedRule[], registeredAt: (rule: ObservedRule) => string): ObservedRule[] {
  return rules.map((rule, i) => {
    const full = i % 10 === 0;
    const tags: Record<string, string> = { [TAG.managedBy]: DEPLOYMENT, [TAG.target]: rule.tags[TAG.target] ?? '', [TAG.registeredAt]: registeredAt(rule) };
    if (full) {
      tags[TAG.instance] = rule.tags[TAG.instance] ?? '';
      tags[TAG.region] = rule.tags[TAG.region] ?? '';
    }
    return { ...rule, tags };
  });
}

export interface World {
  /** A fresh copy of the world's input, in the shape the adapter gives the planner (see `buildWorld`). */
  copy(kind: 'steady' | 'cold'): PlanInput;
  targets: number;
}

/**
 * Builds the fleet, its pools, and the groups' rules after the previous pass.
 * Churn since then: 1% of today's members are new, 1% were restarted with a
 * new public address, 1.5% of the previous fleet has vanished from the
 * listing (a tenth of those rules still in grace), and the stopped and
 * terminated members were running before. 0.2% of rules are duplicated in a
 * second group.
 */
export function buildWorld(count: number): World {
  const rnd = random(42);
  const members = Array.from({ length: count }, (_, n) => member(n, rnd));
  // The previous fleet: the vanished ones, everyone else running, restarted ones at their old address.
  const vanished = Array.from({ length: Math.floor(count * 0.015) }, (_, k) => member(count + k, rnd));
  const previous: Member[] = [];
  members.forEach((m, n) => {
    const c = rnd();
    if (c < 0.01) return; // new since the last pass
    const before: Member = { ...m, state: 'running', publicIpv4: c < 0.02 ? dotted(54, n) : dotted(3, n) };
    previous.push(before);
  });
  for (const m of vanished) previous.push({ ...m, state: 'running' });

  // Pools with 10% headroom over what the fleet needs.
  const probe = targets({ api: 1, db: 1, cache: 1 }).map((t) => ({ ...t, quota: 1e9 }));
  const need = plan(input(probe, previous, []));
  const perTarget: Record<string, number> = {};
  for (const b of need.authorize) for (const r of b.items) perTarget[r.target] = (perTarget[r.target] ?? 0) + 1;
  const ts = targets(Object.fromEntries(Object.entries(perTarget).map(([name, n]) => [name, Math.ceil((n * 1.1) / QUOTA)])));
  const foreign = foreignRules(ts);

  const first = plan(input(ts, previous, foreign));
  let id = 0;
  // Each rule keeps its own tags here; asObserved below gives most of them the tags one call of many shares.
  const applied = applyPlanToObserved(foreign, first, () => `sgr-${(++id).toString(16).padStart(17, '0')}`, { tags: 'per-rule' }).slice(foreign.length);
  // A tenth of the vanished members registered a minute ago: still in grace.
  const young = new Set(vanished.filter((_, k) => k % 10 === 0).map((m) => m.instanceId));
  const managed = asObserved(applied, (rule) => new Date(NOW - (young.has(rule.tags[TAG.instance] ?? '') ? 60_000 : DAY)).toISOString());
  const duplicates = managed
    .filter((_, i) => i % 500 === 7)
    .map((r, i) => ({ ...r, ruleId: `sgr-d${i}`, groupId: ts.find((t) => t.name === r.tags[TAG.target])?.groupIds.at(-1) ?? r.groupId }));

  // EC2's answers reach the planner (through the bundles' XML parser) as objects built one after
  // another, holding flat strings copied out of the response. The strings built above are joined
  // from parts (ropes), which the planner reads character by character up to twice as slowly. A
  // copy read back from V8's serialization has the adapter's shape; the serialized worlds are kept
  // outside the heap, so that the copy being planned is the only world the collector sees.
  const worlds = { cold: serialize(input(ts, members, [])), steady: serialize(input(ts, members, [...foreign, ...managed, ...duplicates])) };
  return { copy: copier(worlds), targets: ts.length };
}

/** `World.copy` (made out here: a function made in `buildWorld` would keep its whole scope, the previous fleet included, alive). */
function copier(worlds: Record<'steady' | 'cold', Buffer>): World['copy'] {
  return (kind) => {
    const world = deserialize(worlds[kind]) as PlanInput;
    // What the adapter does not copy out of a response, the copy must not have copied either.
    adapterShared(world.members ?? [], world.observed ?? []);
    return world;
  };
}

/**
 * Puts back the strings the adapter shares rather than reads from a response: a member's region is
 * the name of the region it was listed in (`toMember(region, …)`), one string per region, and a
 * rule's family is the literal `parseCidr` returns.
 */
function adapterShared(members: Member[], observed: ObservedRule[]): void {
  const regions = new Map(REGIONS.map((r) => [r, r]));
  for (const m of members) m.region = regions.get(m.region) ?? m.region;
  for (const r of observed) r.family = r.family === 'ipv6' ? 'ipv6' : 'ipv4';
}

function input(ts: Target[], members: Member[], observed: ObservedRule[]): PlanInput {
  return {
    deployment: DEPLOYMENT,
    targets: ts,
    members,
    regionInventory: Object.fromEntries(REGIONS.map((r) => [r, { status: 'complete' as const }])),
    observed,
    scope: { kind: 'all' },
    now: NOW,
    safety: { graceSeconds: 300, revokeLimit: { fraction: 0.2 }, force: false },
  };
}

let gc: (() => void) | undefined;

/**
 * Full collections, for the heap figures (tsx does not pass --expose-gc through, so the function is
 * fetched from V8 the first time). Two: after one, part of the previous run's world was still
 * counted, and the plan's heap came out smaller than nothing.
 */
function collect(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = (runInNewContext('gc') as (() => void) | undefined) ?? (() => {});
  }
  gc();
  gc();
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const round = (ms: number) => Math.round(ms * 10) / 10;
const count = (batches: { items: unknown[] }[]) => batches.reduce((n, b) => n + b.items.length, 0);

/** The function measured: the sources' `plan` (through tsx), or the built one (see `runPlanScale`). */
export type Planner = (input: PlanInput) => Plan;

function measure(copy: () => PlanInput, runs: number, plan: Planner): PlanScaleRun {
  for (let i = 0; i < 2; i++) plan(copy());
  const wall: number[] = [];
  const cpu: number[] = [];
  // The last run's world and plan, dropped before the next copy is made: they are then garbage, and
  // nothing else is alive (no local variable of this function still holds an earlier world).
  const last: { world?: PlanInput; plan?: Plan } = {};
  for (let i = 0; i < runs; i++) {
    last.world = last.plan = undefined;
    last.world = copy();
    const startCpu = process.cpuUsage();
    const start = performance.now();
    last.plan = plan(last.world);
    wall.push(performance.now() - start);
    const used = process.cpuUsage(startCpu);
    cpu.push((used.user + used.system) / 1000);
  }
  // The heap: one more plan, untimed, between collections.
  last.world = last.plan = undefined;
  last.world = copy();
  collect();
  const base = process.memoryUsage().heapUsed;
  const result = plan(last.world);
  const heapUsed = process.memoryUsage().heapUsed;
  collect();
  const retained = process.memoryUsage().heapUsed - base;
  const authorize = count(result.authorize);
  const revoke = count(result.revoke);
  return {
    observed: last.world.observed?.length ?? 0,
    ruleChanges: authorize + revoke,
    authorize,
    revoke,
    blocked: result.blocked.length,
    kept: result.kept.length,
    wallMsMedian: round(median(wall)),
    wallMsMax: round(Math.max(...wall)),
    cpuMsMedian: round(median(cpu)),
    heapUsedMb: mb(heapUsed),
    planRetainedMb: mb(retained),
  };
}

/**
 * `plan` as `npm run build` built it (dist/core/, the library's modules), which is what runs in every form
 * sgsync ships: the library, and the command line and Lambda bundles made from the same TypeScript output
 * by esbuild. The sources run through tsx plan measurably slower (10–18% in A/B runs of this world), so
 * `npm run bench`, which builds dist/ first, measures this one.
 */
export async function builtPlanner(): Promise<Planner> {
  const file = fileURLToPath(new URL('../dist/core/index.js', import.meta.url));
  if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build first`);
  const built = (await import(pathToFileURL(file).href)) as { plan?: Planner };
  if (typeof built.plan !== 'function') throw new Error(`${file} exports no plan(): run npm run build again`);
  return built.plan;
}

/**
 * Builds the world for `members` instances and measures planning it, steady
 * state and cold, `runs` times each after a warm-up, with `planner` (the
 * sources' `plan` unless given). For `npm run bench` and the command line alike.
 */
export async function runPlanScale(opts: { members: number; runs: number; planner?: Planner }): Promise<PlanScaleResult> {
  // Let a caller's pending output and timers run before the process is busy for a while.
  await new Promise((resolve) => setImmediate(resolve));
  const world = buildWorld(opts.members);
  const steady = measure(() => world.copy('steady'), opts.runs, opts.planner ?? plan);
  const cold = measure(() => world.copy('cold'), opts.runs, opts.planner ?? plan);
  return {
    members: opts.members,
    regions: REGIONS.length,
    targets: world.targets,
    runs: opts.runs,
    ...steady,
    cold,
    maxRssMb: mb(process.resourceUsage().maxRSS * 1024),
  };
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

function describe(label: string, r: PlanScaleRun): string {
  return (
    `${label}: median ${r.wallMsMedian} ms wall (worst ${r.wallMsMax}), ${r.cpuMsMedian} ms CPU; heap ${r.heapUsedMb} MB after planning, plan keeps ${r.planRetainedMb} MB\n` +
    `        observed ${r.observed}: authorize ${r.authorize}, revoke ${r.revoke}, blocked ${r.blocked}, kept ${r.kept}`
  );
}

async function main(args: string[]): Promise<void> {
  const positional = args[0] !== undefined && !args[0].startsWith('--') ? args[0] : undefined;
  const members = Number(option(args, '--members') ?? positional ?? 100_000);
  const runs = Number(option(args, '--runs') ?? 7);
  if (!(Number.isInteger(members) && members > 0 && Number.isInteger(runs) && runs > 0)) {
    console.error('usage: tsx bench/plan-scale.ts [members] [--members N] [--runs N] [--built] [--json]');
    process.exitCode = 2;
    return;
  }
  const result = await runPlanScale({ members, runs, ...(args.includes('--built') ? { planner: await builtPlanner() } : {}) });
  if (args.includes('--json')) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  console.log(`${result.members} members, ${result.regions} regions, ${result.targets} targets; ${result.runs} runs after 2 warm-up runs`);
  console.log(describe('steady', result));
  console.log(describe('cold  ', result.cold));
  console.log(`peak RSS ${result.maxRssMb} MB`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
