/**
 * The benchmark's results as data (bench/results/latest.json) and as the
 * Markdown tables that are printed and written to docs/benchmarks.md: one
 * rendering serves both, so the page shows exactly what the run printed.
 */
import type { ActionCount } from './sandbox-control.js';
import type { BucketUse } from './call-bounds.js';
import type { FleetSize } from './fleet.js';
import type { Machine } from './machine.js';

/** The goals the issue sets; a goal missed is a figure, not a failure. */
export const GOALS = {
  callsPerLowerBound: 1.05,
  wallPerBucketMinimum: 1.2,
  planningMs: 200,
  peakRssMb: 300,
} as const;

export type ScenarioKey = 'cold' | 'noop' | 'churn' | 'storm' | 'region-down' | 'churn-aws' | 'churn-daemon';

export interface ScenarioResult {
  key: ScenarioKey;
  title: string;
  approach: 'sgsync' | 'naive';
  /** How it ran: the built CLI as a process, agents in one process, or SDK calls. */
  runAs: string;
  /** What the scenario did, in a few words (rules added and revoked, agents that failed, …). */
  work: string;
  exitCode?: number;
  calls: Record<string, ActionCount>;
  callsTotal: number;
  lowerBound?: Record<string, number>;
  lowerBoundTotal?: number;
  mutating: number;
  wallS: number;
  bucketMinimumS: number;
  bindingBucket?: BucketUse;
  cpuS: number;
  /** Peak RSS of the measured process; absent when it ran inside the benchmark's own process. */
  maxRssMb?: number;
  /**
   * About the least wall time a process can take for this pass: a no-op pass's wall by the same kind of
   * process on the same fleet (start-up, listing, reading rules and planning, with nothing to change),
   * plus the bucket minimum of the changes, which cannot start before the plan does.
   */
  floorS?: number;
  /** Calls that only retried a call an injected fault kept answering: the SDK's retry budget, not the pass's choice. */
  faultRetries?: number;
  /** Where a pass spent its time, from its report or log line (seconds). */
  phases?: { inventoryS: number; observeS: number; planS: number; applyS: number };
  notes: string[];
}

export interface PlanningWorld {
  observed: number;
  ruleChanges: number;
  wallMsMedian: number;
  wallMsMax: number;
  cpuMsMedian: number;
}

export interface PlanningResult {
  members: number;
  runs: number;
  /** How the figures were obtained: `runPlanScale()` in this process, or `bench/plan-scale.ts --json` as a child. */
  via: string;
  steady: PlanningWorld;
  cold: PlanningWorld;
  maxRssMb?: number;
}

export interface BenchResults {
  format: 'sgsync-bench';
  version: 1;
  size: FleetSize;
  throttle: string;
  scale: number;
  regions: number;
  primary: string;
  membersOfTargets: number;
  /** DescribeInstances pages listing every instance of every region would take. */
  fleetPages: number;
  pool: { groups: number; quota: number };
  machine: Machine;
  cli: { measuredWith: string };
  timings: { buildS: number; planningS: number; fleetS: number; totalS: number };
  scenarios: ScenarioResult[];
  naive: ScenarioResult[];
  probeAgent?: { calls: Record<string, number>; wallS: number; cpuS: number; maxRssMb: number; exitCode: number };
  planning: PlanningResult;
}

const f = (x: number, digits: number) => x.toFixed(digits);
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const mark = (met: boolean) => (met ? 'met' : '**missed**');

function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function callsCell(s: ScenarioResult): string {
  if (s.lowerBoundTotal === undefined) return int(s.callsTotal);
  const against = (calls: number, bound: number) => `${int(calls)} / ${int(bound)} = ${f(calls / bound, 3)}× (${mark(calls / bound <= GOALS.callsPerLowerBound)})`;
  const parts = [against(s.callsTotal, s.lowerBoundTotal)];
  // The goal's own bound has no group check in it: held to that too, the check's call counts against the pass.
  const check = s.lowerBound?.DescribeSecurityGroups ?? 0;
  if (check > 0) parts.push(`without the group check in the bound: ${against(s.callsTotal, s.lowerBoundTotal - check)}`);
  if (s.faultRetries) {
    parts.push(
      `${int(s.faultRetries)} of the calls are the SDK's retries of the one call the fault kept failing (up to \`aws.maxAttempts\`); ` +
        `without them: ${against(s.callsTotal - s.faultRetries, s.lowerBoundTotal)}`,
    );
  }
  return parts.join('; ');
}

function wallCell(s: ScenarioResult, judged: boolean): string {
  if (s.bucketMinimumS <= 0) return `${f(s.wallS, 2)} s vs 0 s: every call fits in the bursts, not judged`;
  const ratio = s.wallS / s.bucketMinimumS;
  const cell = `${f(s.wallS, 2)} s vs ${f(s.bucketMinimumS, 2)} s = ${f(ratio, 2)}×${judged ? ` (${mark(ratio <= GOALS.wallPerBucketMinimum)})` : ''}`;
  if (s.floorS === undefined) return cell;
  const floor = s.floorS / s.bucketMinimumS;
  const reach = floor > GOALS.wallPerBucketMinimum ? 'so no process can meet the goal at this scale' : 'so the goal is within reach';
  return `${cell}; floor: the no-op pass's wall + the minimum = ${f(s.floorS, 2)} s = ${f(floor, 2)}× the minimum, ${reach}; this pass took ${f(s.wallS / s.floorS, 2)}× the floor`;
}

function bindingCell(s: ScenarioResult): string {
  const b = s.bindingBucket;
  if (!b) return '—';
  const use = `${b.bucket} in ${b.region}: ${int(b.tokens)} token${b.tokens === 1 ? '' : 's'} of a ${b.burst} burst`;
  return s.bucketMinimumS > 0 ? `${use}, refill ${f(b.refillPerSecond, 0)}/s` : `none; fullest: ${use}`;
}

/** A ratio with enough digits to tell small ones apart. */
const times = (x: number) => `${f(x, x < 0.1 ? 3 : x < 10 ? 2 : 1)}×`;

function rssCell(s: ScenarioResult): string {
  if (s.maxRssMb === undefined) return 'in-process (see note)';
  return `${f(s.maxRssMb, 0)} MB (${mark(s.maxRssMb < GOALS.peakRssMb)})`;
}

function mutatingCell(s: ScenarioResult): string {
  return s.key === 'noop' && s.approach === 'sgsync' ? `${int(s.mutating)} (${mark(s.mutating === 0)})` : int(s.mutating);
}

/** The Markdown tables (and the machine), exactly as printed and as written to docs/benchmarks.md. */
export function renderTables(r: BenchResults): string {
  const out: string[] = [];
  const m = r.machine;
  out.push('### Machine', '');
  out.push(
    table(
      ['CPU', 'cores', 'memory', 'Node', 'OS', 'load average at start (1/5/15 min)', 'at end', '1-min load during the run (mean / max)', 'date', 'whole run'],
      [[
        m.cpuModel, m.cores, `${m.memoryGb} GB`, m.node, m.os, m.loadStart.join(' / '), (m.loadEnd ?? []).join(' / '),
        m.loadDuring ? `${m.loadDuring.mean} / ${m.loadDuring.max}` : '—', m.date, `${f(r.timings.totalS, 0)} s`,
      ]],
    ),
    '',
  );
  out.push(
    `Fleet: ${int(r.size.instances)} instances in ${r.regions} regions, ${int(r.membersOfTargets)} of them members of three targets in ${r.primary} ` +
      `(each a pool of ${r.pool.groups} groups × ${r.pool.quota} rules) and ${int(r.size.storm + 1)} that run an agent for the storm (one of them as a process of its own). ` +
      `Listing every instance would take ${int(r.fleetPages)} DescribeInstances pages; a pass lists those the targets' common tag admits. ` +
      `Throttling \`${r.throttle}\`: AWS's bucket sizes, refills ${r.scale}× faster, so a bucket minimum of 1 s here is ${r.scale} s against AWS. ` +
      `Fleet built in ${f(r.timings.fleetS, 1)} s (throttling off); planning figures took ${f(r.timings.planningS, 1)} s; \`npm run build\` ${r.timings.buildS > 0 ? `took ${f(r.timings.buildS, 1)} s` : 'was not needed (dist/ up to date)'}. ` +
      `CPU and peak RSS of CLI processes: ${r.cli.measuredWith}.`,
    '',
  );

  out.push('### sgsync, per scenario', '');
  out.push(
    table(
      ['scenario', 'ran as', 'what it did', 'EC2 calls / lower bound (≤ 1.05×)', 'mutating calls', 'wall vs token-bucket minimum (≤ 1.2×)', 'bucket that sets the minimum', 'CPU', 'peak RSS (< 300 MB)'],
      r.scenarios.map((s) => [s.title, s.runAs, s.work, callsCell(s), mutatingCell(s), wallCell(s, true), bindingCell(s), `${f(s.cpuS, 2)} s`, rssCell(s)]),
    ),
    '',
  );
  const notes = r.scenarios.flatMap((s) => s.notes.map((n) => `- ${s.title}: ${n}`));
  if (notes.length) out.push(...notes, '');

  const phased = r.scenarios.filter((s) => s.phases);
  if (phased.length) {
    out.push(
      '### Where a pass spends its time',
      '',
      'From the `timings` of each `sgsync reconcile --json` report, and of the `controller run` log line. Listing the members of 17 regions takes the same time ' +
        'whatever the buckets hold, so the pass as a whole cannot come near a token-bucket minimum of a fraction of a second; the ' +
        'changes (every authorize and revoke, pacing waits included) are what the buckets slow down, and they are held against the same minimum here. ' +
        'The rules are read while the instances are listed, so the two columns overlap.',
      '',
    );
    out.push(
      table(
        ['scenario', 'listing instances', 'reading rules', 'planning', 'changes', 'changes vs token-bucket minimum (≤ 1.2×)'],
        phased.map((s) => {
          const p = s.phases!;
          const judged = s.bucketMinimumS > 0 ? `${f(p.applyS, 2)} s vs ${f(s.bucketMinimumS, 2)} s = ${f(p.applyS / s.bucketMinimumS, 2)}× (${mark(p.applyS / s.bucketMinimumS <= GOALS.wallPerBucketMinimum)})` : 'minimum 0 s, not judged';
          return [s.title, `${f(p.inventoryS, 2)} s`, `${f(p.observeS, 2)} s`, `${f(p.planS, 2)} s`, `${f(p.applyS, 2)} s`, judged];
        }),
      ),
      '',
    );
  }

  out.push(
    '### EC2 calls by action against the lower bound',
    '',
    'Calls are every request that reached the sandbox. Of them, throttled: answered `RequestLimitExceeded` (no token taken); ' +
      'fault-injected: answered by a fault rule (no token taken); failed: answered with another AWS error (a token taken).',
    '',
  );
  const rows: (string | number)[][] = [];
  for (const s of r.scenarios) {
    const actions = [...new Set([...Object.keys(s.calls), ...Object.keys(s.lowerBound ?? {})])].sort();
    for (const a of actions) {
      const c = s.calls[a];
      const bound = s.lowerBound?.[a];
      const calls = c?.calls ?? 0;
      rows.push([
        s.title, a, int(calls), int(c?.throttled ?? 0), int(c?.faulted ?? 0), int(c?.failed ?? 0),
        bound === undefined ? '—' : int(bound),
        bound === undefined ? '—' : bound === 0 ? (calls === 0 ? '—' : 'over (bound 0)') : `${f(calls / bound, 3)}×`,
      ]);
    }
  }
  out.push(table(['scenario', 'action', 'calls', 'throttled', 'fault-injected', 'failed', 'lower bound', 'ratio'], rows), '');

  out.push('### Naive approach (one authorize or revoke call per instance) against sgsync, same run', '');
  out.push(
    table(
      ['scenario', 'naive: calls (mutating)', 'naive: wall vs bucket minimum', 'naive: failed after retries', 'naive CPU (client side)', 'sgsync: calls (mutating)', 'sgsync: wall', 'naive ÷ sgsync: calls', 'naive ÷ sgsync: wall'],
      r.scenarios.map((s) => {
        const n = r.naive.find((x) => x.key === s.key);
        if (!n) return [s.title, '—', '—', '—', '—', `${int(s.callsTotal)} (${int(s.mutating)})`, `${f(s.wallS, 2)} s`, '—', '—'];
        return [
          s.title,
          `${int(n.callsTotal)} (${int(n.mutating)})`,
          wallCell(n, false),
          n.work,
          `${f(n.cpuS, 2)} s`,
          `${int(s.callsTotal)} (${int(s.mutating)})`,
          `${f(s.wallS, 2)} s`,
          times(n.callsTotal / s.callsTotal),
          times(n.wallS / s.wallS),
        ];
      }),
    ),
    '',
  );
  const naiveNotes = r.naive.flatMap((s) => s.notes.map((n) => `- naive, ${s.title}: ${n}`));
  if (naiveNotes.length) out.push(...naiveNotes, '');

  const p = r.planning;
  out.push(`### Planning ${int(p.members)} members (\`plan()\` alone, median of ${p.runs} runs after warm-up)`, '');
  out.push(
    table(
      ['world', 'observed rules', 'rules to change', 'wall, median', 'wall, worst', 'CPU, median', '< 200 ms'],
      [
        ['steady (rules of the last pass, then churn)', int(p.steady.observed), int(p.steady.ruleChanges), `${f(p.steady.wallMsMedian, 0)} ms`, `${f(p.steady.wallMsMax, 0)} ms`, `${f(p.steady.cpuMsMedian, 0)} ms`, mark(p.steady.wallMsMedian < GOALS.planningMs)],
        ['cold (empty groups)', int(p.cold.observed), int(p.cold.ruleChanges), `${f(p.cold.wallMsMedian, 0)} ms`, `${f(p.cold.wallMsMax, 0)} ms`, `${f(p.cold.cpuMsMedian, 0)} ms`, mark(p.cold.wallMsMedian < GOALS.planningMs)],
      ],
    ),
    '',
    `Measured through ${p.via}${p.maxRssMb !== undefined ? `; peak RSS of that process ${f(p.maxRssMb, 0)} MB (the copies planned included: their garbage is left to the collector)` : ''}.`,
    '',
  );
  return out.join('\n');
}

/** The whole page: what is measured and how to rerun it, then the tables. */
export function renderPage(r: BenchResults, tables: string): string {
  return `# Benchmarks

Generated by \`npm run bench\` (bench/run.ts) on ${r.machine.date.slice(0, 10)}; the raw figures are in
[bench/results/latest.json](../bench/results/latest.json). Every number below is what that run printed.

## What is measured

sgsync runs against the sandbox (\`sgsync sandbox\`, its own process) with AWS's EC2 throttling: a token
bucket per region and action with AWS's sizes (authorize and revoke share one of 50 tokens refilled at 5
per second; describes 100 at 20 per second), refilled ${r.scale}× faster than AWS so that a run takes minutes.
Before each scenario every bucket is full and the sandbox's call counters are zeroed; the counters (what
reached the server, retries included) are the calls reported.

1. **Cold pass**: \`sgsync reconcile\` with empty groups.
2. **No-op pass**: the same again, nothing changed.
3. **5% churn**: a twentieth of the members terminated, stopped, stopped and started (new address) or
   newly launched, then a pass.
4. **Agent storm**: ${r.size.storm} instances run \`agent register\` at the same moment, into a fourth pool in
   ${r.primary}. The agents are concurrent calls of the command's own code (\`register()\` with its own SDK
   clients, retries and IMDSv2 session each) inside the benchmark process: ${r.size.storm} Node processes starting at once on a small machine
   would measure its CPU, not the buckets. One real \`agent register\` process is measured beside it
   (its CPU is in the table). The agents' SDK waits before retrying a throttled call in real seconds
   (up to 1 s at first, doubling to at most 20 s), while the buckets refill ${r.scale}× faster than AWS's: a bucket
   nobody draws from fills up ${r.scale}× sooner (the authorize bucket in ${10 / r.scale} s here, 10 s on AWS), and what
   it would take beyond full is lost. Agents waiting between tries therefore leave more of it unused here than
   they would against AWS, so the storm's wall-time ratio overstates what throttling costs them there; their
   throttled calls go the other way, as more tries find AWS's slower bucket empty.
   \`bench/agents-concurrent.ts\` measures a storm at AWS's own rates (\`aws\`) as well as scaled.
5. **5% churn at AWS's own rates**: the buckets refill at AWS's rates (\`aws:1\`) and sgsync paces itself
   to them. Time-scaled buckets shrink the minimum a pass is held to, never the seconds it spends starting
   Node and listing the fleet, so a scaled whole-pass ratio overstates that overhead. Two more churns of
   other members, each then reconciled: by a \`sgsync reconcile\` process, and by \`sgsync controller run\`,
   whose second pass is measured (its first, with nothing to do, made its SDK clients and compiled its
   code, as every pass but the first of a running controller finds them).
6. **One region down**: every EC2 call in one member region fails (HTTP 503) during the pass; a few
   members there and elsewhere were terminated first. The pass must keep that region's rules, revoke the
   others' and report the region.

For scenarios 1 to 4, the **naive approach** runs in the same sandbox, into its own pools in the same region (so the
same buckets): one AuthorizeSecurityGroupIngress per instance that comes up, one
RevokeSecurityGroupIngress per instance that goes, as boot scripts and shutdown hooks do. It has nothing to
do in a no-op pass, and a member region being down does not touch it. It never lists the fleet, so it
cannot remove the rule of an instance that crashed or was reclaimed without running its hook: its calls
buy less than sgsync's.

- **Lower bound of calls**: one DescribeRegions; the DescribeInstances pages each region's listed instances
  fill at 1000 a page (a pass lists the instances the targets' common tag admits, and looks up by id any
  other its rules name); the DescribeSecurityGroupRules pages the pool groups' rules fill; one DescribeSecurityGroups
  per target region (per 200 pool groups), the one call it costs to check that the pool groups exist, since a
  group that does not exist reads as an empty one; one authorize and one revoke call per group that changed. For
  agents: one rules page and one authorize each (agents do not check the groups: AWS's refusal tells them).
  The goal's bound has no group check in it, so each controller pass is also held to the bound without it
  (the check's call then counts against the pass).
- **Token-bucket minimum**: for the calls actually made, per bucket max(0, (tokens taken − bucket size) /
  refill rate) at the run's scale; the scenario's minimum is the slowest bucket's. Where every call fits in
  the bursts the minimum is 0 s and the wall-time goal is not judged. A controller pass is also held
  against it by its changes alone (its report's \`timings\`), since listing the fleet takes seconds that no
  bucket imposes.
- **Floor** (the pass after churn): the changes cannot start before the plan, and the plan needs every
  region listed, so a pass takes about as long as a no-op pass on the same fleet (start-up, listing,
  reading rules, planning) plus the bucket minimum of its changes. Refills 10× faster shrink the minimum
  tenfold but not the no-op pass, so at this scale the floor alone can exceed 1.2 × the minimum; the
  table says so, and the same pass at AWS's own rates is judged beside it.
- **Pacing**: sgsync is configured with the sandbox's bucket sizes and refill rates (\`aws.pacing\`), as it
  is with AWS's by default, and spaces its own calls to fit them.
- **Wall, CPU and peak RSS** are those of the \`sgsync\` process (\`node dist/bin/sgsync.js reconcile\`, the
  built CLI, Node's start-up included), measured by the kernel (GNU time's \`%M\`, or /proc VmHWM). For
  \`controller run\`, wall is the pass as its log gives it, and CPU and peak RSS come from /proc.
- **Planning** is \`plan()\` alone, in the benchmark's own process (bench/plan-scale.ts), on a world of
  100,000 members and the rules a controller left for them. Every run plans a fresh copy of the world,
  as every pass plans what a fresh listing returned, and leaves the heap to the collector as a running
  controller does. No collection is forced between runs: V8's forced collection does not keep alive what
  the planner's compiled code depends on, so the next plan would run while its functions are compiled
  again.
- **Goals**: calls ≤ 1.05 × the lower bound; no mutating call in a no-op pass; wall ≤ 1.2 × the bucket
  minimum where it is above 0; planning 100,000 members in under 200 ms; peak memory under 300 MB.

Rerun with \`npm run bench\` (about 3 minutes on 2 cores; it builds dist/ first when it is missing or
older than the sources). \`npm run bench -- --scale small\` is a one-minute smoke run that writes
bench/results/small.json and leaves this page alone.

## Results

${tables}`;
}
