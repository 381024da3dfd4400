/**
 * DescribeInstances at fleet scale: loads 100,000 instances and 20,000 rules
 * straight into the sandbox world (not through 100k API calls), then walks
 * every page of 1000, first as plain HTTP requests (the sandbox's own
 * latency) and then through the real EC2 SDK client (which adds its XML
 * parsing), and reports p50/p99 wall-clock and CPU time per page and the
 * process memory. Client and server share this process, so RSS counts both;
 * CPU time is the steadier figure on a machine that is busy with other work.
 *
 *   npx tsx bench/describe-instances-latency.ts [instances] [rules]
 */
import { performance } from 'node:perf_hooks';
import { DescribeInstancesCommand, EC2Client, type Filter } from '@aws-sdk/client-ec2';
import { allocatePrivateIpv4, allocatePublicIpv4 } from '../src/sandbox/addresses.js';
import { availabilityZones, subnetIdOf } from '../src/sandbox/actions/instances.js';
import { startSandbox } from '../src/sandbox/index.js';
import type { Instance, Region, Rule, SecurityGroup, Vpc, World } from '../src/sandbox/world.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const INSTANCES = Number(process.argv[2] ?? 100_000);
const RULES = Number(process.argv[3] ?? 20_000);
const REGION = 'us-east-1';
const ROLES = ['web', 'api', 'worker', 'batch'];

function load(world: World, region: Region): void {
  const vpc: Vpc = { id: world.newId('vpc'), cidrBlock: '10.0.0.0/8', isDefault: false, tags: new Map(), nextHost: 10 };
  region.vpcs.set(vpc.id, vpc);
  const fleetGroup: SecurityGroup = { id: world.newId('sg'), name: 'fleet', description: 'fleet', vpcId: vpc.id, tags: new Map(), ruleIds: new Set() };
  region.groups.set(fleetGroup.id, fleetGroup);
  const zones = availabilityZones(region.name);
  const now = world.clock.now();
  for (let n = 0; n < INSTANCES; n++) {
    const zone = zones[n % zones.length]!;
    const state = n % 50 === 0 ? 'stopped' : 'running';
    const instance: Instance = {
      id: world.newId('i'),
      imageId: 'ami-0123456789abcdef0',
      instanceType: n % 3 === 0 ? 'm7g.large' : 't3.medium',
      state,
      launchTime: now - n * 1000,
      vpcId: vpc.id,
      subnetId: subnetIdOf(vpc.id, zone),
      availabilityZone: zone,
      privateIp: allocatePrivateIpv4(vpc, region),
      wantsIpv6: false,
      securityGroupIds: [fleetGroup.id],
      tags: new Map([
        ['Name', `node-${n}`],
        ['role', ROLES[n % ROLES.length]!],
        ['env', n % 10 === 0 ? 'staging' : 'prod'],
      ]),
      spot: n % 7 === 0,
      stateReason: state === 'stopped' ? 'Client.UserInitiatedShutdown' : undefined,
    };
    if (state === 'running') {
      instance.publicIp = allocatePublicIpv4(world.rng, world.publicIps);
      world.publicIps.add(instance.publicIp);
    }
    region.instances.set(instance.id, instance);
  }
  const groups: SecurityGroup[] = [];
  for (let g = 0; g < Math.ceil(RULES / 60); g++) {
    const group: SecurityGroup = { id: world.newId('sg'), name: `allow-${g}`, description: 'allow-list', vpcId: vpc.id, tags: new Map(), ruleIds: new Set() };
    region.groups.set(group.id, group);
    groups.push(group);
  }
  const instances = [...region.instances.values()];
  for (let r = 0; r < RULES; r++) {
    const group = groups[Math.floor(r / 60)]!;
    const member = instances[r % instances.length]!;
    const rule: Rule = {
      id: world.newId('sgr'),
      groupId: group.id,
      isEgress: false,
      protocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      cidrIpv4: `${member.publicIp ?? member.privateIp}/32`,
      description: `sgsync ${member.id}`,
      tags: new Map([['sgsync:managed-by', 'bench'], ['sgsync:instance-id', member.id]]),
    };
    region.rules.set(rule.id, rule);
    group.ruleIds.add(rule.id);
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Wall-clock and CPU milliseconds of each page. */
interface Samples {
  wall: number[];
  cpu: number[];
}

async function timed<T>(samples: Samples, call: () => Promise<T>): Promise<T> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await call();
  samples.wall.push(performance.now() - started);
  const used = process.cpuUsage(cpu);
  samples.cpu.push((used.user + used.system) / 1000);
  return result;
}

function summary(label: string, samples: Samples): string {
  const f = (x: number) => x.toFixed(1).padStart(6);
  const stats = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return `p50 ${f(percentile(sorted, 50))}  p99 ${f(percentile(sorted, 99))}`;
  };
  return `${label.padEnd(40)} ${String(samples.wall.length).padStart(4)} pages  wall ms ${stats(samples.wall)}  cpu ms ${stats(samples.cpu)}`;
}

/** Every page through the EC2 SDK client, as sgsync reads them. */
async function walkSdk(client: EC2Client, filters: Filter[] | undefined, samples: Samples): Promise<number> {
  let token: string | undefined;
  let seen = 0;
  do {
    const page = await timed(samples, () => client.send(new DescribeInstancesCommand({ MaxResults: 1000, NextToken: token, Filters: filters })));
    for (const r of page.Reservations ?? []) seen += r.Instances?.length ?? 0;
    token = page.NextToken;
  } while (token);
  return seen;
}

/** Every page as plain HTTP requests: the sandbox's latency, without the SDK's XML parsing. */
async function walkHttp(url: string, samples: Samples): Promise<number> {
  // The sandbox accepts any credentials; only the SigV4 scope's region matters.
  const authorization = `AWS4-HMAC-SHA256 Credential=AKIDSANDBOX/20300101/${REGION}/ec2/aws4_request, SignedHeaders=host, Signature=0`;
  let token: string | undefined;
  let seen = 0;
  do {
    const body = new URLSearchParams({ Action: 'DescribeInstances', Version: '2016-11-15', MaxResults: '1000', ...(token ? { NextToken: token } : {}) });
    // Bytes, not text: decoding 1.6 MB into a string is the client's cost, not the sandbox's.
    const xml = await timed(samples, async () => {
      const response = await fetch(url, { method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, body });
      return Buffer.from(await response.arrayBuffer());
    });
    for (let at = xml.indexOf('<instanceId>'); at >= 0; at = xml.indexOf('<instanceId>', at + 1)) seen++;
    const tail = xml.subarray(xml.lastIndexOf('</reservationSet>')).toString('utf8');
    token = /<nextToken>([^<]+)<\/nextToken>/.exec(tail)?.[1];
  } while (token);
  return seen;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function main(): Promise<void> {
  const running = await startSandbox({ port: 0, seed: 42, log: () => undefined });
  const world = running.sandbox.world;
  const region = world.region(REGION)!;
  const loadStart = performance.now();
  load(world, region);
  const loaded = process.memoryUsage();
  console.log(`loaded ${region.instances.size} instances and ${region.rules.size} rules in ${((performance.now() - loadStart) / 1000).toFixed(1)} s; RSS ${mb(loaded.rss)}, heap ${mb(loaded.heapUsed)}`);

  const client = new EC2Client({ region: REGION, endpoint: running.url, credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' }, maxAttempts: 1 });
  await walkHttp(running.url, { wall: [], cpu: [] }); // warm-up: JIT, connections

  const http: Samples = { wall: [], cpu: [] };
  for (let round = 0; round < 3; round++) {
    const seen = await walkHttp(running.url, http);
    if (seen !== INSTANCES) throw new Error(`a walk saw ${seen} instances, expected ${INSTANCES}`);
  }
  const sdk: Samples = { wall: [], cpu: [] };
  const seen = await walkSdk(client, undefined, sdk);
  if (seen !== INSTANCES) throw new Error(`a walk saw ${seen} instances, expected ${INSTANCES}`);
  const filtered: Samples = { wall: [], cpu: [] };
  const webCount = await walkSdk(client, [{ Name: 'tag:role', Values: ['web'] }, { Name: 'instance-state-name', Values: ['running'] }], filtered);

  console.log(summary('sandbox: HTTP round trip, 1000 per page', http));
  console.log(summary('SDK end to end, 1000 per page', sdk));
  console.log(summary(`SDK, tag:role=web + running (${webCount})`, filtered));
  const after = process.memoryUsage();
  console.log(`RSS after the walks ${mb(after.rss)} (client and server in one process), heap ${mb(after.heapUsed)}`);
  client.destroy();
  await running.close();
}

await main();
