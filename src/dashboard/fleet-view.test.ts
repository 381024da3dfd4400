import { describe, expect, it } from 'vitest';
import type { Member, ObservedRule, Target } from '../core/model.js';
import { TAG } from '../core/ownership.js';
import { plan } from '../core/planner.js';
import { countByRegion, filterRows, sortRows } from './fleet-filter.js';
import { buildFleetView, worstStatus, type FleetView } from './fleet-view.js';
import { FleetSection } from './pages/fleet.js';

const OLD = '2025-06-01T11:00:00.000Z';

// Pool of one group with room for three rules; workers only.
const api: Target = {
  name: 'api', region: 'us-east-1', groupIds: ['sg-1'], ports: [{ protocol: 'tcp', fromPort: 443, toPort: 443 }],
  families: ['ipv4'], address: 'public', quota: 3, selector: { tags: { role: ['worker'] } },
};

function member(id: string, over: Partial<Member> = {}): Member {
  return { instanceId: id, region: 'eu-west-1', state: 'running', publicIpv4: `54.0.0.${id.slice(2)}`, privateIpv4: `10.0.0.${id.slice(2)}`, ipv6: [], tags: { role: 'worker', Name: `w-${id}` }, ...over };
}

function rule(ruleId: string, id: string, cidr = `54.0.0.${id.slice(2)}/32`): ObservedRule {
  return {
    ruleId, groupId: 'sg-1', family: 'ipv4', protocol: 'tcp', fromPort: 443, toPort: 443, cidr,
    tags: { [TAG.managedBy]: 'prod', [TAG.target]: 'api', [TAG.instance]: id, [TAG.region]: 'eu-west-1', [TAG.registeredAt]: OLD },
  };
}

function view(members: Member[], observed: ObservedRule[], revokeLimit: { count?: number } = {}): FleetView {
  const p = plan({
    deployment: 'prod', targets: [api], members, observed, scope: { kind: 'all' }, now: '2025-06-01T12:00:00.000Z',
    regionInventory: { 'eu-west-1': { status: 'complete' } }, safety: { graceSeconds: 300, revokeLimit, force: false },
  });
  return buildFleetView({
    deployment: 'prod', targets: [api], members, observed, plan: p,
    regions: [{ region: 'eu-west-1', status: 'complete', instances: members.length, ms: 1 }, { region: 'sa-east-1', status: 'failed', instances: 0, reason: 'AccessDenied', ms: 1 }],
  });
}

// i-1 admitted; i-2 has a rule for an old address; i-3 has no rule and fits; i-4 has none and does not fit
// (once the two stale rules go, i-1 keeps its place and i-2's new address and i-3 take the other two);
// i-5 is stopped with a rule left;
// i-6 is stopped with none; i-7 is not a worker; i-8 runs without a public address.
const members = [
  member('i-1'),
  member('i-2'),
  member('i-3'),
  member('i-4'),
  member('i-5', { state: 'stopped', publicIpv4: undefined }),
  member('i-6', { state: 'stopped', publicIpv4: undefined }),
  member('i-7', { tags: { role: 'db', Name: 'w-i-7' } }),
  member('i-8', { publicIpv4: undefined }),
];
const observed = [rule('sgr-1', 'i-1'), rule('sgr-2', 'i-2', '54.9.9.9/32'), rule('sgr-5', 'i-5', '54.0.0.55/32')];

describe('the fleet view', () => {
  const v = view(members, observed);
  const status = (id: string) => v.rows.find((r) => r.instanceId === id)?.standing.api?.status;

  it.each([
    ['i-1', 'admitted', 'its rule is in place'],
    ['i-2', 'missing', 'a stop/start gave it a new address, which a pass would add'],
    ['i-3', 'missing', 'it fits and a pass would add it'],
    ['i-4', 'blocked', 'the pool is full'],
    ['i-5', 'stale', 'it is stopped but its rule remains'],
    ['i-6', 'idle', 'it is stopped and holds no rule'],
    ['i-7', 'not-member', 'the selector does not pick it'],
    ['i-8', 'refused', 'it has no public address'],
  ])('shows %s as %s because %s', (id, expected) => {
    expect(status(id)).toBe(expected);
  });

  it('explains a stale rule with the reason a pass would revoke it', () => {
    expect(v.rows.find((r) => r.instanceId === 'i-2')?.standing.api?.detail).toContain('address-changed');
    expect(v.rows.find((r) => r.instanceId === 'i-5')?.standing.api?.stale).toBeUndefined();
    expect(v.rows.find((r) => r.instanceId === 'i-5')?.standing.api?.detail).toContain('instance-stopped');
  });

  it('shows the rules the blast-radius limit holds back as stale, with the reason, not as admitted', () => {
    const held = view(members, observed, { count: 1 });
    expect(held.plan.halted).toBeDefined();
    const standing = (id: string) => held.rows.find((r) => r.instanceId === id)?.standing.api;
    // i-2's new address finds no room while its old rule is held back: it is blocked, and holds a rule that should go.
    expect(standing('i-2')).toMatchObject({ status: 'blocked', stale: true });
    expect(standing('i-5')?.status).toBe('stale');
    for (const id of ['i-2', 'i-5']) expect(standing(id)?.detail).toMatch(/blast-radius: the pass would revoke 2 of 3 managed rules; the limit is 1/);
    expect(standing('i-1')?.status).toBe('admitted');
    expect(filterRows(held.rows, { status: 'stale' }).map((r) => r.instanceId)).toEqual(['i-2', 'i-5']);
  });

  it("shows a member whose new rule finds no room as blocked, with the old rule that admits it meanwhile", () => {
    const wider: Target = { ...api, groupIds: ['sg-1'], quota: 1, ports: [{ protocol: 'tcp', fromPort: 443, toPort: 444 }] };
    const ws = [member('i-1')];
    const seen = [rule('sgr-1', 'i-1', '54.0.0.1/32'), { ...rule('sgr-f', 'i-9', '203.0.113.0/24'), tags: {} }];
    const p = plan({
      deployment: 'prod', targets: [wider], members: ws, observed: seen, scope: { kind: 'all' }, now: '2025-06-01T12:00:00.000Z',
      regionInventory: { 'eu-west-1': { status: 'complete' } }, safety: { graceSeconds: 300, revokeLimit: {}, force: false },
    });
    expect(p.kept.map((k) => k.reason)).toEqual(['replacement-blocked']);
    const standing = buildFleetView({ deployment: 'prod', targets: [wider], members: ws, observed: seen, plan: p, regions: [] }).rows[0]?.standing.api;
    expect(standing).toEqual({ status: 'blocked', detail: '54.0.0.1/32 443-444/tcp: no room in the pool; 54.0.0.1/32 443/tcp: sgr-1 in sg-1 admits it meanwhile' });
  });

  it("shows a member admitted by its rule under a renamed target's old name, kept until the new name's has room, as admitted by it", () => {
    const full: Target = { ...api, groupIds: ['sg-1'], quota: 1 };
    const ws = [member('i-1')];
    const seen = [{ ...rule('sgr-1', 'i-1', '54.0.0.1/32'), tags: { ...rule('sgr-1', 'i-1', '54.0.0.1/32').tags, [TAG.target]: 'old-api' } }, { ...rule('sgr-f', 'i-9', '203.0.113.0/24'), tags: {} }];
    const p = plan({
      deployment: 'prod', targets: [full], members: ws, observed: seen, scope: { kind: 'all' }, now: '2025-06-01T12:00:00.000Z',
      regionInventory: { 'eu-west-1': { status: 'complete' } }, safety: { graceSeconds: 300, revokeLimit: {}, force: false },
    });
    const standing = buildFleetView({ deployment: 'prod', targets: [full], members: ws, observed: seen, plan: p, regions: [] }).rows[0]?.standing.api;
    expect(standing).toEqual({ status: 'admitted', detail: '54.0.0.1/32 443/tcp: sgr-1 in sg-1 admits it meanwhile' });
  });

  it('names the port of each rule it explains, so a target with two ports lists two different rules', () => {
    const twoPorts: Target = { ...api, quota: 60, ports: [{ protocol: 'tcp', fromPort: 443, toPort: 443 }, { protocol: 'tcp', fromPort: 8000, toPort: 8100 }] };
    const rule2 = (ruleId: string, id: string, port: number, cidr: string) => ({ ...rule(ruleId, id, cidr), fromPort: port, toPort: port === 8000 ? 8100 : port });
    const ws = [member('i-1'), member('i-5', { state: 'stopped', publicIpv4: undefined })];
    const seen = [rule2('sgr-5a', 'i-5', 443, '54.0.0.55/32'), rule2('sgr-5b', 'i-5', 8000, '54.0.0.55/32')];
    const p = plan({
      deployment: 'prod', targets: [twoPorts], members: ws, observed: seen, scope: { kind: 'all' }, now: '2025-06-01T12:00:00.000Z',
      regionInventory: { 'eu-west-1': { status: 'complete' } }, safety: { graceSeconds: 300, revokeLimit: {}, force: false },
    });
    const v2 = buildFleetView({ deployment: 'prod', targets: [twoPorts], members: ws, observed: seen, plan: p, regions: [] });
    const detail = (id: string) => v2.rows.find((r) => r.instanceId === id)?.standing.api?.detail;
    expect(detail('i-1')).toBe('a pass would add 54.0.0.1/32 443/tcp → sg-1; 54.0.0.1/32 8000-8100/tcp → sg-1');
    expect(detail('i-5')).toBe('a pass would revoke 54.0.0.55/32 443/tcp: instance-stopped; 54.0.0.55/32 8000-8100/tcp: instance-stopped');
  });

  it('shows a member with a new address as missing its rule, naming the old one that should go, and finds it with either filter', () => {
    const i2 = v.rows.find((r) => r.instanceId === 'i-2')?.standing.api;
    expect(i2).toEqual({
      status: 'missing',
      stale: true,
      detail: 'a pass would add 54.0.0.2/32 443/tcp → sg-1; it also holds a rule that should go: a pass would revoke 54.9.9.9/32 443/tcp: address-changed',
    });
    expect(filterRows(v.rows, { target: 'api', status: 'missing' }).map((r) => r.instanceId)).toEqual(['i-2', 'i-3']);
    expect(filterRows(v.rows, { status: 'stale' }).map((r) => r.instanceId)).toEqual(['i-2', 'i-5']);
  });

  it('lists the targets that pick each instance, stopped ones included', () => {
    expect(v.rows.filter((r) => r.targets.includes('api')).map((r) => r.instanceId)).toEqual(['i-1', 'i-2', 'i-3', 'i-4', 'i-5', 'i-6', 'i-8']);
  });

  it('ranks an instance by its most urgent standing', () => {
    expect(v.rows.map((r) => [r.instanceId, worstStatus(r)])).toEqual([
      ['i-1', 'admitted'], ['i-2', 'missing'], ['i-3', 'missing'], ['i-4', 'blocked'], ['i-5', 'stale'], ['i-6', 'idle'], ['i-7', 'not-member'], ['i-8', 'refused'],
    ]);
  });

  it('keeps a failed region in the counts with its reason', () => {
    expect(countByRegion(v)).toEqual([
      { region: 'eu-west-1', status: 'complete', reason: undefined, instances: 8, running: 6, attention: 0 },
      { region: 'sa-east-1', status: 'failed', reason: 'AccessDenied', instances: 0, running: 0, attention: 0 },
    ]);
  });

  it('does not count a failed region among the regions listed on the Fleet page', async () => {
    const html = await (FleetSection({ view: v, filter: {}, refresh: 0 }) as { toString(): string | Promise<string> }).toString();
    const card = /data-count="regions">(.*?)<\/div>/s.exec(html)?.[1]?.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
    expect(card).toBe('1 of 2 regions listed; 1 failed');
  });
});

describe('filtering and sorting rows', () => {
  const v = view(members, observed);
  const ids = (rows: { instanceId: string }[]) => rows.map((r) => r.instanceId);

  it.each([
    [{ states: ['stopped'] }, ['i-5', 'i-6']],
    [{ tags: { role: 'db' } }, ['i-7']],
    [{ tags: { role: '*' } }, ['i-1', 'i-2', 'i-3', 'i-4', 'i-5', 'i-6', 'i-7', 'i-8']],
    [{ target: 'api', status: 'stale' as const }, ['i-2', 'i-5']],
    [{ target: 'api' }, ['i-1', 'i-2', 'i-3', 'i-4', 'i-5', 'i-6', 'i-8']],
    [{ q: 'W-I-3' }, ['i-3']],
    [{ q: '10.0.0.4' }, ['i-4']],
    [{ regions: ['sa-east-1'] }, []],
  ])('with %j keeps %j', (filter, expected) => {
    expect(ids(filterRows(v.rows, filter))).toEqual(expected);
  });

  it('sorts addresses by number, not by text', () => {
    const rows = [member('i-9', { privateIpv4: '10.0.0.10' }), member('i-1', { privateIpv4: '10.0.0.9' })];
    expect(ids(sortRows(view(rows, []).rows, 'private'))).toEqual(['i-1', 'i-9']);
  });
});

describe('the fleet view of an IPv6 member', () => {
  const six: Target = { ...api, families: ['ipv6'] };
  const m = member('i-1', { publicIpv4: undefined, ipv6: ['2600:1f18::1'] });
  const have = { ...rule('sgr-1', 'i-1', '2600:1f18::1/128'), family: 'ipv6' as const };
  const p = plan({
    deployment: 'prod', targets: [six], members: [m], observed: [have], scope: { kind: 'all' }, now: '2025-06-01T12:00:00.000Z',
    regionInventory: { 'eu-west-1': { status: 'complete' } }, safety: { graceSeconds: 300, revokeLimit: {}, force: false },
  });
  const v = buildFleetView({ deployment: 'prod', targets: [six], members: [m], observed: [have], plan: p, regions: [] });

  it('shows its IPv6 address, and names the rule that admits it by address and port', () => {
    expect(v.rows[0]?.ipv6).toEqual(['2600:1f18::1']);
    expect(v.rows[0]?.standing.api).toEqual({ status: 'admitted', detail: '2600:1f18::1/128 443/tcp: sgr-1 in sg-1' });
  });

  it('is found by a search for its IPv6 address', () => {
    expect(filterRows(v.rows, { q: '2600:1F18::1' }).map((r) => r.instanceId)).toEqual(['i-1']);
  });

  it('has a column of its own in the Fleet table', async () => {
    const html = await (FleetSection({ view: v, filter: {}, refresh: 0 }) as { toString(): string | Promise<string> }).toString();
    expect(html).toContain('<th scope="col">IPv6</th>');
    expect(html).toContain('<td class="mono">2600:1f18::1</td>');
  });
});

describe('the fleet view of a pool whose group does not exist', () => {
  it('shows a member it cannot take as blocked because no group of the pool exists, not for want of room', () => {
    const p = plan({
      deployment: 'prod', targets: [api], members: [member('i-1')], observed: [], scope: { kind: 'all' }, now: '2025-06-01T12:00:00.000Z',
      regionInventory: { 'eu-west-1': { status: 'complete' } }, safety: { graceSeconds: 300, revokeLimit: {}, force: false }, missing: [{ groupId: 'sg-1', region: 'us-east-1' }],
    });
    const v = buildFleetView({ deployment: 'prod', targets: [api], members: [member('i-1')], observed: [], plan: p, regions: [] });
    expect(v.rows[0]?.standing.api).toEqual({ status: 'blocked', detail: '54.0.0.1/32 443/tcp: no group of the pool exists' });
  });
});
