/**
 * The fleet the benchmarks run against, built through the EC2 API of a
 * sandbox process: instances spread evenly over the regions (no region
 * holding an exact multiple of a 1000-instance page), members of three
 * targets in the primary region whose pools respect AWS's per-interface
 * limit (16 groups × 60 rules = 960 ≤ 1000), a fourth pool for agents that
 * register on their own, and a second set of pools for the naive approach,
 * in the same region so it draws from the same buckets.
 */
import {
  CreateSecurityGroupCommand,
  EC2Client,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { BUCKET_SIZES } from '../../src/sandbox/throttle.js';
import { control } from './sandbox-control.js';

export const PRIMARY = 'us-east-1';
export const REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'sa-east-1', 'eu-west-1', 'eu-west-2', 'eu-west-3',
  'eu-central-1', 'eu-north-1', 'ap-south-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-southeast-1', 'ap-southeast-2',
];
export const TARGETS = ['api', 'db', 'cache'] as const;
/** The target the agents of the storm register into. */
export const STORM_TARGET = 'web';
/** AWS's default rules per group; 16 such groups are the most one interface may carry (16 × 60 ≤ 1000). */
export const QUOTA = 60;
export const POOL = 16;

export interface FleetSize {
  name: 'full' | 'small';
  instances: number;
  membersPerTarget: number;
  /** Agents registering at once; their instances are part of `instances`. */
  storm: number;
}

export const SIZES: Record<FleetSize['name'], FleetSize> = {
  full: { name: 'full', instances: 20_000, membersPerTarget: 800, storm: 500 },
  small: { name: 'small', instances: 2_000, membersPerTarget: 100, storm: 100 },
};

export interface Placed {
  id: string;
  region: string;
}

export interface Fleet {
  size: FleetSize;
  /** sgsync's pools, by target (the storm target included). */
  pools: Record<string, string[]>;
  /** The naive approach's pools, by target: same region, same quota. */
  naivePools: Record<string, string[]>;
  /** Member instances by target, the storm's included. */
  members: Record<string, Placed[]>;
  /** Instances per region as built. */
  perRegion: Record<string, number>;
  /** Outbound rules each pool group starts with (the default "allow all"): they fill rule pages too. */
  egressPerGroup: number;
}

/** One SDK client per region, for building and changing the fleet (not the thing measured). */
export class FleetClients {
  private readonly clients = new Map<string, EC2Client>();

  constructor(private readonly url: string) {}

  get(region: string): EC2Client {
    let c = this.clients.get(region);
    if (!c) this.clients.set(region, (c = new EC2Client({ region, endpoint: this.url, maxAttempts: 20, retryMode: 'adaptive', credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } })));
    return c;
  }

  destroy(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }
}

/** Launches `count` instances with `tags`, 1000 per RunInstances call (EC2's most). */
export async function launch(ec2: FleetClients, region: string, count: number, tags: Record<string, string>): Promise<string[]> {
  const ids: string[] = [];
  for (let left = count; left > 0; left -= 1000) {
    const n = Math.min(left, 1000);
    const out = await ec2.get(region).send(
      new RunInstancesCommand({
        ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.micro', MinCount: n, MaxCount: n,
        TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
      }),
    );
    ids.push(...out.Instances!.map((i) => i.InstanceId!));
  }
  return ids;
}

/** `total` spread over `parts` as evenly as it goes, the first parts taking the remainder. */
function share(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

/** Builds the fleet with throttling off (building is not measured), then restores `throttle`. */
export async function buildFleet(url: string, ec2: FleetClients, size: FleetSize, throttle: { mode: 'aws'; scale: number }): Promise<Fleet> {
  await control(url, 'throttle', 'PUT', { mode: 'off' });
  const targets = [...TARGETS, STORM_TARGET];
  const groups = async (prefix: string) => {
    const out: Record<string, string[]> = {};
    for (const t of targets) {
      out[t] = [];
      for (let i = 0; i < POOL; i++) {
        const g = await ec2.get(PRIMARY).send(new CreateSecurityGroupCommand({ GroupName: `${prefix}-${t}-${i}`, Description: `${prefix} pool of ${t}` }));
        out[t].push(g.GroupId!);
      }
    }
    return out;
  };
  const pools = await groups('sgsync');
  const naivePools = await groups('naive');
  const members: Fleet['members'] = Object.fromEntries(targets.map((t) => [t, []]));
  const perRegion: Record<string, number> = {};
  await Promise.all(
    REGIONS.map(async (region, r) => {
      const total = share(size.instances, REGIONS.length, r);
      let used = 0;
      for (const t of targets) {
        const n = share(t === STORM_TARGET ? size.storm : size.membersPerTarget, REGIONS.length, r);
        for (const id of await launch(ec2, region, n, { role: 'client', 'client-of': t })) members[t]!.push({ id, region });
        used += n;
      }
      await launch(ec2, region, total - used, { role: 'other' });
      perRegion[region] = total;
    }),
  );
  const snapshot = await control<{ regions: { name: string; rules: { groupId: string; isEgress: boolean }[] }[] }>(url, 'snapshot');
  const first = pools[TARGETS[0]]![0]!;
  const egressPerGroup = snapshot.regions.find((r) => r.name === PRIMARY)!.rules.filter((r) => r.groupId === first && r.isEgress).length;
  await control(url, 'throttle', 'PUT', throttle);
  return { size, pools, naivePools, members, perRegion, egressPerGroup };
}

/**
 * The `aws` section: the sandbox's endpoint, and pacing told what the
 * sandbox enforces, AWS's bucket sizes refilled `scale` times faster.
 */
function awsSection(url: string, scale: number): string {
  const writes = BUCKET_SIZES['resource-intensive'];
  const describes = BUCKET_SIZES['non-mutating'];
  return `aws:
  endpoint: "${url}"
  pacing:
    securityGroupWrites: { burst: ${writes.burst}, perSecond: ${writes.refillPerSecond * scale} }
    describes: { burst: ${describes.burst}, perSecond: ${describes.refillPerSecond * scale} }
`;
}

/**
 * The controller's configuration: the three targets, every region listed
 * (none configured), 17 at a time. `jitterSeconds` for `controller run`.
 */
export function controllerConfig(url: string, fleet: Fleet, scale: number, jitterSeconds?: number): string {
  const targets = TARGETS.map(
    (t) => `  - name: ${t}
    region: ${PRIMARY}
    groups: [${fleet.pools[t]!.join(', ')}]
    ports: [443/tcp]
    quota: ${QUOTA}
    members: { tags: { client-of: ${t} } }`,
  );
  return `deployment: bench
targets:
${targets.join('\n')}
safety: { graceSeconds: 300, revokeLimit: { count: 500, fraction: 0.5 } }
controller: { concurrency: ${REGIONS.length}${jitterSeconds === undefined ? '' : `, jitterSeconds: ${jitterSeconds}`} }
${awsSection(url, scale)}`;
}

/** The agents' configuration: the one target they register into, with the default retries. */
export function agentConfig(url: string, fleet: Fleet, scale: number): string {
  return `deployment: bench
targets:
  - name: ${STORM_TARGET}
    region: ${PRIMARY}
    groups: [${fleet.pools[STORM_TARGET]!.join(', ')}]
    ports: [443/tcp]
    quota: ${QUOTA}
    members: { tags: { client-of: ${STORM_TARGET} } }
${awsSection(url, scale)}`;
}

function byRegion(xs: readonly Placed[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const x of xs) out.set(x.region, [...(out.get(x.region) ?? []), x.id]);
  return out;
}

export interface Churn {
  /** Members stopped or terminated: their rule should go. */
  gone: (Placed & { target: string })[];
  /** Members launched, or stopped and started again with a new address: a rule should come. */
  fresh: (Placed & { target: string })[];
}

/**
 * 5% churn of the members of the three targets, throttling off: a quarter
 * each terminated, stopped, restarted (a new public address) and newly
 * launched, spread over the regions. Round `round` (from 0) picks members
 * no earlier round picked.
 */
export async function churn(url: string, ec2: FleetClients, fleet: Fleet, throttle: { mode: 'aws'; scale: number }, round = 0): Promise<Churn> {
  await control(url, 'throttle', 'PUT', { mode: 'off' });
  const quarter = Math.max(1, Math.round((fleet.size.membersPerTarget * 0.05) / 4));
  const result: Churn = { gone: [], fresh: [] };
  for (const t of TARGETS) {
    const list = fleet.members[t]!;
    const stride = Math.floor(list.length / 4);
    const pick = (k: number) => list.slice(k * stride + round * quarter, k * stride + (round + 1) * quarter);
    const [terminate, stop, restart] = [pick(1), pick(2), pick(3)];
    for (const [region, ids] of byRegion(terminate)) await ec2.get(region).send(new TerminateInstancesCommand({ InstanceIds: ids }));
    for (const [region, ids] of byRegion([...stop, ...restart])) await ec2.get(region).send(new StopInstancesCommand({ InstanceIds: ids }));
    for (const [region, ids] of byRegion(restart)) await ec2.get(region).send(new StartInstancesCommand({ InstanceIds: ids }));
    result.gone.push(...[...terminate, ...stop].map((x) => ({ ...x, target: t })));
    const launched: Placed[] = [];
    for (let i = 0; i < quarter; i++) {
      const region = REGIONS[(i * 7 + 3) % REGIONS.length]!;
      const [id] = await launch(ec2, region, 1, { role: 'client', 'client-of': t });
      launched.push({ id: id!, region });
    }
    list.push(...launched);
    result.fresh.push(...[...launched, ...restart].map((x) => ({ ...x, target: t })));
  }
  await control(url, 'throttle', 'PUT', throttle);
  return result;
}

/** The instances a rule in the sandbox names (in its description, where sgsync writes the member's id, or its instance tag). */
async function admittedInstances(url: string): Promise<Set<string>> {
  const snapshot = await control<{ regions: { rules: { description?: string; tags?: Record<string, string> }[] }[] }>(url, 'snapshot');
  const ids = new Set<string>();
  for (const region of snapshot.regions) {
    for (const rule of region.rules) {
      for (const id of rule.description?.match(/\bi-[0-9a-f]{8,17}\b/g) ?? []) ids.add(id);
      const tagged = rule.tags?.['sgsync:instance'];
      if (tagged) ids.add(tagged);
    }
  }
  return ids;
}

/**
 * Terminates `perTarget` members of each target in `down` and as many in
 * `elsewhere`, throttling off: with `down`'s API failing, the pass should
 * revoke the rules of the latter and keep every rule of the former.
 */
export async function terminateIn(url: string, ec2: FleetClients, fleet: Fleet, regions: string[], perTarget: number, throttle: { mode: 'aws'; scale: number }): Promise<Placed[]> {
  await control(url, 'throttle', 'PUT', { mode: 'off' });
  // Only members whose rule is in place: one the churns above stopped or terminated has none left to revoke or keep.
  const admitted = await admittedInstances(url);
  const gone: Placed[] = [];
  for (const t of TARGETS) {
    for (const region of regions) {
      // The last ones launched in the region that hold a rule.
      const picked = fleet.members[t]!.filter((m) => m.region === region && admitted.has(m.id)).slice(-perTarget);
      if (picked.length === 0) continue;
      await ec2.get(region).send(new TerminateInstancesCommand({ InstanceIds: picked.map((m) => m.id) }));
      gone.push(...picked);
    }
  }
  await control(url, 'throttle', 'PUT', throttle);
  return gone;
}
