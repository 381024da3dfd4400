/**
 * How long the planner takes for a large fleet: 100,000 running members and
 * one target with a pool of 16 groups at quota 60 (so most rules are
 * blocked, as they would be). Reports the median of several runs, for an
 * empty pool and for a full one at steady state.
 *
 *   npx tsx bench/plan-scale.ts [members]
 */
import { performance } from 'node:perf_hooks';
import { applyPlanToObserved, plan, type Member, type PlanInput } from '../src/core/index.js';

const MEMBERS = Number(process.argv[2] ?? 100_000);
const RUNS = 7;
const REGIONS = ['eu-west-1', 'ap-southeast-2', 'us-west-2', 'sa-east-1'];

function address(n: number): string {
  // 54.x.y.z: public, unique per member.
  return `54.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

const members: Member[] = Array.from({ length: MEMBERS }, (_, n) => ({
  instanceId: `i-${n.toString(16).padStart(17, '0')}`,
  region: REGIONS[n % REGIONS.length]!,
  state: 'running',
  publicIpv4: address(n),
  privateIpv4: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
  ipv6: [],
  tags: { role: 'worker' },
}));

const input: PlanInput = {
  deployment: 'bench',
  targets: [
    {
      name: 'api',
      region: 'us-east-1',
      groupIds: Array.from({ length: 16 }, (_, i) => `sg-${String(i).padStart(17, '0')}`),
      ports: [{ protocol: 'tcp', fromPort: 443, toPort: 443 }],
      families: ['ipv4'],
      address: 'public',
      quota: 60,
      selector: { tags: { role: ['worker'] } },
    },
  ],
  members,
  regionInventory: Object.fromEntries(REGIONS.map((r) => [r, { status: 'complete' as const }])),
  observed: [],
  scope: { kind: 'all' },
  now: Date.UTC(2025, 5, 1),
  safety: { graceSeconds: 300, revokeLimit: { fraction: 0.5 }, force: false },
};

/** Median wall time and median CPU time (user + system) of RUNS runs, in ms. */
function measure(f: () => void): string {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const startCpu = process.cpuUsage();
    const start = performance.now();
    f();
    wall.push(performance.now() - start);
    const used = process.cpuUsage(startCpu);
    cpu.push((used.user + used.system) / 1000);
  }
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!.toFixed(0);
  return `${mid(wall)} ms wall, ${mid(cpu)} ms CPU`;
}

const first = plan(input);
let id = 0;
const steady = { ...input, observed: applyPlanToObserved([], first, () => `sgr-${++id}`) };
const again = plan(steady);

const placed = first.authorize.reduce((n, b) => n + b.items.length, 0);
console.log(`members: ${MEMBERS}, pool: 16 groups x quota 60`);
console.log(`empty pool:  ${measure(() => plan(input))} (placed ${placed}, blocked ${first.blocked.length})`);
console.log(`full pool:   ${measure(() => plan(steady))} (observed ${steady.observed.length}, authorize ${again.authorize.length}, revoke ${again.revoke.length}, blocked ${again.blocked.length})`);
