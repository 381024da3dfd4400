/**
 * `sgsync inventory` at fleet scale: 20,000 instances spread over the 17
 * regions every account has, loaded straight into the sandbox world, then
 * listed by the real CLI (a child process, as a user runs it) as JSON and as
 * a table. Reports wall-clock time per run and the EC2 calls made against the
 * minimum: one DescribeRegions plus ceil(n/1000) DescribeInstances pages per
 * region (and one DescribeSecurityGroupRules page per 1000 rules of the
 * target groups, which the rule status needs).
 *
 *   npm run build && npx tsx bench/inventory-fleet.ts [instances] [runs]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { allocatePrivateIpv4, allocatePublicIpv4 } from '../src/sandbox/addresses.js';
import { availabilityZones, subnetIdOf } from '../src/sandbox/actions/instances.js';
import { startSandbox } from '../src/sandbox/index.js';
import type { Instance, SecurityGroup } from '../src/sandbox/world.js';
import { DEFAULT_REGIONS } from '../src/sandbox/world.js';

const INSTANCES = Number(process.argv[2] ?? 20_000);
const RUNS = Number(process.argv[3] ?? 3);
const root = fileURLToPath(new URL('..', import.meta.url));

const running = await startSandbox({ port: 0, seed: 3 });
const world = running.sandbox.world;
const regions = DEFAULT_REGIONS.map((name) => world.region(name)!);
// Uneven, as real fleets are: the first regions hold most instances.
const weights = regions.map((_, i) => 1 / (i + 1));
const total = weights.reduce((a, b) => a + b, 0);
const perRegion = weights.map((w) => Math.floor((w / total) * INSTANCES));
perRegion[0]! += INSTANCES - perRegion.reduce((a, b) => a + b, 0);

const now = world.clock.now();
regions.forEach((region, r) => {
  const vpc = [...region.vpcs.values()][0]!;
  vpc.cidrBlock = '10.0.0.0/8';
  const zones = availabilityZones(region.name);
  for (let n = 0; n < perRegion[r]!; n++) {
    const zone = zones[n % zones.length]!;
    const state = n % 20 === 0 ? 'stopped' : 'running';
    const instance: Instance = {
      id: world.newId('i'), imageId: 'ami-0123456789abcdef0', instanceType: 't3.medium', state, launchTime: now - n * 1000,
      vpcId: vpc.id, subnetId: subnetIdOf(vpc.id, zone), availabilityZone: zone, privateIp: allocatePrivateIpv4(vpc, region),
      wantsIpv6: false, securityGroupIds: [], spot: false,
      tags: new Map([['Name', `node-${region.name}-${n}`], ['role', n % 4 === 0 ? 'api' : 'worker']]),
    };
    if (state === 'running') {
      instance.publicIp = allocatePublicIpv4(world.rng, world.publicIps);
      world.publicIps.add(instance.publicIp);
    }
    region.instances.set(instance.id, instance);
  }
});
const primary = world.region('us-east-1')!;
const pool: SecurityGroup[] = [0, 1, 2, 3].map((g) => {
  const group: SecurityGroup = { id: world.newId('sg'), name: `pool-${g}`, description: 'pool', vpcId: [...primary.vpcs.keys()][0]!, tags: new Map(), ruleIds: new Set(), quota: 250 };
  primary.groups.set(group.id, group);
  return group;
});

const dir = mkdtempSync(join(tmpdir(), 'sgsync-bench-'));
const config = join(dir, 'sgsync.yaml');
writeFileSync(config, `deployment: bench
targets:
  - name: api
    region: us-east-1
    groups: [${pool.map((g) => g.id).join(', ')}]
    ports: [443]
    quota: 250
    members: { tags: { role: api } }
aws: { endpoint: "${running.url}" }
`);

function inventory(args: string[]): Promise<{ ms: number; stdout: string; code: number | null }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['dist/bin/sgsync.js', 'inventory', '-c', config, ...args], {
      cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, AWS_ACCESS_KEY_ID: 'sandbox', AWS_SECRET_ACCESS_KEY: 'sandbox' },
    });
    let stdout = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.once('close', (code) => resolve({ ms: performance.now() - started, stdout, code }));
  });
}

const minimum = 1 + perRegion.reduce((n, c) => n + Math.max(1, Math.ceil(c / 1000)), 0);
console.log(`${INSTANCES} instances in ${regions.length} regions (largest ${perRegion[0]}, smallest ${perRegion.at(-1)}); minimum calls: ${minimum} (1 DescribeRegions + ${minimum - 1} DescribeInstances pages)`);
const idle = await inventory(['--json', '--region', 'us-east-1']);
console.log(`process start + one small region: ${idle.ms.toFixed(0)} ms`);
for (const format of [['--json'], []]) {
  const times: number[] = [];
  let calls: Record<string, number> = {};
  for (let i = 0; i < RUNS; i++) {
    running.sandbox.counters.reset();
    const r = await inventory(format);
    if (r.code !== 0) throw new Error(`inventory exited ${r.code}`);
    times.push(r.ms);
    // The sandbox's own count: what reached the server, whatever the client says.
    calls = {};
    for (const byAction of Object.values(running.sandbox.counters.snapshot())) {
      for (const [action, c] of Object.entries(byAction)) calls[action] = (calls[action] ?? 0) + c.calls;
    }
  }
  times.sort((a, b) => a - b);
  const described = calls.DescribeInstances ?? 0;
  console.log(`inventory ${format[0] ?? '(table)'}: wall ${times.map((t) => t.toFixed(0)).join(' / ')} ms (median ${times[Math.floor(times.length / 2)]!.toFixed(0)}); calls ${JSON.stringify(calls)}; DescribeRegions+DescribeInstances ${(calls.DescribeRegions ?? 0) + described} vs minimum ${minimum}`);
}
await running.close();
rmSync(dir, { recursive: true, force: true });
