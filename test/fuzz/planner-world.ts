/**
 * Random worlds for the planner's properties: targets with overlapping pools,
 * retired groups and small quotas, members in every state with odd addresses and tags, and
 * the rules a real group accumulates (this deployment's, current and stale;
 * another deployment's; hand-made ones; rules open to the world), with random
 * inventory failures, scopes, clocks, grace periods and revoke limits.
 */
import fc from 'fast-check';
import { classifyAddress, hostCidr } from '../../src/core/addresses.js';
import { ruleDescription } from '../../src/core/description.js';
import type { Family, InstanceState, Member, ObservedRule, PlanInput, PortSpec, RegionInventory, Scope, Target } from '../../src/core/model.js';
import { TAG } from '../../src/core/ownership.js';

export const DEPLOYMENT = 'prod';
export const REGIONS = ['eu-west-1', 'ap-southeast-2', 'us-west-2', 'sa-east-1'];
export const NOW = Date.UTC(2026, 0, 15, 12);
const STATES: InstanceState[] = ['pending', 'running', 'running', 'running', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'];
const IDS = Array.from({ length: 12 }, (_, i) => `i-0${(0xa0000000 + i).toString(16)}`);
const PORTS: PortSpec[] = [
  { protocol: 'tcp', fromPort: 443, toPort: 443 },
  { protocol: 'tcp', fromPort: 8000, toPort: 8100 },
  { protocol: 'udp', fromPort: 53, toPort: 53 },
  { protocol: 'icmp', fromPort: 8, toPort: -1 },
  { protocol: '-1', fromPort: -1, toPort: -1 },
];
const GROUPS = ['sg-00000000000000001', 'sg-00000000000000002', 'sg-00000000000000003', 'sg-00000000000000004', 'sg-00000000000000005'];

/** Text that looks like an address, or nearly: what a garbled inventory or IMDS can hand over. */
const ODD_ADDRESSES = [
  '0.0.0.0', '255.255.255.255', '10.1.2.3', '172.31.0.9', '192.168.1.1', '100.64.0.1', '127.0.0.1', '169.254.169.254', '192.0.2.7',
  '010.1.1.1', '1.2.3', '1.2.3.4.5', '1.2.3.4/0', '1.2.3.4/24', ' 54.1.2.3 ', '54.1.2.3\n', '54.1.2.256', '',
  '::', '::1', '::ffff:54.1.2.3', 'fe80::1', 'fe80::1%eth0', 'fd12:3456::1', '2001:db8::1', '2600:1f18::1/64', '2600:1f18::/0',
  '2600:1F18:0:0:0:0:0:1', '2002::1', 'ff02::1', 'not-an-ip', '<img src=x>', '0:0:0:0:0:0:0:0',
];

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const ipv4Text = fc.oneof({ weight: 3, arbitrary: fc.ipV4() }, { weight: 1, arbitrary: fc.constantFrom(...ODD_ADDRESSES) });
const privateIpv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })).map(([a, b, c]) => `10.${a}.${b}.${c}`);
const globalIpv6 = fc.tuple(fc.nat(0xffff), fc.nat(0xffff)).map(([a, b]) => `2600:1f18:${a.toString(16)}::${b.toString(16)}`);
const ipv6Text = fc.oneof({ weight: 3, arbitrary: globalIpv6 }, { weight: 1, arbitrary: fc.ipV6() }, { weight: 1, arbitrary: fc.constantFrom(...ODD_ADDRESSES) });

/** A member in any state, with addresses that are often usable and sometimes garbage, and tags that often match the selectors. */
export const memberArb = (instanceId: string): fc.Arbitrary<Member> =>
  fc.record({
    instanceId: fc.constant(instanceId),
    region: fc.constantFrom(...REGIONS),
    state: fc.constantFrom(...STATES),
    publicIpv4: maybe(ipv4Text),
    privateIpv4: maybe(fc.oneof({ weight: 3, arbitrary: privateIpv4 }, { weight: 1, arbitrary: ipv4Text })),
    ipv6: fc.array(ipv6Text, { maxLength: 2 }),
    tags: fc.oneof(
      { weight: 3, arbitrary: fc.constant({ role: 'api', env: 'prod' }) },
      { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('role', 'env', 'Name', '__proto__', 'constructor'), fc.constantFrom('api', 'db', 'prod', '', '*', '<script>'), { maxKeys: 3 }) },
    ),
  });

const targetArb = (name: string): fc.Arbitrary<Target> =>
  fc.record({
    name: fc.constant(name),
    region: fc.constant('us-east-1'),
    groupIds: fc.uniqueArray(fc.constantFrom(...GROUPS), { minLength: 1, maxLength: 3 }),
    // Often none; else groups the target no longer uses, which may be in the other target's pool (or, garbled, in its own).
    retiredGroupIds: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom(...GROUPS), { maxLength: 2 }) }),
    ports: fc.uniqueArray(fc.constantFrom(...PORTS), { minLength: 1, maxLength: 3 }),
    families: fc.constantFrom<Family[]>(['ipv4'], ['ipv6'], ['ipv4', 'ipv6']),
    address: fc.constantFrom('public' as const, 'private' as const),
    quota: fc.integer({ min: 1, max: 6 }),
    selector: fc.record(
      { regions: fc.subarray(REGIONS, { minLength: 1 }), tags: fc.constantFrom<Record<string, string[]>>({ role: ['api'] }, { role: ['*'] }, { env: ['prod', 'api'] }) },
      { requiredKeys: [] },
    ),
  });

/** The CIDR a member's rule would carry for a target, when it has a usable address; else a plausible stale one. */
function currentCidr(target: Target, member: Member, family: Family): string | undefined {
  const text = family === 'ipv6' ? member.ipv6[0] : target.address === 'public' ? member.publicIpv4 : member.privateIpv4;
  const a = text === undefined ? undefined : classifyAddress(text);
  return a && a.family === family ? hostCidr(a) : undefined;
}

type RuleKind = 'copy' | 'current' | 'stale' | 'wrong-port' | 'ghost' | 'described' | 'untagged-managed' | 'other-deployment' | 'foreign' | 'open-world' | 'unknown-target';

interface RuleSeed {
  kind: RuleKind;
  target: number;
  member: number;
  port: PortSpec;
  family: Family;
  group: number;
  address: string;
  region: string | undefined;
  registeredAt: string | undefined;
}

const registeredAtArb = fc.oneof(
  fc.integer({ min: -7_200, max: 600 }).map((s) => new Date(NOW - s * 1000).toISOString()),
  fc.constantFrom(undefined, 'garbled', '2026-13-45T99:99:99Z', '9999-12-31T23:59:59.999Z', ''),
);

const ruleSeedArb: fc.Arbitrary<RuleSeed> = fc.record({
  kind: fc.constantFrom<RuleKind>('copy', 'current', 'current', 'current', 'current', 'stale', 'stale', 'wrong-port', 'ghost', 'ghost', 'ghost', 'described', 'untagged-managed', 'other-deployment', 'foreign', 'open-world', 'unknown-target'),
  target: fc.nat(),
  member: fc.nat(),
  port: fc.constantFrom(...PORTS),
  family: fc.constantFrom<Family>('ipv4', 'ipv6'),
  group: fc.nat(),
  address: fc.oneof(fc.ipV4(), globalIpv6, fc.ipV6()),
  region: maybe(fc.constantFrom(...REGIONS, 'xx-nowhere-9')),
  registeredAt: registeredAtArb,
});

function buildRule(seed: RuleSeed, targets: Target[], members: Member[], ruleId: string, previous: ObservedRule | undefined): ObservedRule {
  // A second copy of the previous rule, in its group or another of the pool: what two racing writers leave behind.
  if (seed.kind === 'copy' && previous) {
    const pool = targets.find((t) => t.groupIds.includes(previous.groupId))?.groupIds ?? [previous.groupId];
    return { ...previous, ruleId, groupId: pool[seed.group % pool.length] as string, tags: { ...previous.tags, [TAG.registeredAt]: seed.registeredAt ?? '' } };
  }
  const target = targets[seed.target % targets.length] as Target;
  const member = members.length > 0 ? members[seed.member % members.length] : undefined;
  const port = seed.kind === 'wrong-port' ? seed.port : (target.ports[seed.group % target.ports.length] as PortSpec);
  // Rules sit in the pool, or in a group the target retired since.
  const homes = [...target.groupIds, ...(target.retiredGroupIds ?? [])];
  const groupId = homes[seed.group % homes.length] as string;
  let cidr = seed.address.includes(':') ? `${seed.address}/128` : `${seed.address}/32`;
  if (seed.kind === 'current' && member) cidr = currentCidr(target, member, seed.family) ?? cidr;
  if (seed.kind === 'open-world') cidr = seed.family === 'ipv4' ? '0.0.0.0/0' : '::/0';
  const family: Family = cidr.includes(':') ? 'ipv6' : 'ipv4';
  const instanceId = seed.kind === 'ghost' || !member ? (IDS[seed.member % IDS.length] as string) : member.instanceId;
  const region = seed.kind === 'current' || seed.kind === 'stale' ? (member?.region ?? seed.region) : seed.region;
  const tags: Record<string, string> = {};
  const put = (k: string, v: string | undefined) => void (v !== undefined && (tags[k] = v));
  const owner = seed.kind === 'other-deployment' ? 'staging' : seed.kind === 'foreign' || seed.kind === 'open-world' ? undefined : DEPLOYMENT;
  put(TAG.managedBy, owner);
  if (owner !== undefined && seed.kind !== 'untagged-managed') {
    put(TAG.target, seed.kind === 'unknown-target' ? 'ghost-target' : target.name);
    if (seed.kind !== 'described') {
      put(TAG.instance, instanceId);
      put(TAG.region, region);
    }
    put(TAG.registeredAt, seed.registeredAt);
  }
  const description = owner === undefined ? `hand-made ${instanceId}` : ruleDescription(owner, { target: target.name, instanceId, memberRegion: region ?? 'nowhere' });
  return { ruleId, groupId, family, protocol: port.protocol, fromPort: port.fromPort, toPort: port.toPort, cidr, description, tags };
}

const inventoryArb = fc
  .tuple(...REGIONS.map(() => fc.constantFrom<RegionInventory | undefined>({ status: 'complete' }, { status: 'complete' }, { status: 'complete' }, { status: 'failed', reason: 'timeout' }, undefined)))
  .map((inv) => Object.fromEntries(REGIONS.flatMap((r, i): [string, RegionInventory][] => (inv[i] ? [[r, inv[i]]] : []))));

export interface WorldOptions {
  /** Scopes to draw from; default: everything, one instance, and a deregistration. */
  scopes?: ('all' | 'instance' | 'deregister')[];
  /** Draw revoke limits and force (default true); false leaves revokes unlimited. */
  limits?: boolean;
}

/** A whole planner input, drawn at random. */
export function worldArb(options: WorldOptions = {}): fc.Arbitrary<PlanInput> {
  const scopes = options.scopes ?? ['all', 'all', 'instance', 'deregister'];
  return fc
    .tuple(fc.array(targetArb('t0'), { minLength: 1, maxLength: 1 }), fc.array(targetArb('t1'), { maxLength: 1 }), fc.uniqueArray(fc.constantFrom(...IDS), { maxLength: 8 }))
    .chain(([t0, t1, ids]) => {
      const targets = [...t0, ...t1];
      return fc
        .tuple(fc.tuple(...ids.map(memberArb)), fc.array(ruleSeedArb, { maxLength: 30 }))
        .chain(([members, seeds]) =>
          fc.record({
            deployment: fc.constant(DEPLOYMENT),
            targets: fc.constant(targets),
            members: fc.constant(members),
            regionInventory: inventoryArb,
            observed: fc.constant(
              seeds.reduce<ObservedRule[]>((rules, s, i) => [...rules, buildRule(s, targets, members, `sgr-${String(i).padStart(4, '0')}`, rules[i - 1])], []),
            ),
            scope: fc.constantFrom(...scopes).chain((kind): fc.Arbitrary<Scope> =>
              kind === 'all'
                ? fc.constant({ kind: 'all' })
                : fc.constantFrom(...ids, IDS[IDS.length - 1] as string).map((instanceId) => ({ kind: 'instance', instanceId, deregister: kind === 'deregister' })),
            ),
            now: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: NOW - 3_600_000, max: NOW + 3_600_000 }) }, { weight: 1, arbitrary: fc.constantFrom<string | number>('garbled', Number.NaN, new Date(NOW).toISOString()) }),
            safety: fc.record({
              graceSeconds: fc.constantFrom(0, 60, 300, 3600),
              revokeLimit:
                options.limits === false
                  ? fc.constant({})
                  : fc.oneof(fc.constant({}), fc.record({ count: fc.integer({ min: 0, max: 10 }), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }, { requiredKeys: [] })),
              force: options.limits === false ? fc.constant(false) : fc.boolean(),
            }),
          }),
        );
    });
}

/** The planner's "now" as epoch milliseconds, NaN when unreadable. */
export function nowMs(world: PlanInput): number {
  const ms = typeof world.now === 'number' ? world.now : Date.parse(world.now);
  return Number.isFinite(ms) ? ms : Number.NaN;
}
