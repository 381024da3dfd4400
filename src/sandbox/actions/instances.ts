import { createHash, randomUUID } from 'node:crypto';
import { allocatePublicIpv4 } from '../addresses.js';
import { Ec2Error } from '../errors.js';
import type { EventLog } from '../events.js';
import type { Instance, InstanceStateName, Region, Vpc, World } from '../world.js';
import { isWellFormedId } from './lookup.js';

/**
 * What every instance action shares: lookup by id with EC2's errors, the
 * hour a terminated instance stays visible, the pseudo subnets (one per
 * availability zone and VPC), public address bookkeeping and state changes
 * with their events.
 */

/** How long DescribeInstances still shows a terminated instance. */
export const TERMINATED_VISIBLE_MS = 60 * 60 * 1000;

/** Whether DescribeInstances and the state actions still see the instance at `now`. */
export function isVisible(instance: Instance, now: number): boolean {
  return instance.terminatedAt === undefined || now < instance.terminatedAt + TERMINATED_VISIBLE_MS;
}

const lastSweep = new WeakMap<Region, number>();

/**
 * Forgets terminated instances whose visible hour has passed, releasing their
 * private address for reuse. Reads already hide them, so this only bounds
 * memory: it runs at most once a minute of sandbox time per region, keeping
 * launches cheap in a fleet of a hundred thousand.
 */
export function sweepTerminated(region: Region, now: number): void {
  if (now - (lastSweep.get(region) ?? -Infinity) < 60_000) return;
  lastSweep.set(region, now);
  for (const [id, instance] of region.instances) if (!isVisible(instance, now)) region.instances.delete(id);
}

/**
 * The visible instances named by `ids`, in request order without repeats.
 * Malformed ids fail first (`InvalidInstanceID.Malformed`), then every
 * unknown id is listed in one `InvalidInstanceID.NotFound`, as EC2 does.
 */
export function findInstances(region: Region, ids: readonly string[], now: number): Instance[] {
  for (const id of ids) {
    if (!isWellFormedId('i', id)) throw new Ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${id}" (expecting "i-...")`);
  }
  const unique = [...new Set(ids)];
  const found = unique.map((id) => region.instances.get(id));
  const missing = unique.filter((_, n) => {
    const instance = found[n];
    return !instance || !isVisible(instance, now);
  });
  if (missing.length === 1) throw new Ec2Error('InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`);
  if (missing.length > 1) throw new Ec2Error('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
  return found as Instance[];
}

/** The availability zones of a region: `REGIONa`, `REGIONb`, `REGIONc`. */
export function availabilityZones(region: string): string[] {
  return ['a', 'b', 'c'].map((letter) => `${region}${letter}`);
}

/** The pseudo subnet of a VPC in one zone: a stable id, since the sandbox has no subnet API. */
export function subnetIdOf(vpcId: string, availabilityZone: string): string {
  return `subnet-0${createHash('sha256').update(`${vpcId}/${availabilityZone}`).digest('hex').slice(0, 16)}`;
}

/** The VPC and zone a pseudo subnet id stands for, or `InvalidSubnetID.NotFound`. */
export function findSubnet(region: Region, subnetId: string): { vpc: Vpc; availabilityZone: string; index: number } {
  if (isWellFormedId('subnet', subnetId)) {
    const zones = availabilityZones(region.name);
    for (const vpc of region.vpcs.values()) {
      const index = zones.findIndex((zone) => subnetIdOf(vpc.id, zone) === subnetId);
      if (index >= 0) return { vpc, availabilityZone: zones[index]!, index };
    }
  }
  throw new Ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
}

/** The reservation an instance belongs to (instances loaded without one get their own). */
export function reservationIdOf(instance: Instance): string {
  return instance.reservationId ?? `r-${instance.id.slice(2)}`;
}

export function instanceArn(region: string, account: string, instanceId: string): string {
  return `arn:aws:ec2:${region}:${account}:instance/${instanceId}`;
}

/** Gives a running instance a fresh public IPv4, unless it was launched without one. */
export function assignPublicIp(world: World, instance: Instance): void {
  if (instance.noPublicIp || instance.publicIp) return;
  instance.publicIp = allocatePublicIpv4(world.rng, world.publicIps);
  world.publicIps.add(instance.publicIp);
}

/** Returns the public IPv4 to the pool, as a stop or terminate does. */
export function releasePublicIp(world: World, instance: Instance): void {
  if (!instance.publicIp) return;
  world.publicIps.delete(instance.publicIp);
  instance.publicIp = undefined;
}

/**
 * Returns the IPv6 addresses to the subnet, as a terminate does: the network
 * interface goes with the instance, so DescribeInstances shows none on a
 * terminated instance and another instance may be given them.
 */
export function releaseIpv6(world: World, instance: Instance): void {
  for (const a of instance.ipv6 ?? []) world.publicIps.delete(a);
  instance.ipv6 = undefined;
}

/** Where a state change happens and is announced. */
export interface TransitionScope {
  world: World;
  region: Region;
  events: EventLog;
  now: number;
}

/**
 * Moves an instance through `states` in order, announcing each with an
 * `EC2 Instance State-change Notification`, and keeps the bookkeeping that
 * follows from the final state (launch time, public address, stop reason).
 */
export function transition(scope: TransitionScope, instance: Instance, states: readonly InstanceStateName[]): void {
  const time = new Date(scope.now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  for (const state of states) {
    instance.state = state;
    if (state === 'pending') {
      // EC2 reports launch times in whole seconds.
      instance.launchTime = Math.floor(scope.now / 1000) * 1000;
      instance.stateReason = undefined;
    }
    if (state === 'running') assignPublicIp(scope.world, instance);
    if (state === 'stopping' || state === 'shutting-down') {
      releasePublicIp(scope.world, instance);
      instance.stateReason = 'Client.UserInitiatedShutdown';
    }
    if (state === 'terminated') {
      instance.terminatedAt = scope.now;
      releaseIpv6(scope.world, instance);
    }
    scope.events.emit({
      id: randomUUID(),
      account: scope.world.accountId,
      time,
      region: scope.region.name,
      resources: [instanceArn(scope.region.name, scope.world.accountId, instance.id)],
      detail: { 'instance-id': instance.id, state },
    });
  }
}
