import { describe, expect, it } from 'vitest';
import type { Member, ObservedRule, Plan, PlanInput, Target } from './model.js';
import { TAG } from './ownership.js';
import { spreadStart } from './capacity.js';
import { plan } from './planner.js';
import { applyPlanToObserved } from './simulate.js';
import { authorizeOrder } from './reconcile.js';

const NOW = '2025-06-01T12:00:00.000Z';
const OLD = '2025-06-01T11:00:00.000Z';
const YOUNG = '2025-06-01T11:59:00.000Z';

function target(over: Partial<Target> = {}): Target {
  return { name: 'api', region: 'us-east-1', groupIds: ['sg-1', 'sg-2'], ports: [{ protocol: 'tcp', fromPort: 443, toPort: 443 }], families: ['ipv4'], address: 'public', quota: 60, selector: {}, ...over };
}

function member(id: string, over: Partial<Member> = {}): Member {
  return { instanceId: id, region: 'eu-west-1', state: 'running', publicIpv4: `54.0.0.${id.slice(2)}`, privateIpv4: `10.0.0.${id.slice(2)}`, ipv6: [], tags: {}, ...over };
}

/** A rule this deployment manages for instance `id`, registered long ago. */
function managed(ruleId: string, id: string, over: Partial<ObservedRule> = {}, tags: Record<string, string> = {}): ObservedRule {
  return {
    ruleId,
    groupId: 'sg-1',
    family: 'ipv4',
    protocol: 'tcp',
    fromPort: 443,
    toPort: 443,
    cidr: `54.0.0.${id.slice(2)}/32`,
    tags: { [TAG.managedBy]: 'prod', [TAG.target]: 'api', [TAG.instance]: id, [TAG.region]: 'eu-west-1', [TAG.registeredAt]: OLD, ...tags },
    ...over,
  };
}

function foreign(ruleId: string, cidr: string, over: Partial<ObservedRule> = {}): ObservedRule {
  return { ruleId, groupId: 'sg-1', family: 'ipv4', protocol: 'tcp', fromPort: 443, toPort: 443, cidr, tags: {}, ...over };
}

function input(over: Partial<PlanInput> = {}): PlanInput {
  return {
    deployment: 'prod',
    targets: [target()],
    members: [],
    regionInventory: { 'eu-west-1': { status: 'complete' }, 'ap-southeast-2': { status: 'complete' } },
    observed: [],
    scope: { kind: 'all' },
    now: NOW,
    safety: { graceSeconds: 300, revokeLimit: {}, force: false },
    ...over,
  };
}

const revoked = (p: Plan) => p.revoke.flatMap((b) => b.items.map((r) => `${r.ruleId}:${r.reason}`));
const authorized = (p: Plan) => p.authorize.flatMap((b) => b.items.map((r) => `${r.instanceId}@${b.groupId}:${r.cidr}`));
const kept = (p: Plan) => p.kept.map((k) => `${k.ruleId}:${k.reason}`);

describe('planning authorizations', () => {
  it('adds a running member to the first group with its tags and description', () => {
    const p = plan(input({ members: [member('i-7')] }));
    expect(p.authorize).toEqual([
      {
        groupId: 'sg-1',
        region: 'us-east-1',
        items: [
          {
            target: 'api',
            instanceId: 'i-7',
            memberRegion: 'eu-west-1',
            family: 'ipv4',
            port: { protocol: 'tcp', fromPort: 443, toPort: 443 },
            cidr: '54.0.0.7/32',
            groupId: 'sg-1',
            description: 'sgsync prod/api i-7 eu-west-1',
            tags: { [TAG.managedBy]: 'prod', [TAG.target]: 'api', [TAG.instance]: 'i-7', [TAG.region]: 'eu-west-1', [TAG.registeredAt]: NOW },
          },
        ],
      },
    ]);
    expect(p.revoke).toEqual([]);
  });

  it('does nothing for a member whose rule already exists, even if the CIDR is spelled differently or the protocol is a number', () => {
    const p = plan(input({ members: [member('i-7')], observed: [managed('sgr-1', 'i-7', { protocol: '6', cidr: '54.0.0.7/32' })] }));
    expect([authorized(p), revoked(p)]).toEqual([[], []]);
    // Spelled differently indeed: EC2 would call a new rule for 54.0.0.7/32 a duplicate of this one.
    const odd = plan(input({ members: [member('i-7')], observed: [managed('sgr-1', 'i-7', { cidr: '54.0.0.7/032' })] }));
    expect([authorized(odd), revoked(odd)]).toEqual([[], []]);
  });

  it('neither adds nor removes anything for a pending member', () => {
    const p = plan(input({ members: [member('i-7', { state: 'pending' }), member('i-8', { state: 'pending' })], observed: [managed('sgr-7', 'i-7')] }));
    expect([authorized(p), revoked(p)]).toEqual([[], []]);
  });

  it('refuses a member without a public address instead of widening anything (rule 5)', () => {
    const p = plan(input({ members: [member('i-7', { publicIpv4: undefined }), member('i-8', { publicIpv4: '10.9.9.9' })] }));
    expect(p.authorize).toEqual([]);
    expect(p.refused.map((r) => `${r.instanceId}:${r.reason}`)).toEqual(['i-7:no-public-address', 'i-8:address-not-public']);
  });

  it('admits members of a two-family target in the families they have addresses for, and refuses only those with none', () => {
    const dual = target({ families: ['ipv4', 'ipv6'], groupIds: ['sg-1'] });
    const members = [
      member('i-1', { ipv6: ['2a05:d018::1'] }),
      member('i-2'), // IPv4 only, its rule already in place
      member('i-3'), // IPv4 only
      member('i-4', { publicIpv4: undefined, ipv6: ['2a05:d018::4'] }),
      member('i-5', { publicIpv4: undefined }),
    ];
    const p = plan(input({ targets: [dual], members, observed: [managed('sgr-2', 'i-2')] }));
    expect(authorized(p)).toEqual(['i-1@sg-1:54.0.0.1/32', 'i-1@sg-1:2a05:d018::1/128', 'i-3@sg-1:54.0.0.3/32', 'i-4@sg-1:2a05:d018::4/128']);
    expect(revoked(p)).toEqual([]);
    expect(p.refused.map((r) => `${r.instanceId}:${r.reason}`)).toEqual(['i-5:no-public-address', 'i-5:no-ipv6-address']);
  });

  it('refuses a member once for a reason both families of a two-family target give', () => {
    // A private IPv4 address and a ULA: neither is public. The refusal counts members, not families.
    const dual = target({ families: ['ipv4', 'ipv6'] });
    const p = plan(input({ targets: [dual], members: [member('i-5', { publicIpv4: '10.0.0.5', ipv6: ['fd00::5'] })] }));
    expect(p.refused.map((r) => `${r.instanceId}:${r.reason}`)).toEqual(['i-5:address-not-public']);
  });

  it('gives the last room to members in placement order, member region first, then instance id, whatever order they are listed in', () => {
    const members = [member('i-1', { region: 'us-west-2' }), member('i-3'), member('i-2', { region: 'ap-southeast-2' })];
    const p = plan(input({ targets: [target({ quota: 2, groupIds: ['sg-1'] })], members }));
    expect(authorized(p)).toEqual(['i-2@sg-1:54.0.0.2/32', 'i-3@sg-1:54.0.0.3/32']);
    expect(p.blocked.map((b) => `${b.instanceId}:${b.reason}`)).toEqual(['i-1:capacity']);
  });

  it("adds the new port's rule beside the rule a member already has when a port is added to the target", () => {
    const ports = [{ protocol: 'tcp' as const, fromPort: 443, toPort: 443 }, { protocol: 'tcp' as const, fromPort: 8443, toPort: 8443 }];
    const p = plan(input({ targets: [target({ ports })], members: [member('i-7')], observed: [managed('sgr-1', 'i-7')] }));
    expect(p.authorize.flatMap((b) => b.items.map((r) => `${r.instanceId}:${r.port.fromPort}`))).toEqual(['i-7:8443']);
    expect(revoked(p)).toEqual([]);
  });

  it('refuses no member it does not admit for another reason: one stopped, pending or not selected has no public address to give', () => {
    const members = [member('i-1', { state: 'stopped', publicIpv4: undefined }), member('i-2', { state: 'pending', publicIpv4: undefined }), member('i-3', { region: 'sa-east-1', publicIpv4: undefined })];
    const p = plan(input({ targets: [target({ selector: { regions: ['eu-west-1'] } })], members }));
    expect(p.refused).toEqual([]);
  });

  it('pairs ICMP with IPv4 and ICMPv6 with IPv6 on each of two targets of both families, whatever the other lists', () => {
    const both = { families: ['ipv4', 'ipv6'] as Target['families'] };
    const icmp = [{ protocol: 'icmp' as const, fromPort: -1, toPort: -1 }, { protocol: 'icmpv6' as const, fromPort: -1, toPort: -1 }];
    const p = plan(input({ targets: [target({ name: 'web', groupIds: ['sg-1'], ...both }), target({ name: 'ping', groupIds: ['sg-2'], ports: icmp, ...both })], members: [member('i-7', { ipv6: ['2600:1f18::7'] })] }));
    expect(p.authorize.flatMap((b) => b.items.map((r) => `${r.target} ${r.port.protocol} ${r.cidr}`))).toEqual([
      'web tcp 54.0.0.7/32',
      'web tcp 2600:1f18::7/128',
      'ping icmp 54.0.0.7/32',
      'ping icmpv6 2600:1f18::7/128',
    ]);
  });

  it('blocks what does not fit and reports the pool full (rule 6)', () => {
    const p = plan(input({ targets: [target({ quota: 1 })], members: [member('i-1'), member('i-2'), member('i-3')] }));
    expect(authorized(p)).toEqual(['i-1@sg-1:54.0.0.1/32', 'i-2@sg-2:54.0.0.2/32']);
    expect(p.blocked.map((b) => `${b.instanceId}:${b.reason}`)).toEqual(['i-3:capacity']);
    expect(p.capacity).toEqual([
      { target: 'api', groupId: 'sg-1', family: 'ipv4', quota: 1, before: 0, after: 1, managed: 0, foreign: 0 },
      { target: 'api', groupId: 'sg-2', family: 'ipv4', quota: 1, before: 0, after: 1, managed: 0, foreign: 0 },
    ]);
  });

  it('keeps an existing rule where it is even when an earlier group has room (sticky placement)', () => {
    const p = plan(input({ members: [member('i-7')], observed: [managed('sgr-1', 'i-7', { groupId: 'sg-2' })] }));
    expect([authorized(p), revoked(p)]).toEqual([[], []]);
  });

  it('counts foreign rules and reports capacity per group and family', () => {
    const p = plan(input({ targets: [target({ families: ['ipv4', 'ipv6'], groupIds: ['sg-1'] })], observed: [foreign('sgr-f', '8.8.8.8/32'), managed('sgr-1', 'i-7')] }));
    expect(p.capacity).toEqual([
      { target: 'api', groupId: 'sg-1', family: 'ipv4', quota: 60, before: 2, after: 1, managed: 1, foreign: 1 },
      { target: 'api', groupId: 'sg-1', family: 'ipv6', quota: 60, before: 0, after: 0, managed: 0, foreign: 0 },
    ]);
  });

  it('counts a rule that admits another security group in both families, as AWS does, and blocks what would not fit', () => {
    const fromGroup = (ruleId: string, port: number): ObservedRule => ({ ruleId, groupId: 'sg-1', family: 'ipv4', protocol: 'tcp', fromPort: port, toPort: port, tags: {} });
    const p = plan(input({
      targets: [target({ families: ['ipv4', 'ipv6'], groupIds: ['sg-1'], quota: 3 })],
      members: [member('i-1', { ipv6: ['2600:1f18::1'] }), member('i-2', { ipv6: ['2600:1f18::2'] })],
      observed: [fromGroup('sgr-g1', 22), fromGroup('sgr-g2', 8080)],
    }));
    expect(p.capacity.map((c) => `${c.family} ${c.before}->${c.after}`)).toEqual(['ipv4 2->3', 'ipv6 2->3']);
    expect(p.blocked.map((b) => `${b.instanceId}:${b.family}`)).toEqual(['i-2:ipv4', 'i-2:ipv6']);
  });
});

describe('revoke reasons', () => {
  it.each<[string, Partial<PlanInput>, ObservedRule, string]>([
    ['a terminated instance, young rule or not', { members: [member('i-7', { state: 'terminated' })] }, managed('sgr-1', 'i-7', {}, { [TAG.registeredAt]: YOUNG }), 'instance-terminated'],
    ['a stopped instance', { members: [member('i-7', { state: 'stopped' })] }, managed('sgr-1', 'i-7'), 'instance-stopped'],
    ['a stopping instance', { members: [member('i-7', { state: 'stopping' })] }, managed('sgr-1', 'i-7'), 'instance-stopped'],
    ['an instance shutting down', { members: [member('i-7', { state: 'shutting-down' })] }, managed('sgr-1', 'i-7'), 'instance-stopped'],
    ['an instance gone from a complete inventory, past grace', { members: [] }, managed('sgr-1', 'i-7'), 'instance-gone'],
    ['a rule with a garbled registration time counts as old', { members: [] }, managed('sgr-1', 'i-7', {}, { [TAG.registeredAt]: 'last tuesday' }), 'instance-gone'],
    ['a new public address after stop/start, young rule or not', { members: [member('i-7', { publicIpv4: '54.9.9.9' })] }, managed('sgr-1', 'i-7', {}, { [TAG.registeredAt]: YOUNG }), 'address-changed'],
    ['a pending instance with a new address', { members: [member('i-7', { state: 'pending', publicIpv4: '54.9.9.9' })] }, managed('sgr-1', 'i-7'), 'address-changed'],
    ['a running instance that lost its public address', { members: [member('i-7', { publicIpv4: undefined })] }, managed('sgr-1', 'i-7'), 'address-changed'],
    ['an instance whose tags no longer match', { targets: [target({ selector: { tags: { role: ['api'] } } })], members: [member('i-7', { tags: { role: 'db' } })] }, managed('sgr-1', 'i-7'), 'not-selected'],
    ['an unseen instance in a region the target no longer selects', { targets: [target({ selector: { regions: ['ap-southeast-2'] } })] }, managed('sgr-1', 'i-7'), 'not-selected'],
    ['a port the target no longer lists', { members: [member('i-7')] }, managed('sgr-1', 'i-7', { fromPort: 22, toPort: 22 }), 'port-removed'],
    ['a family the target no longer lists', { members: [member('i-7', { ipv6: ['2a05::7'] })] }, managed('sgr-1', 'i-7', { family: 'ipv6', cidr: '2a05::7/128' }), 'port-removed'],
    ['a port removed, even while the member region is unavailable', { members: [], regionInventory: {} }, managed('sgr-1', 'i-7', { fromPort: 22, toPort: 22 }), 'port-removed'],
    ['the instance deregistering itself, young rule or not', { members: [member('i-7')], scope: { kind: 'instance', instanceId: 'i-7', deregister: true } }, managed('sgr-1', 'i-7', {}, { [TAG.registeredAt]: YOUNG }), 'deregistered'],
  ])('revokes for %s', (_case, world, rule, reason) => {
    const p = plan(input({ ...world, observed: [rule] }));
    expect(revoked(p)).toEqual([`sgr-1:${reason}`]);
    expect(p.revoke[0]).toMatchObject({ groupId: 'sg-1', region: 'us-east-1' });
  });

  it('revokes the later copy of a rule managed in two groups, keeping the first in pool order', () => {
    const p = plan(input({ members: [member('i-7')], observed: [managed('sgr-a', 'i-7', { groupId: 'sg-2' }), managed('sgr-b', 'i-7', { groupId: 'sg-1' })] }));
    expect(revoked(p)).toEqual(['sgr-a:duplicate']);
    expect(authorized(p)).toEqual([]);
  });

  it('revokes every later copy of a rule managed in three groups, however many there are', () => {
    const p = plan(input({ targets: [target({ groupIds: ['sg-1', 'sg-2', 'sg-3'] })], members: [member('i-7')], observed: [managed('sgr-a', 'i-7', { groupId: 'sg-3' }), managed('sgr-b', 'i-7', { groupId: 'sg-1' }), managed('sgr-c', 'i-7', { groupId: 'sg-2' })] }));
    expect(revoked(p).sort()).toEqual(['sgr-a:duplicate', 'sgr-c:duplicate']);
    expect(authorized(p)).toEqual([]);
  });

  it('names in every revoke whose rule it was and where that instance is listed, for the audit log, though the rule names no region', () => {
    const unplaced = managed('sgr-c', 'i-8');
    delete unplaced.tags[TAG.region];
    const p = plan(input({
      members: [member('i-7'), member('i-8', { region: 'ap-southeast-2', state: 'terminated' })],
      observed: [managed('sgr-a', 'i-7', { groupId: 'sg-2' }), managed('sgr-b', 'i-7', { groupId: 'sg-1' }), unplaced],
    }));
    expect(p.revoke.flatMap((b) => b.items.map((r) => `${r.ruleId} ${r.instanceId} ${r.memberRegion} ${r.reason}`)).sort()).toEqual([
      'sgr-a i-7 eu-west-1 duplicate',
      'sgr-c i-8 ap-southeast-2 instance-terminated',
    ]);
  });

  it('knows whose a rule is from its description when a batch authorize could only tag what its rules share', () => {
    const shared = (ruleId: string, n: number) => {
      const id = `i-0000000${n}`;
      const rule = managed(ruleId, id, { cidr: `54.0.0.${n}/32`, description: `sgsync prod/api ${id} eu-west-1` });
      delete rule.tags[TAG.instance];
      delete rule.tags[TAG.region];
      return rule;
    };
    const members = [member('i-00000007', { publicIpv4: '54.0.0.7' }), member('i-00000008', { state: 'terminated' })];
    const p = plan(input({ members, observed: [shared('sgr-7', 7), shared('sgr-8', 8), shared('sgr-9', 9)] }));
    expect(authorized(p)).toEqual([]);
    expect(revoked(p)).toEqual(['sgr-8:instance-terminated', 'sgr-9:instance-gone']);
    expect(p.revoke[0]?.items.map((r) => [r.instanceId, r.memberRegion])).toEqual([
      ['i-00000008', 'eu-west-1'],
      ['i-00000009', 'eu-west-1'],
    ]);
  });

  it('places a new member beside a kept rule for the same address, which EC2 would call a duplicate', () => {
    const young = managed('sgr-old', 'i-5', { cidr: '54.0.0.7/32' }, { [TAG.registeredAt]: YOUNG });
    const p = plan(input({ members: [member('i-7')], observed: [young] }));
    expect(kept(p)).toEqual(['sgr-old:grace']);
    expect(authorized(p)).toEqual(['i-7@sg-2:54.0.0.7/32']);
  });

  it('replaces the rule of a re-addressed instance, reusing the room it frees', () => {
    const p = plan(input({ targets: [target({ quota: 1, groupIds: ['sg-1'] })], members: [member('i-7', { publicIpv4: '54.9.9.9' })], observed: [managed('sgr-1', 'i-7')] }));
    expect(revoked(p)).toEqual(['sgr-1:address-changed']);
    expect(authorized(p)).toEqual(['i-7@sg-1:54.9.9.9/32']);
  });
});

describe('safety rules', () => {
  it('never revokes a foreign rule, and flags one open to the world (rule 1)', () => {
    const observed = [foreign('sgr-f1', '0.0.0.0/0'), foreign('sgr-f2', '54.0.0.7/32', { description: 'sgsync prod/api i-7 eu-west-1' }), foreign('sgr-f3', '::/0', { family: 'ipv6' })];
    const p = plan(input({ observed }));
    expect(p.revoke).toEqual([]);
    expect(p.foreign.map((f) => `${f.ruleId}:${f.dangerous}`)).toEqual(['sgr-f1:true', 'sgr-f2:false', 'sgr-f3:true']);
  });

  it("treats another deployment's rule as foreign (rule 1)", () => {
    const p = plan(input({ observed: [managed('sgr-1', 'i-7', {}, { [TAG.managedBy]: 'staging' })] }));
    expect(p.revoke).toEqual([]);
    expect(p.foreign.map((f) => f.ruleId)).toEqual(['sgr-1']);
  });

  describe("this deployment's rules a changed configuration left behind", () => {
    // The target was renamed (api → old-api in the tag) or removed; or the group went to another target's pool.
    const renamed = managed('sgr-1', 'i-7', {}, { [TAG.target]: 'old-api' });
    const admin = target({ name: 'admin', groupIds: ['sg-9'], ports: [{ protocol: 'tcp', fromPort: 22, toPort: 22 }] });
    const moved = managed('sgr-2', 'i-8', { groupId: 'sg-9' });

    it('revokes, in a fleet pass, a rule for a target the configuration no longer defines, though its instance runs', () => {
      const p = plan(input({ observed: [renamed], members: [member('i-7')] }));
      expect(revoked(p)).toEqual(['sgr-1:target-removed']);
      // The rule lives in api's group, so the revoke is api's; the member gets api's rule in its place.
      expect(p.revoke[0]?.items[0]?.target).toBe('api');
      expect(authorized(p)).toEqual(['i-7@sg-1:54.0.0.7/32']);
      expect(p.warnings).toEqual([]);
      expect(p.foreign).toEqual([]);
    });

    it('revokes as malformed a rule with this deployment\'s tag but no target tag, which sgsync never writes: it has no successor to wait for', () => {
      const { [TAG.target]: _, ...tags } = managed('sgr-1', 'i-7').tags;
      // A full group: a renamed target's rule would stay while the member's new rule is blocked (see below); this one goes.
      const observed = [{ ...managed('sgr-1', 'i-7'), tags }, foreign('sgr-f', '203.0.113.0/24')];
      const p = plan(input({ targets: [target({ groupIds: ['sg-1'], quota: 1 })], observed, members: [member('i-7')] }));
      expect([revoked(p), kept(p)]).toEqual([['sgr-1:malformed'], []]);
      expect(p.blocked.map((b) => `${b.instanceId}:${b.reason}`)).toEqual(['i-7:capacity']);
    });

    it("revokes a rule in a group its target's pool no longer holds", () => {
      const p = plan(input({ targets: [target(), admin], observed: [moved], members: [member('i-8')] }));
      expect(revoked(p)).toEqual(['sgr-2:not-in-pool']);
      expect(p.revoke[0]).toMatchObject({ groupId: 'sg-9', region: 'us-east-1' });
    });

    it('keeps such a rule while it is young: an agent with a newer configuration may have written it', () => {
      const p = plan(input({ observed: [managed('sgr-1', 'i-7', {}, { [TAG.target]: 'old-api', [TAG.registeredAt]: YOUNG })] }));
      expect(kept(p)).toEqual(['sgr-1:grace']);
      expect(p.kept[0]?.detail).toMatch(/target "old-api", which the configuration does not define/);
    });

    it('counts such rules against the blast radius, as every revoke', () => {
      const p = plan(input({ observed: [renamed, managed('sgr-3', 'i-9', {}, { [TAG.target]: 'old-api' })], safety: { graceSeconds: 300, revokeLimit: { count: 1 }, force: false } }));
      expect(p.halted).toMatchObject({ wouldRevoke: 2, managed: 2 });
      expect(p.kept.map((k) => k.wouldRevoke)).toEqual(['target-removed', 'target-removed']);
    });

    it("keeps a renamed target's old rule while the member's rule under the new name finds no room", () => {
      // One group, full with the old rule and a foreign one: the new name's rule would need the old one's room, and more.
      const p = plan(input({ targets: [target({ groupIds: ['sg-1'], quota: 1 })], observed: [renamed, foreign('sgr-f', '203.0.113.0/24')], members: [member('i-7')] }));
      expect(revoked(p)).toEqual([]);
      expect(kept(p)).toEqual(['sgr-1:replacement-blocked']);
      expect(p.kept[0]?.detail).toMatch(/being replaced \(target-removed\)/);
      // The old rule holds the same permission in the pool, so it admits the member meanwhile: nothing to add, nobody blocked.
      expect(authorized(p)).toEqual([]);
      expect(p.blocked).toEqual([]);
    });

    it("leaves them to fleet passes in an instance's own pass, saying so only of its own rule; its deregistration revokes its own", () => {
      const other = managed('sgr-3', 'i-9', {}, { [TAG.target]: 'old-api' });
      const own = plan(input({ observed: [renamed, other], members: [member('i-7')], scope: { kind: 'instance', instanceId: 'i-7' } }));
      expect(revoked(own)).toEqual([]);
      expect(own.warnings).toEqual(['rule sgr-1 in sg-1 is managed by "prod" for unknown target "old-api"; it is left to fleet passes']);
      const leaving = plan(input({ observed: [renamed, other], members: [member('i-7')], scope: { kind: 'instance', instanceId: 'i-7', deregister: true } }));
      expect(revoked(leaving)).toEqual(['sgr-1:deregistered']);
    });
  });

  it.each<[string, Record<string, { status: 'complete' } | { status: 'failed'; reason: string }>, Record<string, string>, string]>([
    ['its region inventory failed', { 'eu-west-1': { status: 'failed', reason: 'UnauthorizedOperation' } }, {}, 'inventory of eu-west-1 failed: UnauthorizedOperation'],
    ['its region was not inventoried', {}, {}, 'eu-west-1 was not inventoried'],
  ])('keeps the rule of an unseen instance when %s (rule 2)', (_case, regionInventory, tags, detail) => {
    const p = plan(input({ regionInventory, observed: [managed('sgr-1', 'i-7', {}, tags)] }));
    expect(p.revoke).toEqual([]);
    const port = { protocol: 'tcp', fromPort: 443, toPort: 443 };
    expect(p.kept).toEqual([{ ruleId: 'sgr-1', groupId: 'sg-1', target: 'api', cidr: '54.0.0.7/32', port, instanceId: 'i-7', memberRegion: 'eu-west-1', reason: 'region-unavailable', detail: `instance i-7 is not visible; ${detail}` }]);
  });

  it('keeps the young rule of an unseen instance that names no region (rule 2), and revokes it once old: sgsync always names one', () => {
    const young = managed('sgr-1', 'i-7', {}, { [TAG.registeredAt]: YOUNG });
    const old = managed('sgr-2', 'i-8');
    delete young.tags[TAG.region];
    delete old.tags[TAG.region];
    const p = plan(input({ observed: [young, old] }));
    expect([revoked(p), kept(p)]).toEqual([['sgr-2:malformed'], ['sgr-1:region-unavailable']]);
    // A target that selects regions cannot rule out a region the rule does not name.
    const regional = plan(input({ targets: [target({ selector: { regions: ['eu-west-1'] } })], observed: [young, old] }));
    expect([revoked(regional), kept(regional)]).toEqual([['sgr-2:malformed'], ['sgr-1:region-unavailable']]);
  });

  it('keeps the young rule of an unseen instance, and one whose region is not listed, on a target of several ports too (rules 2, 3)', () => {
    const ports = [{ protocol: 'tcp' as const, fromPort: 443, toPort: 443 }, { protocol: 'tcp' as const, fromPort: 8443, toPort: 8443 }];
    const observed = [managed('sgr-1', 'i-7', {}, { [TAG.registeredAt]: YOUNG }), managed('sgr-2', 'i-8', { fromPort: 8443, toPort: 8443 }, { [TAG.region]: 'sa-east-1' })];
    const p = plan(input({ targets: [target({ ports })], observed }));
    expect([revoked(p), kept(p)]).toEqual([[], ['sgr-1:grace', 'sgr-2:region-unavailable']]);
  });

  describe('rules tagged as this deployment\'s that sgsync would not write', () => {
    const FUTURE = '2099-01-01T00:00:00.000Z';

    it('revokes one wider than an address at once, whatever instance it names and however young it claims to be', () => {
      const p = plan(input({
        members: [member('i-7')],
        observed: [
          managed('sgr-1', 'i-7', { cidr: '0.0.0.0/0' }, { [TAG.registeredAt]: YOUNG }),
          managed('sgr-2', 'i-8', { cidr: '10.0.0.0/8' }, { [TAG.registeredAt]: FUTURE }),
          managed('sgr-3', 'i-9', { family: 'ipv6', cidr: '::/0' }),
        ],
        targets: [target({ families: ['ipv4', 'ipv6'] })],
      }));
      expect(revoked(p).sort()).toEqual(['sgr-1:malformed', 'sgr-2:malformed', 'sgr-3:malformed']);
    });

    it('revokes one wider than an address that names no instance in a fleet pass, and leaves it to fleet passes in an instance\'s own', () => {
      const wide = managed('sgr-1', 'i-7', { cidr: '0.0.0.0/0' });
      delete wide.tags[TAG.instance];
      expect(revoked(plan(input({ observed: [wide] })))).toEqual(['sgr-1:malformed']);
      expect(revoked(plan(input({ observed: [wide], scope: { kind: 'instance', instanceId: 'i-7' } })))).toEqual([]);
    });

    it('revokes them though the blast radius halts the pass, and neither counts them against the limit nor among the managed rules', () => {
      // Planted with sgsync's tags: three rules naming instances that do not exist (enough to halt the pass at a
      // count of 2), and two rules wide open, which the halt must not keep.
      const planted = [managed('sgr-1', 'i-1'), managed('sgr-2', 'i-2'), managed('sgr-3', 'i-3')];
      const open = [managed('sgr-8', 'i-7', { cidr: '0.0.0.0/0' }), managed('sgr-9', 'i-7', { cidr: '10.0.0.0/8' })];
      const p = plan(input({ members: [member('i-7')], observed: [...planted, ...open, managed('sgr-7', 'i-7')], safety: { graceSeconds: 300, revokeLimit: { count: 2 }, force: false } }));
      expect(p.halted).toEqual({ reason: 'blast-radius', wouldRevoke: 3, limit: 2, managed: 4 });
      expect(revoked(p).sort()).toEqual(['sgr-8:malformed', 'sgr-9:malformed']);
      expect(kept(p)).toEqual(['sgr-1:blast-radius', 'sgr-2:blast-radius', 'sgr-3:blast-radius']);
      // Nor do they raise a fraction: a half of the 4 rules that are members' is 2, so 3 halts; counting the
      // wide ones it would be 3, and the three planted rules would go unchecked.
      const half = plan(input({ members: [member('i-7')], observed: [...planted, ...open, managed('sgr-7', 'i-7')], safety: { graceSeconds: 300, revokeLimit: { fraction: 0.5 }, force: false } }));
      expect(half.halted).toMatchObject({ wouldRevoke: 3, limit: 2, managed: 4 });
    });

    it('does not believe a registration time further ahead than the grace period', () => {
      const p = plan(input({ observed: [managed('sgr-1', 'i-7', {}, { [TAG.registeredAt]: FUTURE })] }));
      expect(revoked(p)).toEqual(['sgr-1:instance-gone']);
      const racing = plan(input({
        regionInventory: { 'eu-west-1': { status: 'complete', listedAt: Date.parse(OLD) } },
        members: [member('i-7', { state: 'stopped' })],
        observed: [managed('sgr-2', 'i-7', {}, { [TAG.registeredAt]: FUTURE })],
      }));
      expect(revoked(racing)).toEqual(['sgr-2:instance-stopped']);
    });
  });

  it('keeps a young rule whose instance is not visible yet (rule 3)', () => {
    const p = plan(input({ observed: [managed('sgr-1', 'i-7', {}, { [TAG.registeredAt]: YOUNG })] }));
    expect([revoked(p), kept(p)]).toEqual([[], ['sgr-1:grace']]);
  });

  describe('a rule registered after its instance was listed (rule 3, rule 7)', () => {
    // The listing of eu-west-1 was asked for a minute before the pass plans (NOW); an agent then registered.
    const LISTED = '2025-06-01T11:59:00.000Z';
    const AFTER = '2025-06-01T11:59:30.000Z';
    const listed = { 'eu-west-1': { status: 'complete' as const, listedAt: Date.parse(LISTED) } };
    const racing = (state: Member['state'], over: Partial<Member> = {}, registeredAt = AFTER) =>
      plan(input({
        regionInventory: listed,
        members: [member('i-7', { state, ...over })],
        // Registered at the new address, 54.0.0.77, while the listing shows the old one (or the instance stopped).
        observed: [managed('sgr-1', 'i-7', { cidr: '54.0.0.77/32' }, { [TAG.registeredAt]: registeredAt })],
      }));

    it.each([
      ['listed stopped', 'stopped' as const],
      ['listed stopping', 'stopping' as const],
      ['listed at its old address', 'running' as const],
    ])('is kept when its instance was %s: the listing is older than the rule', (_, state) => {
      const p = racing(state);
      expect([revoked(p), kept(p)]).toEqual([[], ['sgr-1:grace']]);
      expect(p.kept[0]?.detail).toBe(`the rule was registered at ${AFTER}, after instance i-7 was listed (${state}) at ${LISTED}; the next pass decides`);
    });

    it('is kept when its instance was listed without the tags that select it', () => {
      const p = plan(input({
        targets: [target({ selector: { tags: { role: ['api'] } } })],
        regionInventory: listed,
        members: [member('i-7', { publicIpv4: '54.0.0.77', tags: { role: 'web' } })],
        observed: [managed('sgr-1', 'i-7', { cidr: '54.0.0.77/32' }, { [TAG.registeredAt]: AFTER })],
      }));
      expect([revoked(p), kept(p)]).toEqual([[], ['sgr-1:grace']]);
    });

    it('is revoked when its instance was listed terminated, which no instance comes back from', () => {
      expect(revoked(racing('terminated'))).toEqual(['sgr-1:instance-terminated']);
    });

    it('is revoked when it was registered before the listing, which then speaks for it', () => {
      expect(revoked(racing('stopped', {}, '2025-06-01T11:58:59.999Z'))).toEqual(['sgr-1:instance-stopped']);
      expect(revoked(racing('running', {}, '2025-06-01T11:58:59.999Z'))).toEqual(['sgr-1:address-changed']);
      expect(kept(racing('stopped', {}, LISTED))).toEqual(['sgr-1:grace']);
    });

    it('is judged by the listing when the inventory does not say when it was taken (an agent\'s own pass)', () => {
      const p = plan(input({ members: [member('i-7', { state: 'stopped' })], observed: [managed('sgr-1', 'i-7', {}, { [TAG.registeredAt]: AFTER })] }));
      expect(revoked(p)).toEqual(['sgr-1:instance-stopped']);
    });

    it('is judged by the listing when its instance\'s region has no inventory at all', () => {
      const p = plan(input({ regionInventory: {}, members: [member('i-7', { state: 'stopped' })], observed: [managed('sgr-1', 'i-7', {}, { [TAG.registeredAt]: AFTER })] }));
      expect(revoked(p)).toEqual(['sgr-1:instance-stopped']);
    });

    it('is left alone, not reported kept, when its instance was listed pending at its address', () => {
      const p = racing('pending', { publicIpv4: '54.0.0.77' });
      expect([revoked(p), kept(p)]).toEqual([[], []]);
    });

    it('is believed up to a registration time as far ahead as the grace period, as withinGrace believes it, and no further', () => {
      expect(kept(racing('stopped', {}, '2025-06-01T12:05:00.000Z'))).toEqual(['sgr-1:grace']);
      expect(revoked(racing('stopped', {}, '2025-06-01T12:05:00.001Z'))).toEqual(['sgr-1:instance-stopped']);
    });
  });

  describe('blast radius (rule 4)', () => {
    const gone = ['i-1', 'i-2', 'i-3'].map((id, n) => managed(`sgr-${n}`, id));
    const world = (revokeLimit: { count?: number; fraction?: number }, force = false) =>
      input({ observed: [...gone, managed('sgr-9', 'i-9')], members: [member('i-9')], safety: { graceSeconds: 300, revokeLimit, force } });

    it.each<[string, { count?: number; fraction?: number }, number]>([
      ['a count', { count: 2 }, 2],
      ['a fraction of managed rules', { fraction: 0.5 }, 2],
      ['the stricter of both', { count: 10, fraction: 0.25 }, 1],
    ])('halts every revoke beyond %s, keeping them with a reason', (_case, limit, expected) => {
      const p = plan(world(limit));
      expect(p.revoke).toEqual([]);
      expect(p.halted).toEqual({ reason: 'blast-radius', wouldRevoke: 3, limit: expected, managed: 4 });
      expect(kept(p)).toEqual(['sgr-0:blast-radius', 'sgr-1:blast-radius', 'sgr-2:blast-radius']);
    });

    it('revokes within the limit', () => {
      const p = plan(world({ count: 3 }));
      expect(p.halted).toBeUndefined();
      expect(revoked(p)).toHaveLength(3);
    });

    it('revokes beyond the limit when forced', () => {
      const p = plan(world({ count: 1 }, true));
      expect(p.halted).toBeUndefined();
      expect(revoked(p)).toEqual(['sgr-0:instance-gone', 'sgr-1:instance-gone', 'sgr-2:instance-gone']);
    });

    it('never halts an instance-scoped pass: an instance only ever touches its own rules', () => {
      const p = plan(input({
        observed: [managed('sgr-1', 'i-1', {}, {}), managed('sgr-2', 'i-1', { fromPort: 80, toPort: 80 })],
        members: [member('i-1')],
        scope: { kind: 'instance', instanceId: 'i-1', deregister: true },
        safety: { graceSeconds: 300, revokeLimit: { count: 1, fraction: 0.1 }, force: false },
      }));
      expect(p.halted).toBeUndefined();
      expect(revoked(p)).toEqual(['sgr-1:deregistered', 'sgr-2:deregistered']);
    });

    it('still plans authorizations, but without the room the halted revokes would have freed', () => {
      const p = plan(input({
        targets: [target({ quota: 2, groupIds: ['sg-1'] })],
        observed: [managed('sgr-1', 'i-1'), managed('sgr-2', 'i-2')],
        members: [member('i-8')],
        safety: { graceSeconds: 300, revokeLimit: { count: 1 }, force: false },
      }));
      expect(p.halted?.wouldRevoke).toBe(2);
      expect(p.authorize).toEqual([]);
      expect(p.blocked.map((b) => b.instanceId)).toEqual(['i-8']);
    });
  });

  describe('a rule replaced: its port range or family changed', () => {
    // 443 became 443-444: every member's 443 rule is stale, and each needs a 443-444 rule in its place.
    const wider = target({ groupIds: ['sg-1'], ports: [{ protocol: 'tcp', fromPort: 443, toPort: 444 }], quota: 3 });
    const members = [member('i-1'), member('i-2'), member('i-3')];
    const old = members.map((m, n) => managed(`sgr-${n + 1}`, m.instanceId));

    it('keeps the old rules of members whose new ones find no room, and gives their room to nobody', () => {
      // A foreign rule fills the group's last slot: the old rules' room is all there is, and each new rule needs its member's.
      const p = plan(input({ targets: [wider], members, observed: [...old, foreign('sgr-f', '203.0.113.0/24')] }));
      expect(authorized(p)).toEqual([]);
      expect(revoked(p)).toEqual([]);
      expect(kept(p)).toEqual(['sgr-1:replacement-blocked', 'sgr-2:replacement-blocked', 'sgr-3:replacement-blocked']);
      expect(p.blocked.map((b) => b.instanceId).sort()).toEqual(['i-1', 'i-2', 'i-3']);
      expect(p.kept[0]?.detail).toMatch(/instance i-1's new rule found no room/);
    });

    it('replaces the rules of the members that find room, keeps the others, and stays within the quota', () => {
      // Each member now needs two rules (443-444 and 8080) where it had one: four slots hold two members' new rules.
      const twoPorts = { ...wider, quota: 4, ports: [{ protocol: 'tcp' as const, fromPort: 443, toPort: 444 }, { protocol: 'tcp' as const, fromPort: 8080, toPort: 8080 }] };
      const p = plan(input({ targets: [twoPorts], members, observed: old }));
      const lost = new Set(p.revoke.flatMap((b) => b.items.map((r) => r.instanceId)));
      const blocked = new Set(p.blocked.map((b) => b.instanceId));
      expect(lost.size).toBeGreaterThan(0);
      expect(blocked.size).toBeGreaterThan(0);
      // Whoever lost the old rule was placed in full; whoever was not keeps it: nobody is left with neither.
      for (const m of members) expect(lost.has(m.instanceId) && blocked.has(m.instanceId)).toBe(false);
      expect(p.kept.map((k) => `${k.instanceId}:${k.reason}`).sort()).toEqual([...blocked].sort().map((id) => `${id}:replacement-blocked`));
      expect(p.capacity.every((c) => c.after <= c.quota)).toBe(true);
    });

    it("revokes a port that nothing replaces, though other members' new rules find no room", () => {
      const narrower = target({ groupIds: ['sg-1'], ports: [{ protocol: 'tcp', fromPort: 443, toPort: 443 }], quota: 2 });
      const p = plan(input({
        targets: [narrower],
        members: [member('i-1'), member('i-8')],
        observed: [managed('sgr-1', 'i-1'), managed('sgr-2', 'i-1', { fromPort: 22, toPort: 22 })],
      }));
      expect(revoked(p)).toEqual(['sgr-2:port-removed']);
      expect(p.blocked.map((b) => b.instanceId)).toEqual([]);
      expect(authorized(p)).toEqual(['i-8@sg-1:54.0.0.8/32']);
    });
  });

  describe('a change of ports the blast radius stops', () => {
    // 443 became 8443 for three members; the limit allows one revoke.
    const moved = target({ ports: [{ protocol: 'tcp', fromPort: 8443, toPort: 8443 }] });
    const world = (force: boolean, revokeLimit: { count?: number; fraction?: number } = { count: 1 }) =>
      input({
        targets: [moved],
        members: [member('i-1'), member('i-2'), member('i-3'), member('i-8')],
        observed: [managed('sgr-1', 'i-1'), managed('sgr-2', 'i-2'), managed('sgr-3', 'i-3')],
        safety: { graceSeconds: 300, revokeLimit, force },
      });

    it('is held back whole: the members keep their old rules and get no new ones, while a new member is admitted', () => {
      const p = plan(world(false));
      expect(p.halted).toMatchObject({ wouldRevoke: 3, limit: 1 });
      expect(revoked(p)).toEqual([]);
      expect(kept(p)).toEqual(['sgr-1:blast-radius', 'sgr-2:blast-radius', 'sgr-3:blast-radius']);
      expect(p.blocked.map((b) => `${b.instanceId}:${b.reason}`).sort()).toEqual(['i-1:halted', 'i-2:halted', 'i-3:halted']);
      expect(p.authorize.flatMap((b) => b.items.map((r) => `${r.instanceId}:${r.port.fromPort}`))).toEqual(['i-8:8443']);
    });

    it('so the next pass is halted the same way, not brought under the fraction by new rules of its own', () => {
      // Half of 3 rules: 1. Had the halted pass added the three 8443 rules, the next would judge 3 of 7 against 3.
      const half = world(false, { fraction: 0.5 });
      const first = plan(half);
      expect(first.halted).toMatchObject({ wouldRevoke: 3, limit: 1 });
      let n = 0;
      const next = plan({ ...half, observed: applyPlanToObserved(half.observed, first, () => `sgr-new${++n}`) });
      expect(next.halted).toMatchObject({ wouldRevoke: 3 });
      expect(revoked(next)).toEqual([]);
    });

    it('goes through whole when forced', () => {
      const p = plan(world(true));
      expect(revoked(p)).toEqual(['sgr-1:port-removed', 'sgr-2:port-removed', 'sgr-3:port-removed']);
      expect(p.authorize.flatMap((b) => b.items.map((r) => r.instanceId)).sort()).toEqual(['i-1', 'i-2', 'i-3', 'i-8']);
      expect(p.blocked).toEqual([]);
    });
  });

  describe('instance scope', () => {
    const observed = [managed('sgr-7', 'i-7'), managed('sgr-8', 'i-8'), managed('sgr-9', 'i-9', { groupId: 'sg-2' })];

    it("touches only the scoped instance's rules, though others' instances are gone", () => {
      const p = plan(input({ observed, members: [member('i-7', { publicIpv4: '54.1.1.1' })], scope: { kind: 'instance', instanceId: 'i-7' } }));
      expect(revoked(p)).toEqual(['sgr-7:address-changed']);
      expect(authorized(p)).toEqual(['i-7@sg-1:54.1.1.1/32']);
    });

    it('adds only the scoped instance, even when others are missing', () => {
      const p = plan(input({ members: [member('i-7'), member('i-8')], scope: { kind: 'instance', instanceId: 'i-8' } }));
      expect(authorized(p).map((a) => a.replace(/@sg-\d/, ''))).toEqual(['i-8:54.0.0.8/32']);
    });

    it("places the instance's new rule from the group its id picks, not the first group with room (decision 0004)", () => {
      const targets = [target({ groupIds: ['sg-1', 'sg-2', 'sg-3'] })];
      const home = `sg-${spreadStart('i-8', 3) + 1}`;
      expect(home).not.toBe('sg-1');
      const p = plan(input({ targets, members: [member('i-8')], scope: { kind: 'instance', instanceId: 'i-8' } }));
      expect(authorized(p)).toEqual([`i-8@${home}:54.0.0.8/32`]);
    });

    it('wraps past a full group of its own to the next with room, not back to the first', () => {
      const targets = [target({ groupIds: ['sg-1', 'sg-2', 'sg-3'], quota: 1 })];
      // i-1 starts at sg-2; with sg-2 full, strict first-fit would pick sg-1.
      expect(spreadStart('i-1', 3)).toBe(1);
      const observed = [foreign('sgr-f', '8.8.8.8/32', { groupId: 'sg-2' })];
      const p = plan(input({ targets, observed, members: [member('i-1')], scope: { kind: 'instance', instanceId: 'i-1' } }));
      expect(authorized(p)).toEqual(['i-1@sg-3:54.0.0.1/32']);
    });

    it('leaves its existing rule where it is, in whatever group (sticky placement)', () => {
      for (const groupId of ['sg-1', 'sg-2', 'sg-3']) {
        const targets = [target({ groupIds: ['sg-1', 'sg-2', 'sg-3'] })];
        const p = plan(input({ targets, observed: [managed('sgr-8', 'i-8', { groupId })], members: [member('i-8')], scope: { kind: 'instance', instanceId: 'i-8' } }));
        expect([authorized(p), revoked(p)]).toEqual([[], []]);
      }
    });

    it('places a new rule in the group its agent would pick, so a controller and the agent racing for it agree', () => {
      const targets = [target({ groupIds: ['sg-1', 'sg-2', 'sg-3'], quota: 20 })];
      const ids = Array.from({ length: 12 }, (_, n) => `i-${n + 1}`);
      const fleet = authorized(plan(input({ targets, members: ids.map((id) => member(id)) })));
      const agents = ids.flatMap((id) => authorized(plan(input({ targets, members: [member(id)], scope: { kind: 'instance', instanceId: id } }))));
      expect([...fleet].sort()).toEqual([...agents].sort());
      // And not simply everything in the first group.
      expect(new Set(fleet.map((a) => a.split('@')[1]!.split(':')[0])).size).toBeGreaterThan(1);
    });

    it('still counts rules outside the scope against capacity', () => {
      const p = plan(input({ targets: [target({ quota: 2 })], observed, members: [member('i-1')], scope: { kind: 'instance', instanceId: 'i-1' } }));
      expect(authorized(p)).toEqual(['i-1@sg-2:54.0.0.1/32']);
    });

    it('keeps its own rule during grace when the instance is simply not listed', () => {
      const p = plan(input({ observed: [managed('sgr-7', 'i-7', {}, { [TAG.registeredAt]: YOUNG })], scope: { kind: 'instance', instanceId: 'i-7' } }));
      expect([revoked(p), kept(p)]).toEqual([[], ['sgr-7:grace']]);
    });

    it("deregisters every rule of the instance and nothing else's", () => {
      const p = plan(input({ observed: [...observed, managed('sgr-7b', 'i-7', { groupId: 'sg-2' })], scope: { kind: 'instance', instanceId: 'i-7', deregister: true } }));
      expect(revoked(p)).toEqual(['sgr-7:deregistered', 'sgr-7b:deregistered']);
      expect(authorized(p)).toEqual([]);
    });

    it('deregisters its rules whether its id is in their tags or only in their descriptions, and never those of an id that merely begins with its own', () => {
      const mine = 'i-0000000a';
      const longer = 'i-0000000ab';
      const rule = (ruleId: string, id: string, named: 'tag' | 'description', tags: Record<string, string> = {}) => {
        const r = managed(ruleId, id, { cidr: `54.0.0.${ruleId.slice(4)}/32`, description: `sgsync prod/api ${id} eu-west-1` }, tags);
        // A batch authorize can tag only what its rules share: the instance is then named by the description alone.
        if (named === 'description') delete r.tags[TAG.instance];
        return r;
      };
      const observed = [
        rule('sgr-1', mine, 'tag'),
        rule('sgr-2', mine, 'description'),
        rule('sgr-3', longer, 'tag'),
        rule('sgr-4', longer, 'description'),
        // Left behind by a target the configuration no longer has.
        rule('sgr-5', longer, 'tag', { [TAG.target]: 'old-api' }),
      ];
      const p = plan(input({ observed, scope: { kind: 'instance', instanceId: mine, deregister: true } }));
      expect([revoked(p), kept(p)]).toEqual([['sgr-1:deregistered', 'sgr-2:deregistered'], []]);
    });
  });
});

describe('a pool group that does not exist', () => {
  const gone = [{ groupId: 'sg-1', region: 'us-east-1' }];

  it("places nothing in it: the members go to the pool's other groups, and the plan names it", () => {
    const p = plan(input({ members: [member('i-1'), member('i-2'), member('i-3')], missing: gone }));
    expect(authorized(p)).toEqual(['i-1@sg-2:54.0.0.1/32', 'i-2@sg-2:54.0.0.2/32', 'i-3@sg-2:54.0.0.3/32']);
    expect(p.missing).toEqual([{ target: 'api', groupId: 'sg-1', region: 'us-east-1' }]);
    expect(p.capacity).toEqual([
      { target: 'api', groupId: 'sg-1', family: 'ipv4', quota: 60, before: 0, after: 0, managed: 0, foreign: 0, missing: true },
      { target: 'api', groupId: 'sg-2', family: 'ipv4', quota: 60, before: 0, after: 3, managed: 0, foreign: 0 },
    ]);
  });

  it('moves an instance past it to the next group from the one its id picks, so a controller and the agent still agree', () => {
    const targets = [target({ groupIds: ['sg-1', 'sg-2', 'sg-3'] })];
    const ids = Array.from({ length: 12 }, (_, n) => `i-${n + 1}`);
    const starting = ids.filter((id) => spreadStart(id, 3) === 1);
    expect(starting.length).toBeGreaterThan(0);
    const missing = [{ groupId: 'sg-2', region: 'us-east-1' }];
    const fleet = authorized(plan(input({ targets, members: ids.map((id) => member(id)), missing })));
    const agents = ids.flatMap((id) => authorized(plan(input({ targets, members: [member(id)], missing, scope: { kind: 'instance', instanceId: id } }))));
    expect([...fleet].sort()).toEqual([...agents].sort());
    expect(fleet.filter((a) => a.includes('@sg-2'))).toEqual([]);
    // Those that would have started at sg-2 take the next group round the pool, as past a full one.
    for (const id of starting) expect(fleet.find((a) => a.startsWith(`${id}@`))).toContain('@sg-3');
  });

  it('blocks the members of a pool none of whose groups exists, saying so rather than "no room"', () => {
    const missing = [{ groupId: 'sg-1', region: 'us-east-1' }, { groupId: 'sg-2', region: 'us-east-1' }];
    const p = plan(input({ members: [member('i-1')], missing }));
    expect(authorized(p)).toEqual([]);
    expect(p.blocked.map((b) => `${b.instanceId}:${b.reason}`)).toEqual(['i-1:no-group']);
  });

  it('blocks the members of a target with no groups at all for want of room, and warns: there is no missing group to name, and adding one is the cure', () => {
    const p = plan(input({ targets: [target({ groupIds: [] })], members: [member('i-1')] }));
    expect(authorized(p)).toEqual([]);
    expect(p.blocked.map((b) => `${b.instanceId}:${b.reason}`)).toEqual(['i-1:capacity']);
    expect(p.missing).toEqual([]);
    expect(p.warnings).toEqual(['target "api" has no security groups: its rules cannot be placed']);
  });

  it('blocks for capacity when the groups that exist are full, whatever others are missing', () => {
    const p = plan(input({ targets: [target({ quota: 1 })], members: [member('i-1'), member('i-2')], missing: gone }));
    expect(authorized(p)).toEqual(['i-1@sg-2:54.0.0.1/32']);
    expect(p.blocked.map((b) => `${b.instanceId}:${b.reason}`)).toEqual(['i-2:capacity']);
  });

  it('never revokes or keeps a rule for it: the rules of the groups that exist are judged as ever', () => {
    const observed = [managed('sgr-2', 'i-2', { groupId: 'sg-2' }), managed('sgr-9', 'i-9', { groupId: 'sg-2' })];
    const world = input({ members: [member('i-2')], observed });
    expect(plan({ ...world, missing: gone })).toMatchObject({ revoke: plan(world).revoke, kept: plan(world).kept, authorize: [] });
    expect(revoked(plan({ ...world, missing: gone }))).toEqual(['sgr-9:instance-gone']);
  });

  it('believes the rules over the group listing: a group with rules exists, and is counted as ever', () => {
    const p = plan(input({ targets: [target({ quota: 1, groupIds: ['sg-1'] })], members: [member('i-1')], observed: [foreign('sgr-f', '8.8.8.8/32')], missing: gone }));
    expect(p.missing).toEqual([]);
    expect(p.capacity).toEqual([{ target: 'api', groupId: 'sg-1', family: 'ipv4', quota: 1, before: 1, after: 1, managed: 0, foreign: 1 }]);
    expect(p.blocked.map((b) => `${b.instanceId}:${b.reason}`)).toEqual(['i-1:capacity']);
  });

  it("is no concern of a target in another region: a group id names a group in its own region only", () => {
    const p = plan(input({ members: [member('i-1')], missing: [{ groupId: 'sg-1', region: 'eu-west-1' }] }));
    expect(authorized(p)).toEqual(['i-1@sg-1:54.0.0.1/32']);
    expect(p.missing).toEqual([]);
  });

  it('names it once for each target whose pool lists it', () => {
    const p = plan(input({ targets: [target({ name: 'one' }), target({ name: 'two', groupIds: ['sg-1'] })], missing: gone }));
    expect(p.missing).toEqual([
      { target: 'one', groupId: 'sg-1', region: 'us-east-1' },
      { target: 'two', groupId: 'sg-1', region: 'us-east-1' },
    ]);
  });
});

describe('a pool group AWS refused a rule in as full this pass', () => {
  it("places nothing more in it for that family, whatever its count says: the member goes to the pool's next group", () => {
    const home = spreadStart('i-1', 2);
    const full = [{ groupId: `sg-${home + 1}`, family: 'ipv4' as const }];
    const other = `sg-${2 - home}`;
    expect(authorized(plan(input({ members: [member('i-1')], full })))).toEqual([`i-1@${other}:54.0.0.1/32`]);
    // Full for IPv4 only: its IPv6 room is still used.
    const six = plan(input({ targets: [target({ families: ['ipv6'] })], members: [member('i-1', { ipv6: ['2600:1f18::1'] })], full }));
    expect(authorized(six)).toEqual([`i-1@sg-${home + 1}:2600:1f18::1/128`]);
  });

  it('blocks the member for capacity when every group of the pool was refused as full', () => {
    const full = [{ groupId: 'sg-1', family: 'ipv4' as const }, { groupId: 'sg-2', family: 'ipv4' as const }];
    const p = plan(input({ members: [member('i-1')], full }));
    expect(authorized(p)).toEqual([]);
    expect(p.blocked.map((b) => `${b.instanceId}:${b.reason}`)).toEqual(['i-1:capacity']);
  });
});

describe('planning is idempotent (rule 7)', () => {
  it('finds nothing to do after its own plan is applied', () => {
    const world = input({
      targets: [target({ quota: 2, families: ['ipv4', 'ipv6'] })],
      members: [member('i-1', { ipv6: ['2a05::1'] }), member('i-2', { publicIpv4: '54.9.9.9' }), member('i-3', { state: 'terminated' }), member('i-4')],
      observed: [managed('sgr-2', 'i-2'), managed('sgr-3', 'i-3'), managed('sgr-5', 'i-5', {}, { [TAG.registeredAt]: YOUNG }), foreign('sgr-f', '0.0.0.0/0', { groupId: 'sg-2' })],
    });
    const first = plan(world);
    let n = 0;
    const second = plan({ ...world, observed: applyPlanToObserved(world.observed, first, () => `sgr-new-${++n}`) });
    expect(authorized(first).length + revoked(first).length).toBeGreaterThan(0);
    expect([second.authorize, second.revoke]).toEqual([[], []]);
    expect(second.blocked).toEqual(first.blocked);
  });
});

describe('two targets sharing a group', () => {
  it('counts the other target\'s rule for the same address and port as admitting the member, not as a full pool', () => {
    const both = input({
      targets: [target({ name: 'one', groupIds: ['sg-1'] }), target({ name: 'two', groupIds: ['sg-1'] })],
      members: [member('i-7')],
      observed: [managed('sgr-1', 'i-7', {}, { [TAG.target]: 'one' })],
    });
    const p = plan(both);
    expect([authorized(p), revoked(p), p.blocked.length]).toEqual([[], [], 0]);
  });

  it('counts a rule by hand for the same address and port as admitting the member when no group has room of its own', () => {
    const p = plan(input({ targets: [target({ groupIds: ['sg-1'], quota: 1 })], members: [member('i-7')], observed: [foreign('sgr-f', '54.0.0.7/32')] }));
    expect([authorized(p), p.blocked.length]).toEqual([[], 0]);
  });

  // The applier tags a call's rules with the tags they all share (one TagSpecification per call).
  const world = input({
    targets: [
      target({ name: 'api', groupIds: ['sg-1', 'sg-2'], selector: { regions: ['eu-west-1'] } }),
      target({ name: 'web', groupIds: ['sg-1'], selector: { regions: ['us-west-2'] } }),
    ],
    // Ids as EC2 gives them: a rule made in a call with others names its instance only in its description.
    members: [
      member('i-0000000000000001', { publicIpv4: '54.0.0.1' }),
      member('i-0000000000000002', { region: 'us-west-2', publicIpv4: '54.0.0.2' }),
      member('i-0000000000000003', { region: 'us-west-2', publicIpv4: '54.0.0.3' }),
    ],
    observed: [],
  });

  it('authorizes each target\'s rules in calls of their own, so each call shares its target\'s tag', () => {
    const first = plan(world);
    expect(first.authorize.map((b) => [b.groupId, [...new Set(b.items.map((r) => r.target))]])).toEqual([
      ['sg-1', ['api']],
      ['sg-1', ['web']],
    ]);
  });

  it('recognizes every rule it made on the next pass, and revokes a terminated member\'s', () => {
    let n = 0;
    const observed = applyPlanToObserved([], plan(world), () => `sgr-${++n}`);
    const again = plan({ ...world, observed });
    expect([again.authorize, again.revoke, again.warnings]).toEqual([[], [], []]);
    const gone = plan({ ...world, observed, members: world.members?.map((m) => (m.instanceId === 'i-0000000000000003' ? { ...m, state: 'terminated' as const } : m)) });
    expect(revoked(gone)).toEqual([expect.stringMatching(/:instance-terminated$/)]);
  });
});

describe('planning a fleet, a batch of rules at a time', () => {
  // More members and rules than one batch of the matcher (256), canonical ids and a few of 12 digits
  // (found by text, not by value), each rule naming its member by tag or, as a controller's batch
  // authorize leaves it, by description.
  const id = (n: number) => (n % 97 === 0 ? `i-0000${n.toString(16).padStart(8, '0')}` : `i-0${((n * 2654435761) >>> 0).toString(16).padStart(8, '0')}${n.toString(16).padStart(8, '0')}`);
  const address = (n: number, moved = false) => `${moved ? 18 : 54}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  const fleet = Array.from({ length: 1500 }, (_, n) => member(id(n), { publicIpv4: address(n) }));

  it('finds every rule its own plan made, and exactly the rules of members that changed', () => {
    const world = input({ targets: [target({ groupIds: ['sg-1', 'sg-2', 'sg-3'], quota: 1000 })], members: fleet });
    const first = plan(world);
    expect(authorized(first)).toHaveLength(1500);
    let n = 0;
    // Registered an hour ago; a tenth tagged in full, the rest known by description only.
    const observed = applyPlanToObserved([], first, () => `sgr-${++n}`).map((rule, i) => {
      const shared = { [TAG.managedBy]: 'prod', [TAG.target]: 'api', [TAG.registeredAt]: OLD };
      return { ...rule, tags: i % 10 === 0 ? { ...rule.tags, ...shared } : shared };
    });
    expect(plan({ ...world, observed })).toMatchObject({ authorize: [], revoke: [], kept: [] });

    const moved = new Set([3, 97, 700, 1499]);
    const gone = new Set([5, 194, 1000]);
    const changed = fleet.flatMap((m, k) => (gone.has(k) ? [] : [moved.has(k) ? { ...m, publicIpv4: address(k, true) } : m]));
    const next = plan({ ...world, observed, members: changed });
    expect(next.authorize.flatMap((b) => b.items.map((r) => r.instanceId)).sort()).toEqual([...moved].map(id).sort());
    expect(next.revoke.flatMap((b) => b.items.map((r) => `${r.instanceId}:${r.reason}`)).sort()).toEqual(
      [...[...moved].map((k) => `${id(k)}:address-changed`), ...[...gone].map((k) => `${id(k)}:instance-gone`)].sort(),
    );
  });
});

describe('the planner never throws on odd input', () => {
  it.each<[string, Partial<PlanInput>, string]>([
    ['a target defined twice', { targets: [target(), target({ region: 'us-west-2' })] }, 'target "api" is defined twice; the second definition is ignored'],
    ['an instance listed twice', { members: [member('i-1'), member('i-1', { publicIpv4: '54.2.2.2' })] }, 'instance i-1 is listed twice; the first entry is used'],
    ['a rule observed twice', { observed: [foreign('sgr-1', '8.8.8.8/32'), foreign('sgr-1', '8.8.8.8/32')] }, 'rule sgr-1 was observed twice; the first copy is used'],
    ['rules of a group in no target', { observed: [foreign('sgr-1', '8.8.8.8/32', { groupId: 'sg-x' })] }, "1 rule(s) in sg-x, which is in no target's pool, were ignored"],
    ['an empty pool', { targets: [target({ groupIds: [] })], members: [member('i-1')] }, 'target "api" has no security groups: its rules cannot be placed'],
    ['a garbled pass time', { now: 'soon' }, 'the pass time "soon" is not a time: every rule whose instance is not visible is kept'],
    ['a managed rule that names no instance', { observed: [managed('sgr-1', 'i-1', {}, { [TAG.instance]: undefined as unknown as string })] }, 'rule sgr-1 in sg-1 names no instance (no sgsync:instance tag, no sgsync description); it is left alone'],
    ['a group shared by targets in two regions', { targets: [target(), target({ name: 'web', region: 'us-west-2' })] }, 'sg-1 is in the pools of "api" (us-east-1) and "web" (us-west-2); a group lives in one region'],
  ])('reports %s as a warning', (_case, world, warning) => {
    const p = plan(input(world));
    expect(p.warnings).toContain(warning);
  });

  it('uses the first entry of an instance listed twice', () => {
    const p = plan(input({ members: [member('i-1'), member('i-1', { publicIpv4: '54.2.2.2' })] }));
    expect(authorized(p)).toEqual(['i-1@sg-1:54.0.0.1/32']);
  });

  it('uses the first copy of a rule observed twice, wherever the second claims to be', () => {
    // sg-1 is full with sgr-1; a second "sgr-1" in sg-2 would hold i-7's rule there, were it believed.
    const p = plan(
      input({
        targets: [target({ quota: 1 })],
        members: [member('i-7')],
        observed: [foreign('sgr-1', '8.8.8.8/32'), foreign('sgr-1', '54.0.0.7/32', { groupId: 'sg-2' }), foreign('sgr-9', '54.0.0.7/32', { groupId: 'sg-x' })],
      }),
    );
    expect(authorized(p)).toEqual(['i-7@sg-2:54.0.0.7/32']);
    expect(p.blocked).toEqual([]);
    expect(p.capacity.map((c) => `${c.groupId}:${c.before}->${c.after}`)).toEqual(['sg-1:1->1', 'sg-2:0->1']);
    expect(p.foreign.map((f) => `${f.ruleId}@${f.groupId}`)).toEqual(['sgr-1@sg-1']);
    expect(p.warnings).toEqual(["1 rule(s) in sg-x, which is in no target's pool, were ignored", 'rule sgr-1 was observed twice; the first copy is used']);
  });

  it('treats missing lists and a missing scope as empty and "all"', () => {
    const p = plan({ deployment: 'prod', now: NOW } as unknown as PlanInput);
    expect(p).toMatchObject({ scope: { kind: 'all' }, authorize: [], revoke: [], capacity: [], warnings: [] });
  });

  it('keeps unseen instances\' rules when the pass time is garbled', () => {
    const undated = managed('sgr-2', 'i-8');
    delete undated.tags[TAG.registeredAt];
    const p = plan(input({ now: 'soon', observed: [managed('sgr-1', 'i-7'), undated] }));
    expect(kept(p)).toEqual(['sgr-1:grace', 'sgr-2:grace']);
  });
});

describe('ICMP and ICMPv6 on a target of both families', () => {
  const icmp = { protocol: 'icmp' as const, fromPort: -1, toPort: -1 };
  const icmpv6 = { protocol: 'icmpv6' as const, fromPort: -1, toPort: -1 };
  const tcp = { protocol: 'tcp' as const, fromPort: 443, toPort: 443 };
  const dual = target({ families: ['ipv4', 'ipv6'], ports: [icmp, icmpv6, tcp] });
  const m = member('i-7', { ipv6: ['2600:1f18::7'] });
  const rules = (p: Plan) => p.authorize.flatMap((b) => b.items.map((r) => `${r.port.protocol} ${r.cidr}`)).sort();

  it('writes ICMP for the IPv4 address and ICMPv6 for the IPv6 one only: the other pairings match no traffic and cost quota', () => {
    expect(rules(plan(input({ targets: [dual], members: [m] })))).toEqual(['icmp 54.0.0.7/32', 'icmpv6 2600:1f18::7/128', 'tcp 2600:1f18::7/128', 'tcp 54.0.0.7/32']);
  });

  it('revokes such a pairing found in a group, and plans nothing more once the rest are there', () => {
    const have = [
      managed('sgr-1', 'i-7', { protocol: 'icmp', fromPort: -1, toPort: -1 }),
      managed('sgr-2', 'i-7', { protocol: 'icmpv6', fromPort: -1, toPort: -1 }),
      managed('sgr-3', 'i-7'),
      managed('sgr-4', 'i-7', { family: 'ipv6', protocol: 'icmpv6', fromPort: -1, toPort: -1, cidr: '2600:1f18::7/128' }),
      managed('sgr-5', 'i-7', { family: 'ipv6', cidr: '2600:1f18::7/128' }),
      managed('sgr-6', 'i-7', { family: 'ipv6', protocol: 'icmp', fromPort: -1, toPort: -1, cidr: '2600:1f18::7/128' }),
    ];
    const p = plan(input({ targets: [dual], members: [m], observed: have }));
    expect(revoked(p)).toEqual(['sgr-2:port-removed', 'sgr-6:port-removed']);
    expect(p.authorize).toEqual([]);
    expect(p.blocked).toEqual([]);
  });
});

describe('a member with several IPv6 addresses', () => {
  const v6 = target({ families: ['ipv6'] });
  const m = member('i-7', { ipv6: ['2600:1f18::a', '2600:1f18::b', '2600:1f18::c'] });
  const rule = (ruleId: string, cidr: string, over: Partial<ObservedRule> = {}) => managed(ruleId, 'i-7', { family: 'ipv6', cidr, ...over });
  const scopes: [string, PlanInput['scope']][] = [
    ['a controller pass', { kind: 'all' }],
    ["the instance's own agent pass", { kind: 'instance', instanceId: 'i-7' }],
  ];

  it.each(scopes)('admits the first; in %s, a rule for any other it holds is its rule: kept, and nothing added beside it', (_what, scope) => {
    expect(authorized(plan(input({ targets: [v6], members: [m], scope })))).toEqual(['i-7@sg-1:2600:1f18::a/128']);
    for (const cidr of ['2600:1f18::b/128', '2600:1f18:0:0::c/128']) {
      const p = plan(input({ targets: [v6], members: [m], scope, observed: [rule('sgr-1', cidr)] }));
      expect(revoked(p)).toEqual([]);
      expect(p.authorize).toEqual([]);
      expect(p.kept).toEqual([]);
    }
  });

  it.each(scopes)('in %s, keeps one of two rules for its addresses on one port, and revokes a rule for an address it no longer holds', (_what, scope) => {
    const p = plan(input({ targets: [v6], members: [m], scope, observed: [rule('sgr-1', '2600:1f18::c/128'), rule('sgr-2', '2600:1f18::b/128'), rule('sgr-3', '2600:1f18::d/128', { protocol: 'udp' }), rule('sgr-4', '2600:1f18::d/128', { groupId: 'sg-2' })] }));
    expect(revoked(p)).toEqual(['sgr-2:duplicate', 'sgr-3:port-removed', 'sgr-4:address-changed']);
    expect(p.authorize).toEqual([]);
  });

  it('finds a rule for any address it holds on a target of both families, on a later target, and for a later member alike', () => {
    const dual = target({ name: 'dual', families: ['ipv4', 'ipv6'], groupIds: ['sg-3'] });
    const members = [member('i-1'), m];
    const observed = [managed('sgr-4', 'i-7', { groupId: 'sg-3', cidr: '54.0.0.4/32' }, { [TAG.target]: 'dual' }), managed('sgr-6', 'i-7', { groupId: 'sg-3', family: 'ipv6', cidr: '2600:1f18::c/128' }, { [TAG.target]: 'dual' })];
    const p = plan(input({ targets: [target({ families: ['ipv6'], groupIds: ['sg-1'] }), dual], members: [members[0]!, { ...m, publicIpv4: '54.0.0.4' }], observed }));
    expect([revoked(p), kept(p)]).toEqual([[], []]);
    // i-1 has no IPv6 address; i-7 gets its IPv6 rule on the first target, and nothing more on the second.
    expect(authorized(p)).toEqual(['i-7@sg-1:2600:1f18::a/128', 'i-1@sg-3:54.0.0.1/32']);
  });

  it.each([
    ['in pool order first', ['sgr-2', 'sgr-1'], 'sgr-2', 'sg-1', 'sg-2'],
    ['in pool order first, read the other way round', ['sgr-1', 'sgr-2'], 'sgr-2', 'sg-1', 'sg-2'],
    ['by rule id in one group, whatever order the rules are read in', ['sgr-2', 'sgr-1'], 'sgr-1', 'sg-1', 'sg-1'],
    ['by rule id in one group, read the other way round', ['sgr-1', 'sgr-2'], 'sgr-1', 'sg-1', 'sg-1'],
  ])('keeps the same one of two rules for its addresses on one port %s, so two racing passes never revoke both', (_what, order, keep, groupOfSgr2, groupOfSgr1) => {
    const rules: Record<string, ObservedRule> = { 'sgr-2': rule('sgr-2', '2600:1f18::b/128', { groupId: groupOfSgr2 }), 'sgr-1': rule('sgr-1', '2600:1f18::c/128', { groupId: groupOfSgr1 }) };
    const p = plan(input({ targets: [v6], members: [m], observed: order.map((id) => rules[id]!) }));
    expect(revoked(p)).toEqual([`${keep === 'sgr-1' ? 'sgr-2' : 'sgr-1'}:duplicate`]);
  });

  it('holds only the addresses the target admits: a ULA is no address of a public target', () => {
    const withUla = member('i-7', { ipv6: ['2600:1f18::a', 'fd00::a'] });
    const p = plan(input({ targets: [v6], members: [withUla], observed: [rule('sgr-1', 'fd00::a/128')] }));
    expect(revoked(p)).toEqual(['sgr-1:address-changed']);
    expect(authorized(p)).toEqual(['i-7@sg-1:2600:1f18::a/128']);
    expect(revoked(plan(input({ targets: [target({ families: ['ipv6'], address: 'private' })], members: [withUla], observed: [rule('sgr-1', 'fd00::a/128')] })))).toEqual([]);
  });

  it('knows its rule by the address, however spelled, and never by an address whose text merely begins with its own', () => {
    const one = member('i-7', { ipv6: ['2600:1f18::7'] });
    const judged = (cidr: string) => {
      const p = plan(input({ targets: [v6], members: [one], observed: [rule('sgr-1', cidr)] }));
      return [...authorized(p), ...revoked(p)];
    };
    expect(judged('2600:1F18:0:0::7/128')).toEqual([]);
    for (const other of ['2600:1f18::77/128', '2600:1F18::8/128']) expect(judged(other)).toEqual(['i-7@sg-1:2600:1f18::7/128', 'sgr-1:address-changed']);
  });

  it('leaves the rule a pending member holds for any of its addresses', () => {
    const p = plan(input({ targets: [v6], members: [{ ...m, state: 'pending' }], observed: [rule('sgr-1', '2600:1f18::c/128'), rule('sgr-2', '2600:1f18::d/128', { groupId: 'sg-2' })] }));
    expect(revoked(p)).toEqual(['sgr-2:address-changed']);
  });
});

describe('retired groups', () => {
  // The pool is sg-1; sg-9 was the pool's second group until it was retired.
  const pool = target({ groupIds: ['sg-1'], retiredGroupIds: ['sg-9'], quota: 3 });
  const inRetired = (ruleId: string, id: string, over: Partial<ObservedRule> = {}, tags: Record<string, string> = {}) => managed(ruleId, id, { groupId: 'sg-9', ...over }, tags);
  const world = (over: Partial<PlanInput> = {}) => input({ targets: [pool], ...over });

  it("adds a member's rule to the pool and revokes the one in the retired group, the new one first where the group has room", () => {
    const p = plan(world({ members: [member('i-1')], observed: [inRetired('sgr-1', 'i-1')] }));
    expect(authorized(p)).toEqual(['i-1@sg-1:54.0.0.1/32']);
    expect(revoked(p)).toEqual(['sgr-1:group-retired']);
    // sg-1 has room for the new rule as it is, so the applier authorizes it before any revoke (see authorizeOrder).
    expect(authorizeOrder(p).early.map((b) => b.groupId)).toEqual(['sg-1']);
    expect(p.retired).toEqual([{ target: 'api', groupId: 'sg-9', region: 'us-east-1', rules: 1, left: 0 }]);
  });

  it('revokes it at once when the member holds its rule in the pool already', () => {
    const p = plan(world({ members: [member('i-1')], observed: [managed('sgr-1', 'i-1'), inRetired('sgr-9', 'i-1')] }));
    expect([authorized(p), revoked(p)]).toEqual([[], ['sgr-9:group-retired']]);
  });

  it('keeps it while the pool has no room for the member, which is blocked, and gives its room to nobody', () => {
    const full = [foreign('sgr-f1', '8.8.8.1/32'), foreign('sgr-f2', '8.8.8.2/32'), foreign('sgr-f3', '8.8.8.3/32')];
    const p = plan(world({ members: [member('i-1')], observed: [...full, inRetired('sgr-1', 'i-1')] }));
    expect([authorized(p), revoked(p)]).toEqual([[], []]);
    expect(kept(p)).toEqual(['sgr-1:replacement-blocked']);
    expect(p.kept[0]?.detail).toMatch(/being replaced \(group-retired\), but instance i-1's new rule found no room/);
    expect(p.blocked.map((b) => `${b.instanceId}:${b.reason}`)).toEqual(['i-1:capacity']);
    expect(p.retired).toEqual([{ target: 'api', groupId: 'sg-9', region: 'us-east-1', rules: 1, left: 1 }]);
  });

  it("places nothing in a retired group, and does not count its room as the pool's", () => {
    const p = plan(world({ members: [member('i-1'), member('i-2'), member('i-3'), member('i-4')] }));
    expect(authorized(p).map((a) => a.split(':')[0])).toEqual(['i-1@sg-1', 'i-2@sg-1', 'i-3@sg-1']);
    expect(p.blocked.map((b) => b.instanceId)).toEqual(['i-4']);
    expect(p.capacity.map((c) => c.groupId)).toEqual(['sg-1']);
  });

  it.each<[string, Partial<Member> | undefined, string]>([
    ['terminated', { state: 'terminated' }, 'instance-terminated'],
    ['stopped', { state: 'stopped' }, 'instance-stopped'],
    ['no longer selected', { tags: {} }, 'not-selected'],
    ['re-addressed', { publicIpv4: '54.9.9.9' }, 'address-changed'],
    ['gone', undefined, 'instance-gone'],
  ])('revokes the rule of a member that is %s for that reason, and adds nothing for the old address', (_case, over, reason) => {
    const selective = { ...pool, selector: { tags: { role: ['worker'] } } };
    const members = over === undefined ? [] : [member('i-1', { tags: { role: 'worker' }, ...over })];
    const p = plan(world({ targets: [selective], members, observed: [inRetired('sgr-1', 'i-1')] }));
    expect(revoked(p)).toEqual([`sgr-1:${reason}`]);
    expect(authorized(p).filter((a) => a.endsWith(':54.0.0.1/32'))).toEqual([]);
  });

  it('keeps the young rule of an unseen instance, and the rule of one whose region was not listed (rules 2, 3)', () => {
    const p = plan(world({
      observed: [inRetired('sgr-1', 'i-1', {}, { [TAG.registeredAt]: YOUNG }), inRetired('sgr-2', 'i-2', {}, { [TAG.region]: 'sa-east-1' })],
    }));
    expect(revoked(p)).toEqual([]);
    expect(kept(p)).toEqual(['sgr-1:grace', 'sgr-2:region-unavailable']);
  });

  it("moves a member's rule for any IPv6 address it holds: the pool gets the one it admits, and the old one goes", () => {
    const v6 = { ...pool, families: ['ipv6' as const] };
    const m = member('i-7', { ipv6: ['2600:1f18::a', '2600:1f18::b'] });
    const p = plan(world({ targets: [v6], members: [m], observed: [inRetired('sgr-1', 'i-7', { family: 'ipv6', cidr: '2600:1f18::b/128' })] }));
    expect(authorized(p)).toEqual(['i-7@sg-1:2600:1f18::a/128']);
    expect(revoked(p)).toEqual(['sgr-1:group-retired']);
  });

  it('leaves the rule of a pending member alone: it is admitted anew once it runs', () => {
    const p = plan(world({ members: [member('i-1', { state: 'pending' })], observed: [inRetired('sgr-1', 'i-1')] }));
    expect([authorized(p), revoked(p), kept(p)]).toEqual([[], [], []]);
  });

  it('never touches a foreign rule there, and reports it under the target as any foreign rule (rule 1)', () => {
    const p = plan(world({ members: [member('i-1')], observed: [foreign('sgr-f', '0.0.0.0/0', { groupId: 'sg-9' }), inRetired('sgr-1', 'i-1')] }));
    expect(revoked(p)).toEqual(['sgr-1:group-retired']);
    expect(p.foreign.map((f) => `${f.ruleId}:${f.target}:${f.dangerous}`)).toEqual(['sgr-f:api:true']);
  });

  describe('a drain the blast radius stops (rule 4)', () => {
    const members = ['i-1', 'i-2', 'i-3', 'i-4'].map((id) => member(id));
    const drain = (force: boolean) =>
      world({
        targets: [{ ...pool, quota: 60 }],
        members,
        observed: members.map((m, n) => inRetired(`sgr-${n + 1}`, m.instanceId)),
        safety: { graceSeconds: 300, revokeLimit: { count: 2 }, force },
      });

    it('revokes nothing, and holds the members back whole: they keep their old rules and get no new ones', () => {
      const p = plan(drain(false));
      expect(p.halted).toMatchObject({ wouldRevoke: 4, limit: 2 });
      expect(revoked(p)).toEqual([]);
      expect(p.kept.map((k) => `${k.ruleId}:${k.reason}:${k.wouldRevoke}`)).toEqual(['sgr-1', 'sgr-2', 'sgr-3', 'sgr-4'].map((r) => `${r}:blast-radius:group-retired`));
      expect(p.blocked.map((b) => `${b.instanceId}:${b.reason}`)).toEqual(['i-1:halted', 'i-2:halted', 'i-3:halted', 'i-4:halted']);
      expect(p.retired?.[0]).toMatchObject({ rules: 4, left: 4 });
    });

    it('goes through when forced', () => {
      const p = plan(drain(true));
      expect(revoked(p)).toHaveLength(4);
      expect(authorized(p)).toHaveLength(4);
    });
  });

  it('has nothing left to do once its plan is applied (rule 7), and says the group is empty', () => {
    const w = world({
      targets: [{ ...pool, quota: 2 }],
      members: [member('i-1'), member('i-2'), member('i-3'), member('i-4', { state: 'terminated' })],
      observed: [inRetired('sgr-1', 'i-1'), inRetired('sgr-2', 'i-2'), inRetired('sgr-3', 'i-3'), inRetired('sgr-4', 'i-4'), managed('sgr-5', 'i-5')],
    });
    const first = plan(w);
    expect(revoked(first).sort()).toEqual(['sgr-1:group-retired', 'sgr-2:group-retired', 'sgr-4:instance-terminated', 'sgr-5:instance-gone']);
    expect(kept(first)).toEqual(['sgr-3:replacement-blocked']);
    let n = 0;
    const second = plan({ ...w, observed: applyPlanToObserved(w.observed, first, () => `sgr-new-${++n}`) });
    expect([second.authorize, second.revoke]).toEqual([[], []]);
    expect(second.blocked).toEqual(first.blocked);
    expect(second.retired).toEqual([{ target: 'api', groupId: 'sg-9', region: 'us-east-1', rules: 1, left: 1 }]);
    // The blocked member's rule is the last: the pool grows, and the next pass drains the group.
    const grown = plan({ ...w, targets: [{ ...pool, groupIds: ['sg-1', 'sg-2'] }], observed: applyPlanToObserved(w.observed, first, () => `sgr-new-${++n}`) });
    expect(revoked(grown)).toEqual(['sgr-3:group-retired']);
    expect(grown.retired?.[0]).toMatchObject({ rules: 1, left: 0 });
  });

  it('still ignores the rules of a group that is in no pool and retired by no target', () => {
    const p = plan(world({ members: [member('i-1')], observed: [managed('sgr-1', 'i-1'), inRetired('sgr-2', 'i-2', { groupId: 'sg-x' })] }));
    expect([authorized(p), revoked(p), kept(p)]).toEqual([[], [], []]);
    expect(p.warnings).toEqual(["1 rule(s) in sg-x, which is in no target's pool, were ignored"]);
  });

  it("counts in a retired group's line the rules of a target the configuration no longer has: the group is not empty while they are there", () => {
    const leftover = inRetired('sgr-7', 'i-7', {}, { [TAG.target]: 'old' });
    const p = plan(world({ members: [member('i-7')], observed: [leftover] }));
    expect(revoked(p)).toEqual(['sgr-7:target-removed']);
    expect(p.retired).toEqual([{ target: 'api', groupId: 'sg-9', region: 'us-east-1', rules: 1, left: 0 }]);
    // Young, it is kept: the group still holds it after the pass.
    const young = plan(world({ members: [member('i-7')], observed: [inRetired('sgr-7', 'i-7', {}, { [TAG.target]: 'old', [TAG.registeredAt]: new Date(Date.parse(NOW) - 1000).toISOString() })] }));
    expect(kept(young)).toEqual(['sgr-7:grace']);
    expect(young.retired).toEqual([{ target: 'api', groupId: 'sg-9', region: 'us-east-1', rules: 1, left: 1 }]);
  });

  it('says a retired group is empty, and that one EC2 does not know is done', () => {
    const p = plan(world({ targets: [{ ...pool, retiredGroupIds: ['sg-9', 'sg-8'] }], missing: [{ groupId: 'sg-8', region: 'us-east-1' }] }));
    expect(p.retired).toEqual([
      { target: 'api', groupId: 'sg-9', region: 'us-east-1', rules: 0, left: 0 },
      { target: 'api', groupId: 'sg-8', region: 'us-east-1', rules: 0, left: 0, missing: true },
    ]);
    expect(p.missing).toEqual([]);
    expect(plan(input()).retired).toBeUndefined();
  });

  it('counts each retired group apart, and believes the rules read there over a listing that says the group does not exist', () => {
    const young = { [TAG.registeredAt]: YOUNG };
    const observed = [inRetired('sgr-1', 'i-1', { groupId: 'sg-8' }, young), inRetired('sgr-2', 'i-2', {}, young), inRetired('sgr-3', 'i-3', {}, young)];
    const p = plan(world({ targets: [{ ...pool, retiredGroupIds: ['sg-9', 'sg-8'] }], observed, missing: [{ groupId: 'sg-8', region: 'us-east-1' }] }));
    expect(kept(p)).toEqual(['sgr-1:grace', 'sgr-2:grace', 'sgr-3:grace']);
    expect(p.retired).toEqual([
      { target: 'api', groupId: 'sg-9', region: 'us-east-1', rules: 2, left: 2 },
      { target: 'api', groupId: 'sg-8', region: 'us-east-1', rules: 1, left: 1 },
    ]);
  });

  describe("a group one target retired and another's pool holds", () => {
    // web took sg-9 over from api's pool: the sgsync:target tag says whose each rule is.
    const web = target({ name: 'web', groupIds: ['sg-9'], quota: 3 });
    const shared = (observed: ObservedRule[]) => world({ targets: [pool, web], members: [member('i-1'), member('i-2')], observed });

    it("drains api's rules there and keeps web's, and web places its members there as in any pool", () => {
      const p = plan(shared([inRetired('sgr-1', 'i-1'), inRetired('sgr-2', 'i-2', {}, { [TAG.target]: 'web' })]));
      expect(revoked(p)).toEqual(['sgr-1:group-retired']);
      expect(authorized(p)).toEqual(['i-1@sg-1:54.0.0.1/32', 'i-2@sg-1:54.0.0.2/32', 'i-1@sg-9:54.0.0.1/32']);
      expect(p.retired).toEqual([{ target: 'api', groupId: 'sg-9', region: 'us-east-1', rules: 1, left: 0 }]);
    });

    it("reports a foreign rule there under web, whose pool it is, and counts it against web's room", () => {
      const p = plan(shared([foreign('sgr-f', '8.8.8.8/32', { groupId: 'sg-9' })]));
      expect(p.foreign.map((f) => f.target)).toEqual(['web']);
      expect(p.capacity.find((c) => c.target === 'web')).toMatchObject({ groupId: 'sg-9', before: 1, after: 3 });
    });
  });

  describe("an instance's own pass (the agent)", () => {
    const others = [inRetired('sgr-1', 'i-1'), inRetired('sgr-2', 'i-2')];

    it('places its rule in the pool, never in the retired group, and revokes its own rule there only', () => {
      const p = plan(world({ members: [member('i-1')], observed: others, scope: { kind: 'instance', instanceId: 'i-1' } }));
      expect(authorized(p)).toEqual(['i-1@sg-1:54.0.0.1/32']);
      expect(revoked(p)).toEqual(['sgr-1:group-retired']);
    });

    it('revokes its own rule there on deregistration', () => {
      const p = plan(world({ members: [member('i-1')], observed: [...others, managed('sgr-3', 'i-1')], scope: { kind: 'instance', instanceId: 'i-1', deregister: true } }));
      expect(revoked(p).sort()).toEqual(['sgr-1:deregistered', 'sgr-3:deregistered']);
    });
  });
});
