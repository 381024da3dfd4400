import { addDefaultRules } from './actions/group-rules.js';
import { Random } from './random.js';

/**
 * The sandbox's whole world: one account, many regions, each with its own
 * VPCs, security groups, rules and instances. Handlers mutate it only after
 * every check of a request has passed, so a rejected request changes nothing.
 */

/** Regions enabled for every account (`opt-in-not-required`). */
export const DEFAULT_REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
  'ca-central-1', 'sa-east-1',
  'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1', 'eu-north-1',
  'ap-south-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-southeast-1', 'ap-southeast-2',
] as const;

/** Regions that exist but are `not-opted-in` unless listed in `--regions`. */
export const OPT_IN_REGIONS = [
  'af-south-1', 'ap-east-1', 'ap-south-2', 'ap-southeast-3', 'ap-southeast-4',
  'eu-south-1', 'eu-south-2', 'eu-central-2', 'me-south-1', 'me-central-1', 'il-central-1', 'ca-west-1',
] as const;

export type InstanceStateName = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

export const INSTANCE_STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export type Tags = Map<string, string>;

export interface Vpc {
  id: string;
  cidrBlock: string;
  ipv6CidrBlock?: string;
  isDefault: boolean;
  tags: Tags;
  /** Next host number handed out as a private address. */
  nextHost: number;
}

export interface SecurityGroup {
  id: string;
  name: string;
  description: string;
  vpcId: string;
  tags: Tags;
  /** Rule ids in creation order. */
  ruleIds: Set<string>;
  /** Inbound rules allowed per family; undefined means the region's quota. */
  quota?: number;
}

export interface Rule {
  id: string;
  groupId: string;
  isEgress: boolean;
  /** Canonical protocol: 'tcp', 'udp', 'icmp', 'icmpv6', '-1' or a protocol number. */
  protocol: string;
  fromPort: number;
  toPort: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  referencedGroupId?: string;
  description?: string;
  tags: Tags;
  /** Sandbox-clock milliseconds when it was created (absent for rules from older state files). */
  createdAt?: number;
}

export interface Instance {
  id: string;
  /** The RunInstances call that launched it; derived from the id when absent. */
  reservationId?: string;
  imageId: string;
  instanceType: string;
  state: InstanceStateName;
  /** Sandbox-clock milliseconds. */
  launchTime: number;
  /** When the instance reached `terminated`, for the hour it stays visible. */
  terminatedAt?: number;
  stateReason?: string;
  vpcId: string;
  subnetId: string;
  availabilityZone: string;
  privateIp: string;
  publicIp?: string;
  /**
   * The IPv6 addresses of its (one, primary) network interface, in the order
   * they were assigned: IMDS lists them so, and shows the first as `ipv6`.
   */
  ipv6?: string[];
  /** Launched with `EnablePrimaryIpv6`: the first IPv6 address is its primary IPv6 address, which stays until termination. */
  primaryIpv6?: boolean;
  wantsIpv6: boolean;
  /** Launched with `AssociatePublicIpAddress=false`: never gets a public IPv4, not even on start. */
  noPublicIp?: boolean;
  securityGroupIds: string[];
  tags: Tags;
  keyName?: string;
  spot: boolean;
  /** IMDS `spot/instance-action`, set through the control API. */
  spotAction?: { action: 'terminate' | 'stop' | 'hibernate'; time: string };
  /** IMDS `autoscaling/target-lifecycle-state`, set through the control API. */
  lifecycleState?: string;
  /**
   * `disabled`: IMDS does not show the instance's tags (`tags/instance` is 404),
   * as with `MetadataOptions.InstanceMetadataTags=disabled`. Absent: shown.
   */
  metadataTags?: 'disabled';
}

export interface Region {
  name: string;
  optInStatus: 'opt-in-not-required' | 'opted-in' | 'not-opted-in';
  vpcs: Map<string, Vpc>;
  groups: Map<string, SecurityGroup>;
  rules: Map<string, Rule>;
  /** Every instance, in launch order (the order DescribeInstances pages in). */
  instances: Map<string, Instance>;
  /** Inbound rules per group per family, unless a group overrides it. */
  quota: number;
}

export interface WorldOptions {
  /** Regions that exist and are enabled; defaults to AWS's default set. */
  regions?: readonly string[];
  seed?: number;
  accountId?: string;
  now?: () => number;
}

/** A clock the control API can move forward, for grace periods, TTLs and the terminated hour. */
export class SandboxClock {
  private offsetMs = 0;
  constructor(private readonly realNow: () => number = Date.now) {}
  now(): number {
    return this.realNow() + this.offsetMs;
  }
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
    this.offsetMs += ms;
  }
}

export class World {
  readonly accountId: string;
  readonly regions = new Map<string, Region>();
  readonly clock: SandboxClock;
  rng: Random;
  readonly seed: number;
  /** Every id ever handed out, so that no two resources share one. */
  private readonly usedIds = new Set<string>();
  /** Public addresses in use, world-wide. */
  readonly publicIps = new Set<string>();

  constructor(options: WorldOptions = {}) {
    this.seed = options.seed ?? 1;
    this.rng = new Random(this.seed);
    this.accountId = options.accountId ?? '123456789012';
    this.clock = new SandboxClock(options.now);
    const enabled = new Set(options.regions ?? DEFAULT_REGIONS);
    for (const name of [...DEFAULT_REGIONS, ...OPT_IN_REGIONS, ...enabled]) {
      if (this.regions.has(name)) continue;
      const isDefault = (DEFAULT_REGIONS as readonly string[]).includes(name);
      const optInStatus = enabled.has(name) ? (isDefault ? 'opt-in-not-required' : 'opted-in') : 'not-opted-in';
      this.regions.set(name, newRegion(name, optInStatus));
    }
    for (const region of this.regions.values()) {
      if (region.optInStatus !== 'not-opted-in') this.createDefaultVpc(region);
    }
  }

  /** An enabled region, or undefined when the region is unknown or not opted in. */
  region(name: string): Region | undefined {
    const r = this.regions.get(name);
    return r && r.optInStatus !== 'not-opted-in' ? r : undefined;
  }

  /** A new id such as `sg-0a1b…` (17 hex digits, as AWS's long ids). */
  newId(prefix: string): string {
    for (;;) {
      const id = `${prefix}-0${this.rng.hex(16)}`;
      if (!this.usedIds.has(id)) {
        this.usedIds.add(id);
        return id;
      }
    }
  }

  /** Records ids loaded from a state file, so new ones never collide. */
  claimId(id: string): void {
    this.usedIds.add(id);
  }

  private createDefaultVpc(region: Region): void {
    const vpc: Vpc = {
      id: this.newId('vpc'),
      cidrBlock: '172.31.0.0/16',
      isDefault: true,
      tags: new Map(),
      nextHost: 10,
    };
    region.vpcs.set(vpc.id, vpc);
    const group: SecurityGroup = {
      id: this.newId('sg'),
      name: 'default',
      description: 'default VPC security group',
      vpcId: vpc.id,
      tags: new Map(),
      ruleIds: new Set(),
    };
    region.groups.set(group.id, group);
    addDefaultRules(this, region, group, vpc);
  }
}

export function newRegion(name: string, optInStatus: Region['optInStatus']): Region {
  return {
    name,
    optInStatus,
    vpcs: new Map(),
    groups: new Map(),
    rules: new Map(),
    instances: new Map(),
    quota: 60,
  };
}
