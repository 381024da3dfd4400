/**
 * `npm run bench`: the fleet-scale benchmark in one go. Against the sandbox
 * with AWS's throttling (refills time-scaled), 17 regions and 20,000
 * instances, it measures a cold pass, a no-op pass, a pass after 5% churn
 * and an agent storm — each with the naive approach beside it — then a
 * churn pass at AWS's own rates by a `reconcile` process and by a running
 * `controller run`, a pass with one region down, and planning 100,000
 * members; it prints Markdown tables and writes the same tables to
 * docs/benchmarks.md and every raw figure to bench/results/latest.json.
 *
 *   npm run bench                          # the full run (about 3 minutes on 2 cores)
 *   npm run bench -- --scale small         # a one-minute smoke run: bench/results/small.json only
 *   npm run bench -- --throttle-scale 20   # refills 20× AWS's instead of 10×
 *   npm run bench -- --build               # rebuild dist/ even when it looks fresh
 *
 * Exits 1 with a message when a scenario could not be run (the sandbox did
 * not start, a pass crashed or printed no report); a goal missed is a
 * figure in the tables, not a failure.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runStorm } from './support/agent-storm.js';
import { agentsLowerBound, bucketMinimum, controllerLowerBound, isMutating, pages, sum, type PassReportView } from './support/call-bounds.js';
import {
  agentConfig, buildFleet, churn, controllerConfig, FleetClients, POOL, PRIMARY, QUOTA, REGIONS, SIZES, STORM_TARGET, TARGETS, terminateIn,
  type Fleet, type FleetSize,
} from './support/fleet.js';
import { Daemon } from './support/daemon.js';
import { currentLoad, describeMachine, sampleLoad } from './support/machine.js';
import { runBuiltCli, type MeasuredRun } from './support/measured-process.js';
import { runNaive, type NaiveCall, type NaiveRun } from './support/naive.js';
import { renderPage, renderTables, type BenchResults, type PlanningResult, type ScenarioKey, type ScenarioResult } from './support/report.js';
import { byAction, control, quiet, type Counters } from './support/sandbox-control.js';
import { spawnSandbox, type SpawnedSandbox } from './support/spawn-sandbox.js';
import type { PlanScaleRun } from './plan-scale.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.AWS_ACCESS_KEY_ID = 'sandbox';
process.env.AWS_SECRET_ACCESS_KEY = 'sandbox';
process.env.AWS_EC2_METADATA_DISABLED = 'true';

const root = fileURLToPath(new URL('..', import.meta.url));
/** What a `sgsync` process of the controller needs to reach the sandbox: any credentials, and no instance metadata to look for. */
const CONTROLLER_ENV = { AWS_ACCESS_KEY_ID: 'sandbox', AWS_SECRET_ACCESS_KEY: 'sandbox', AWS_EC2_METADATA_DISABLED: 'true' };
/** The member region whose API fails in the region-down scenario, and one that stays up. */
const DOWN = 'ap-southeast-2';
const ELSEWHERE = 'sa-east-1';

interface Options {
  size: FleetSize;
  scale: number;
  forceBuild: boolean;
}

function parseOptions(argv: string[]): Options {
  let size = SIZES.full;
  let scale = 10;
  let forceBuild = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = a.includes('=') ? a.split('=')[1] : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a.startsWith('--scale')) {
      const v = value();
      if (v !== 'full' && v !== 'small') throw new Error(`--scale must be full or small, not ${v}`);
      size = SIZES[v];
    } else if (a.startsWith('--throttle-scale')) {
      scale = Number(value());
      if (!(scale > 0 && scale <= 1000)) throw new Error('--throttle-scale must be a number in (0, 1000]');
    } else if (a === '--build') forceBuild = true;
    else throw new Error(`unknown option ${a} (expected --scale full|small, --throttle-scale N, --build)`);
  }
  return { size, scale, forceBuild };
}

const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** Newest modification time under `dir` (TypeScript sources only, tests aside). */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds dist/ when it is missing or older than any source (or when asked): the figures must be the CLI's as it is now. */
async function buildIfStale(force: boolean): Promise<{ ran: boolean; seconds: number }> {
  const started = performance.now();
  let builtAt: number;
  try {
    builtAt = statSync(join(root, 'dist', 'cli', 'main.js')).mtimeMs;
  } catch {
    builtAt = 0;
  }
  const sources = Math.max(newestSource(join(root, 'src')), ...['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => statSync(join(root, f)).mtimeMs));
  if (!force && builtAt > sources) return { ran: false, seconds: 0 };
  log(builtAt === 0 ? 'dist/ is missing: npm run build' : 'dist/ is older than the sources: npm run build');
  try {
    await promisify(execFile)('npm', ['run', 'build', '--silent'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  } catch (e) {
    const out = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm run build failed: ${(out.stdout ?? '') + (out.stderr ?? '') || out.message}`, { cause: e });
  }
  return { ran: true, seconds: (performance.now() - started) / 1000 };
}

/** Planning at scale: `runPlanScale()` from bench/plan-scale.ts, in this process, with the `plan()` dist/ holds. */
async function planning(members: number, runs: number): Promise<PlanningResult> {
  const { builtPlanner, runPlanScale } = await import('./plan-scale.js');
  const raw = await runPlanScale({ members, runs, planner: await builtPlanner() });
  const pick = (w: PlanScaleRun) => ({ observed: w.observed, ruleChanges: w.ruleChanges, wallMsMedian: w.wallMsMedian, wallMsMax: w.wallMsMax, cpuMsMedian: w.cpuMsMedian });
  const via = "`runPlanScale()` from bench/plan-scale.ts, in this process, planning with dist/core's `plan()` as `npm run build` built it";
  return { members: raw.members, runs: raw.runs, via, steady: pick(raw), cold: pick(raw.cold), maxRssMb: raw.maxRssMb };
}

function totalCalls(calls: Record<string, { calls: number }>): number {
  return Object.values(calls).reduce((n, c) => n + c.calls, 0);
}

function mutatingCalls(calls: Record<string, { calls: number }>): number {
  return Object.entries(calls).reduce((n, [a, c]) => n + (isMutating(a) ? c.calls : 0), 0);
}

/** The parts of a scenario every kind shares: calls from the sandbox's counters and the bucket minimum. */
function fromCounters(counters: Counters, scale: number): Pick<ScenarioResult, 'calls' | 'callsTotal' | 'mutating' | 'bucketMinimumS' | 'bindingBucket'> {
  const calls = byAction(counters);
  const bucket = bucketMinimum(counters, scale);
  return { calls, callsTotal: totalCalls(calls), mutating: mutatingCalls(calls), bucketMinimumS: bucket.seconds, bindingBucket: bucket.binding };
}

/** A pass's `timings` (ms), as the report's phases (s). */
function phasesOf(t: NonNullable<PassReportView['timings']>): NonNullable<ScenarioResult['phases']> {
  return { inventoryS: t.inventoryMs / 1000, observeS: t.observeMs / 1000, planS: t.planMs / 1000, applyS: t.applyMs / 1000 };
}

/** A failure of the benchmark itself (not a goal missed): the run stops with this message. */
class ScenarioFailed extends Error {}

interface Pass {
  result: ScenarioResult;
  report: PassReportView;
}

/** One `sgsync reconcile --json` as a process of the built CLI, measured from the outside. */
async function reconcilePass(ctx: Context, key: ScenarioKey, title: string, expectExit: number[]): Promise<Pass> {
  await quiet(ctx.sandbox.url, ctx.scale);
  const run: MeasuredRun = await runBuiltCli(['reconcile', '-c', ctx.controllerConfig, '--json', '--audit-log', join(ctx.dir, `audit-${key}.jsonl`), '--log-level', 'warn'], CONTROLLER_ENV);
  ctx.measuredWith = run.method === 'gnu-time' ? 'GNU time (`/usr/bin/time -f %M`)' : '/proc/<pid> sampling (VmHWM)';
  let report: PassReportView;
  try {
    report = JSON.parse(run.stdout) as PassReportView;
  } catch {
    throw new ScenarioFailed(`${title}: sgsync reconcile exited ${run.code} without a JSON report; stderr: ${run.stderr.trim().slice(-2000)}`);
  }
  if (!expectExit.includes(run.code)) {
    throw new ScenarioFailed(`${title}: sgsync reconcile exited ${run.code} (expected ${expectExit.join(' or ')}): ${report.errors.map((e) => e.message).join('; ') || run.stderr.trim().slice(-2000)}`);
  }
  const counters = await control<Counters>(ctx.sandbox.url, 'counters');
  const lowerBound = controllerLowerBound(report, ctx.fleet.egressPerGroup);
  const s = report.summary;
  const work = [`${s.add ?? 0} added`, `${s.revoke ?? 0} revoked`, `${s.kept ?? 0} kept`, `${s.blocked ?? 0} blocked`];
  if (s.regionsFailed) work.push(`${s.regionsFailed} region failed`);
  work.push(`outcome ${report.outcome}, exit ${run.code}`);
  return {
    report,
    result: {
      key, title, approach: 'sgsync', runAs: '`sgsync reconcile` process', work: work.join(', '), exitCode: run.code,
      ...fromCounters(counters, ctx.scale), lowerBound, lowerBoundTotal: sum(lowerBound),
      wallS: run.wallS, cpuS: run.cpuS, maxRssMb: run.maxRssKb / 1024, notes: [],
      ...(report.timings ? { phases: phasesOf(report.timings) } : {}),
    },
  };
}

async function naiveRun(ctx: Context, key: ScenarioKey, title: string, work: NaiveCall[]): Promise<ScenarioResult> {
  await quiet(ctx.sandbox.url, ctx.scale);
  const run: NaiveRun = await runNaive(ctx.sandbox.url, work);
  const counters = await control<Counters>(ctx.sandbox.url, 'counters');
  const failedText = Object.keys(run.failed).length ? Object.entries(run.failed).map(([k, v]) => `${v} ${k}`).join(', ') : 'none';
  return {
    key, title, approach: 'naive', runAs: 'SDK calls, one client per instance', work: failedText, ...fromCounters(counters, ctx.scale),
    wallS: run.wallS, cpuS: run.cpuS, notes: [`${work.filter((w) => w.kind === 'authorize').length} authorize and ${work.filter((w) => w.kind === 'revoke').length} revoke calls to make`],
  };
}

/** AWS's own refill rates. */
const AWS_RATES = 1;

/**
 * A 5% churn pass with the buckets refilling at AWS's own rates, twice: by a
 * `sgsync reconcile` process, and by `sgsync controller run` — its second
 * pass, after a first one (nothing to do) made its clients and compiled its
 * code. Each gets a churn of members no earlier one touched.
 */
async function atAwsRates(ctx: Context): Promise<ScenarioResult[]> {
  const { sandbox, fleet, ec2 } = ctx;
  const throttle = { mode: 'aws' as const, scale: AWS_RATES };
  const config = join(ctx.dir, 'controller-aws.yaml');
  writeFileSync(config, controllerConfig(sandbox.url, fleet, AWS_RATES, 0));
  const title = (how: string) => `pass after 5% churn, AWS's own rates (aws:${AWS_RATES}), ${how}`;

  const changed = await churn(sandbox.url, ec2, fleet, throttle, 1);
  const cli = await reconcilePass({ ...ctx, scale: AWS_RATES, controllerConfig: config }, 'churn-aws', title('one process'), [0]);
  cli.result.notes.push(`${changed.gone.length} members stopped or terminated, ${changed.fresh.length} launched or given a new address; the buckets refill at AWS's rates, so a minimum of 1 s is 1 s against AWS.`);
  log(`churn at AWS's rates, reconcile: ${cli.result.work}; ${cli.result.wallS.toFixed(2)} s (bucket minimum ${cli.result.bucketMinimumS.toFixed(2)} s)`);

  // The next pass starts this long after the last one ended: time enough for the churn below.
  const intervalS = 15;
  const audit = join(ctx.dir, 'audit-daemon.jsonl');
  const daemon = Daemon.start(config, intervalS, audit, CONTROLLER_ENV);
  try {
    const first = await daemon.nextPass(120_000);
    if (!first.ok || first.added + first.revoked > 0) throw new ScenarioFailed(`controller run: its first pass should have had nothing to do: ${first.message}`);
    const again = await churn(sandbox.url, ec2, fleet, throttle, 2);
    await quiet(sandbox.url, AWS_RATES);
    const readyAtMs = Date.now();
    const cpuBefore = daemon.cpuSeconds();
    const pass = await daemon.nextPass(intervalS * 1000 + 120_000);
    const cpuAfter = daemon.cpuSeconds();
    const counters = await control<Counters>(sandbox.url, 'counters');
    if (pass.endedAtMs - pass.durationMs < readyAtMs) throw new ScenarioFailed('controller run: its second pass started before the churn was in place; raise the interval');
    if (!pass.ok) throw new ScenarioFailed(`controller run: ${pass.message}`);
    // Its own audit lines say which groups changed; the reads it needs are the reconcile pass's, on the same fleet.
    const changes = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { passId: string; action: string; group: string }).filter((c) => c.passId === pass.passId);
    const groups = (action: string) => new Set(changes.filter((c) => c.action === action).map((c) => c.group)).size;
    const reads = cli.result.lowerBound ?? {};
    const lowerBound = {
      DescribeRegions: reads.DescribeRegions ?? 1,
      DescribeInstances: reads.DescribeInstances ?? 0,
      DescribeSecurityGroupRules: reads.DescribeSecurityGroupRules ?? 0,
      DescribeSecurityGroups: reads.DescribeSecurityGroups ?? 0,
      AuthorizeSecurityGroupIngress: groups('authorize'),
      RevokeSecurityGroupIngress: groups('revoke'),
    };
    const peak = daemon.peakRssKb();
    const result: ScenarioResult = {
      key: 'churn-daemon', title: title('running controller'), approach: 'sgsync', runAs: '`sgsync controller run` process, its second pass',
      work: `${pass.added} added, ${pass.revoked} revoked`,
      ...fromCounters(counters, AWS_RATES), lowerBound, lowerBoundTotal: sum(lowerBound),
      wallS: pass.durationMs / 1000, cpuS: cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : Number.NaN,
      ...(peak !== undefined ? { maxRssMb: peak / 1024 } : {}),
      ...(pass.timings ? { phases: phasesOf(pass.timings) } : {}),
      notes: [
        `${again.gone.length} members stopped or terminated, ${again.fresh.length} launched or given a new address, after the process's first pass (nothing to do) and before its second. ` +
          'Wall is the pass as the process logs it; CPU is the process\'s from the churn to the end of the pass; peak RSS is the process\'s, both passes included. ' +
          "The reads of its lower bound are the `reconcile` pass's above (the same fleet); its authorize and revoke calls, one per group its audit log names.",
      ],
    };
    log(`churn at AWS's rates, controller run: ${result.work}; ${result.wallS.toFixed(2)} s (bucket minimum ${result.bucketMinimumS.toFixed(2)} s)`);
    return [cli.result, result];
  } finally {
    await daemon.stop();
  }
}

interface Context {
  sandbox: SpawnedSandbox;
  scale: number;
  fleet: Fleet;
  ec2: FleetClients;
  dir: string;
  controllerConfig: string;
  agentConfig: string;
  measuredWith: string;
}

interface Snapshot {
  regions: { name: string; rules: { id: string; groupId: string; isEgress: boolean; cidrIpv4?: string }[]; instances: { id: string; publicIp?: string }[] }[];
}

/** Addresses of added rules, by instance, from a pass's report. */
function addedAddresses(report: PassReportView): Map<string, string> {
  return new Map(report.targets.flatMap((t) => t.add.map((a) => [a.instanceId, a.cidr] as const)));
}

async function main(): Promise<void> {
  const started = performance.now();
  const options = parseOptions(process.argv.slice(2));
  const { size, scale } = options;
  const machine = describeMachine();
  const stopSampling = sampleLoad();
  log(`${size.name} run, throttle aws:${scale}; ${machine.cores} × ${machine.cpuModel}, load ${machine.loadStart.join(' ')}`);

  const build = await buildIfStale(options.forceBuild);
  log(build.ran ? `built dist/ in ${build.seconds.toFixed(1)} s` : 'dist/ is up to date');

  const planMembers = size.name === 'full' ? 100_000 : 20_000;
  log(`planning ${planMembers} members`);
  const planStart = performance.now();
  const plan = await planning(planMembers, size.name === 'full' ? 5 : 3);
  const planningS = (performance.now() - planStart) / 1000;
  log(`planning: steady ${plan.steady.wallMsMedian.toFixed(0)} ms, cold ${plan.cold.wallMsMedian.toFixed(0)} ms (median wall)`);

  let sandbox: SpawnedSandbox;
  try {
    sandbox = await spawnSandbox({ built: true, args: ['--throttle', `aws:${scale}`, '--seed', '3'] });
  } catch (e) {
    throw new ScenarioFailed(`the sandbox did not start: ${(e as Error).message}`);
  }
  const ec2 = new FleetClients(sandbox.url);
  const dir = mkdtempSync(join(tmpdir(), 'sgsync-bench-'));
  const scenarios: ScenarioResult[] = [];
  const naive: ScenarioResult[] = [];
  let probeAgent: BenchResults['probeAgent'];
  let fleetS: number;
  let fleetPages: number;
  let measuredWith: string;
  try {
    const throttle = { mode: 'aws' as const, scale };
    const fleetStart = performance.now();
    // The storm's instances, plus one for the agent measured as a process of its own.
    const fleet = await buildFleet(sandbox.url, ec2, { ...size, storm: size.storm + 1 }, throttle);
    fleetPages = Object.values(fleet.perRegion).reduce((n, count) => n + pages(count), 0);
    fleetS = (performance.now() - fleetStart) / 1000;
    log(`fleet built in ${fleetS.toFixed(1)} s: ${size.instances} instances, ${size.membersPerTarget * TARGETS.length} members, sandbox ${sandbox.url}`);
    const ctx: Context = {
      sandbox, scale, fleet, ec2, dir, measuredWith: '',
      controllerConfig: join(dir, 'controller.yaml'), agentConfig: join(dir, 'agent.yaml'),
    };
    writeFileSync(ctx.controllerConfig, controllerConfig(sandbox.url, fleet, scale));
    writeFileSync(ctx.agentConfig, agentConfig(sandbox.url, fleet, scale));
    const members = TARGETS.flatMap((t) => fleet.members[t]!.map((m, i) => ({ ...m, target: t, naiveGroup: fleet.naivePools[t]![Math.floor(i / QUOTA) % POOL]! })));

    // 1. Cold pass, then the naive cold start: every member authorizes its own address.
    const cold = await reconcilePass(ctx, 'cold', 'cold pass (empty groups)', [0]);
    scenarios.push(cold.result);
    log(`cold: ${cold.result.work}; ${cold.result.callsTotal} calls in ${cold.result.wallS.toFixed(2)} s`);
    const bootAddress = addedAddresses(cold.report);
    naive.push(await naiveRun(ctx, 'cold', 'cold pass (empty groups)', members.map((m) => ({ kind: 'authorize', groupId: m.naiveGroup, cidr: bootAddress.get(m.id)! }))));
    log(`naive cold: ${naive.at(-1)!.callsTotal} calls in ${naive.at(-1)!.wallS.toFixed(2)} s (bucket minimum ${naive.at(-1)!.bucketMinimumS.toFixed(2)} s)`);

    // 2. No-op pass.
    const noop = await reconcilePass(ctx, 'noop', 'no-op pass', [0]);
    scenarios.push(noop.result);
    log(`no-op: ${noop.result.work}; ${noop.result.mutating} mutating calls`);

    // 3. 5% churn; the naive way revokes each departing instance's rule and authorizes each arriving address.
    const naiveRules = new Map(
      (await control<Snapshot>(sandbox.url, 'snapshot')).regions.find((r) => r.name === PRIMARY)!.rules.filter((r) => r.cidrIpv4 && !r.isEgress).map((r) => [`${r.groupId} ${r.cidrIpv4}`, r.id]),
    );
    const changed = await churn(sandbox.url, ec2, fleet, throttle);
    const churned = await reconcilePass(ctx, 'churn', 'pass after 5% churn', [0]);
    churned.result.notes.push(`${changed.gone.length} members stopped or terminated, ${changed.fresh.length} launched or given a new address`);
    churned.result.floorS = noop.result.wallS + churned.result.bucketMinimumS;
    scenarios.push(churned.result);
    log(`churn: ${churned.result.work}`);
    const newAddress = addedAddresses(churned.report);
    const down = new Set([...changed.gone, ...changed.fresh].map((x) => x.id));
    const revokes: NaiveCall[] = members
      .filter((m) => down.has(m.id) && naiveRules.has(`${m.naiveGroup} ${bootAddress.get(m.id)}`))
      .map((m) => ({ kind: 'revoke', groupId: m.naiveGroup, ruleId: naiveRules.get(`${m.naiveGroup} ${bootAddress.get(m.id)}`)! }));
    const authorizes: NaiveCall[] = changed.fresh.map((m) => ({ kind: 'authorize', groupId: fleet.naivePools[m.target]![POOL - 1]!, cidr: newAddress.get(m.id)! }));
    naive.push(await naiveRun(ctx, 'churn', 'pass after 5% churn', [...revokes, ...authorizes]));

    // 4. Agent storm: one real `agent register` process first, then every other storm instance at once.
    const [probe, ...stormIds] = fleet.members[STORM_TARGET]!.map((m) => m.id) as [string, ...string[]];
    await quiet(sandbox.url, scale);
    const probeRun = await runBuiltCli(['agent', 'register', '-c', ctx.agentConfig, '--json', '--log-level', 'warn'], {
      AWS_ACCESS_KEY_ID: 'sandbox', AWS_SECRET_ACCESS_KEY: 'sandbox', AWS_EC2_METADATA_SERVICE_ENDPOINT: `${sandbox.url}/imds/${probe}/`,
    });
    if (probeRun.code !== 0) throw new ScenarioFailed(`agent storm: one \`sgsync agent register\` process exited ${probeRun.code}: ${probeRun.stderr.trim().slice(-2000)}`);
    const probeCalls = (JSON.parse(probeRun.stdout) as { calls?: Record<string, number> }).calls ?? {};
    probeAgent = { calls: probeCalls, wallS: probeRun.wallS, cpuS: probeRun.cpuS, maxRssMb: probeRun.maxRssKb / 1024, exitCode: probeRun.code };
    await quiet(sandbox.url, scale);
    const storm = await runStorm(sandbox.url, ctx.agentConfig, stormIds);
    const stormCounters = await control<Counters>(sandbox.url, 'counters');
    const stormBound = agentsLowerBound(stormIds.length);
    const failedAgents = Object.entries(storm.failed).map(([code, n]) => `${n} ${code}`).join(', ');
    scenarios.push({
      key: 'storm', title: `agent storm of ${stormIds.length}`, approach: 'sgsync', runAs: `${stormIds.length} concurrent \`register()\` in one process`,
      work: `${storm.succeeded} agents registered (${storm.added} rules added, ${storm.rounds} rounds), ${failedAgents || 'none failed'}`,
      ...fromCounters(stormCounters, scale), lowerBound: stormBound, lowerBoundTotal: sum(stormBound),
      wallS: storm.wallS, cpuS: storm.cpuS,
      notes: [
        `CPU is the benchmark process's while the ${stormIds.length} agents ran (all of them together); peak RSS is not one agent's, so none is given.`,
        `One \`sgsync agent register\` process, measured alone before the storm: ${Object.entries(probeCalls).map(([a, n]) => `${n} ${a}`).join(', ')}; ` +
          `${probeRun.wallS.toFixed(2)} s wall, ${probeRun.cpuS.toFixed(2)} s CPU, peak RSS ${(probeRun.maxRssKb / 1024).toFixed(0)} MB.`,
        `errors the agents' SDK clients met, every attempt counted (each was retried or led to another round): ${
          Object.entries(storm.awsErrors)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, n]) => `${n} ${k} ("${(storm.awsErrorMessages[k] ?? '').slice(0, 80)}")`)
            .join(', ') || 'none'
        }.`,
        ...Object.entries(storm.examples).map(([code, text]) => `an agent that failed with ${code}: ${text.slice(0, 300)}`),
      ],
    });
    log(`storm: ${scenarios.at(-1)!.work}; ${scenarios.at(-1)!.callsTotal} calls in ${storm.wallS.toFixed(2)} s (bucket minimum ${scenarios.at(-1)!.bucketMinimumS.toFixed(2)} s)`);
    const addresses = new Map((await control<Snapshot>(sandbox.url, 'snapshot')).regions.flatMap((r) => r.instances.map((i) => [i.id, i.publicIp] as const)));
    naive.push(
      await naiveRun(ctx, 'storm', `agent storm of ${stormIds.length}`, stormIds.map((id, i) => ({ kind: 'authorize', groupId: fleet.naivePools[STORM_TARGET]![Math.floor(i / QUOTA) % POOL]!, cidr: `${addresses.get(id)}/32` }))),
    );
    log(`naive storm: ${naive.at(-1)!.callsTotal} calls in ${naive.at(-1)!.wallS.toFixed(2)} s`);

    // 5. At AWS's own rates: time-scaled buckets shrink the minimum a pass is held to, never the time
    //    it spends starting and listing. The churn pass again, by a `reconcile` process and by the running controller.
    scenarios.push(...(await atAwsRates(ctx)));

    // 6. One region down: its API answers 503 to everything for the whole pass.
    const perTarget = size.name === 'full' ? 3 : 1;
    const terminated = await terminateIn(sandbox.url, ec2, fleet, [DOWN, ELSEWHERE], perTarget, throttle);
    await control(sandbox.url, 'faults', 'PUT', { rules: [{ action: '*', region: DOWN, unavailableRate: 1 }] });
    const regionDown = await reconcilePass(ctx, 'region-down', `one region down (${DOWN})`, [6]);
    await control(sandbox.url, 'faults', 'PUT', { rules: [] });
    const failedRegion = regionDown.report.regions.find((r) => r.region === DOWN);
    if (failedRegion?.status !== 'failed') throw new ScenarioFailed(`one region down: the pass did not report ${DOWN} as failed (${JSON.stringify(failedRegion)})`);
    const keptThere = regionDown.report.targets.flatMap((t) => t.kept).filter((k) => k.reason === 'region-unavailable').length;
    const revokedElsewhere = regionDown.report.targets.flatMap((t) => t.revoke).length;
    // What the scenario is for: the members terminated where the API answers lose their rules; those where it fails keep them.
    const revokedIds = new Set(regionDown.report.targets.flatMap((t) => t.revoke.map((r) => r.instanceId)));
    const missed = terminated.filter((m) => m.region !== DOWN && !revokedIds.has(m.id)).map((m) => m.id);
    const wrongly = terminated.filter((m) => m.region === DOWN && revokedIds.has(m.id)).map((m) => m.id);
    if (missed.length > 0 || wrongly.length > 0) {
      throw new ScenarioFailed(`one region down: rules not revoked for terminated members in ${ELSEWHERE} (${missed.join(', ') || 'none'}), revoked in ${DOWN} (${wrongly.join(', ') || 'none'})`);
    }
    const terminatedDown = terminated.filter((m) => m.region === DOWN).length;
    // The pass makes one call in the region that is down (its listing); every other call the fault answered is a retry of it.
    const faulted = Object.values(regionDown.result.calls).reduce((n, c) => n + c.faulted, 0);
    regionDown.result.faultRetries = Math.max(0, faulted - 1);
    regionDown.result.notes.push(
      `${terminatedDown} members terminated in ${DOWN} and ${terminated.length - terminatedDown} in ${ELSEWHERE} before the pass; ` +
        `the report names ${DOWN} as failed (${failedRegion.code ?? ''}: ${failedRegion.reason ?? ''}), keeps ${keptThere} rules of its members (region-unavailable) and revokes ${revokedElsewhere}. ` +
        `Fault-injected calls take no token; the calls above ${DOWN}'s one DescribeInstances are the SDK's retries.`,
    );
    scenarios.push(regionDown.result);
    log(`region down: ${regionDown.result.work}`);
    measuredWith = ctx.measuredWith;
  } finally {
    ec2.destroy();
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  machine.loadEnd = currentLoad();
  machine.loadDuring = stopSampling();
  const results: BenchResults = {
    format: 'sgsync-bench', version: 1, size, throttle: `aws:${scale}`, scale, regions: REGIONS.length, primary: PRIMARY,
    membersOfTargets: size.membersPerTarget * TARGETS.length, fleetPages, pool: { groups: POOL, quota: QUOTA }, machine, cli: { measuredWith },
    timings: { buildS: build.seconds, planningS, fleetS, totalS: (performance.now() - started) / 1000 },
    scenarios, naive, probeAgent, planning: plan,
  };
  const tables = renderTables(results);
  process.stdout.write(`${tables}\n`);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  const json = join(root, 'bench', 'results', size.name === 'full' ? 'latest.json' : 'small.json');
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  if (size.name === 'full') writeFileSync(join(root, 'docs', 'benchmarks.md'), renderPage(results, tables));
  log(`wrote ${json.slice(root.length)}${size.name === 'full' ? ' and docs/benchmarks.md' : ''}`);
  process.stdout.write(
    `\ntotal wall time ${results.timings.totalS.toFixed(0)} s (load average ${machine.loadStart.join(' ')} at start, ${machine.loadEnd.join(' ')} at end; ` +
      `1-minute load during the run: mean ${machine.loadDuring.mean}, max ${machine.loadDuring.max})\n`,
  );
}

try {
  await main();
} catch (e) {
  process.stderr.write(`bench: ${e instanceof ScenarioFailed ? 'a scenario failed: ' : ''}${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
