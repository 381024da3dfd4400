import { describe, expect, it } from 'vitest';
import type { PassReport, TargetReport } from '../controller/report.js';
import type { FleetView } from '../dashboard/fleet-view.js';
import { attention, lastChanges, statusWarnings, targetLines } from './status.js';

const tcp = (p: number) => ({ protocol: 'tcp' as const, fromPort: p, toPort: p });

// One member of a target with two ports: every line of its drift comes twice, once per port.
const target: TargetReport = {
  name: 'api', region: 'us-east-1', refused: [], foreign: [], capacity: [], missing: [],
  add: [443, 8443].map((p) => ({ groupId: 'sg-1', instanceId: 'i-1', memberRegion: 'eu-west-1', cidr: '199.80.128.98/32', port: tcp(p) })),
  revoke: [443, 8443].map((p) => ({ groupId: 'sg-1', ruleId: `sgr-${p}`, cidr: '54.0.0.2/32', port: tcp(p), instanceId: 'i-2', reason: 'instance-stopped' })),
  kept: [443, 8443].map((p) => ({ groupId: 'sg-1', ruleId: `sgr-k${p}`, cidr: '54.0.0.3/32', port: tcp(p), instanceId: 'i-3', reason: 'blast-radius' as const, detail: 'limit' })),
  blocked: [{ instanceId: 'i-4', memberRegion: 'eu-west-1', cidr: '54.0.0.4/32', family: 'ipv4', port: { protocol: 'udp', fromPort: 8000, toPort: 8100 }, reason: 'capacity' }],
};

describe('the drift of a target in `sgsync status`', () => {
  const lines = targetLines(target).split('\n');
  const of = (word: string) => lines.filter((l) => l.startsWith(`${word} `)).map((l) => l.split(/\s{2,}/));

  it('names the port of every line, so a member with several ports does not show the same line twice', () => {
    expect(lines.find((l) => l.startsWith('drift'))?.split(/\s{2,}/)).toEqual(['drift', 'instance', 'address', 'port', 'detail']);
    expect(of('missing').map((c) => c[3])).toEqual(['443/tcp', '8443/tcp']);
    expect(of('stale').map((c) => c[3])).toEqual(['443/tcp', '8443/tcp']);
    expect(of('kept').map((c) => c[3])).toEqual(['443/tcp', '8443/tcp']);
    expect(of('blocked').map((c) => c[3])).toEqual(['8000-8100/udp']);
  });
});

describe('a rule open to the world under sgsync\'s tags, in `sgsync status`', () => {
  const open: TargetReport = { ...target, add: [], kept: [], blocked: [], revoke: [{ groupId: 'sg-1', ruleId: 'sgr-9', cidr: '0.0.0.0/0', port: tcp(443), instanceId: 'i-9', reason: 'malformed' }] };
  const view = { regions: [], plan: {}, report: { targets: [open], errors: [] } } as unknown as FleetView;

  it('needs attention as open to the world, though a pass revokes it, and its line says so', () => {
    expect(attention(view)).toEqual([
      'api: 1 stale rule(s) a pass would revoke',
      "api: 1 rule(s) open to the world under sgsync's tags, which it never writes (a pass revokes them; see who can add rules with its tags)",
    ]);
    expect(targetLines(open)).toMatch(/stale +i-9 +0\.0\.0\.0\/0 +443\/tcp +sgr-9: malformed \(OPEN TO THE WORLD\)/);
  });
});

describe('a pool group that does not exist, in `sgsync status`', () => {
  const message = 'Security group sg-1 (targets[0].groups[0] in sgsync.yaml) does not exist in us-east-1; nothing is placed in it.';
  const gone: TargetReport = {
    ...target, add: [], revoke: [], kept: [], missing: ['sg-1'],
    capacity: [{ groupId: 'sg-1', family: 'ipv4', quota: 60, before: 0, after: 0, managed: 0, foreign: 0, missing: true }],
    blocked: [{ instanceId: 'i-4', memberRegion: 'eu-west-1', cidr: '54.0.0.4/32', family: 'ipv4', port: tcp(443), reason: 'no-group' }],
  };
  const view = (targets: TargetReport[], errors: PassReport['errors']) => ({ regions: [], plan: {}, report: { targets, errors } }) as unknown as FleetView;

  it('needs attention, in the words of the error that names it and where the configuration lists it', () => {
    expect(attention(view([gone], [{ code: 'NOT_FOUND', message, region: 'us-east-1', groupId: 'sg-1' }]))).toEqual([message, 'api: 1 rule(s) blocked: no group of the pool exists']);
  });

  it("needs attention for what the pass warns of and leaves alone, but not for groups it could not check", () => {
    const leftAlone = 'rule sgr-1 in sg-1 names no instance (no sgsync:instance tag, no sgsync description); it is left alone';
    const groupCheck = { missing: [], unchecked: [{ region: 'us-east-1', code: 'PERMISSION_DENIED', reason: 'denied' }] };
    const warned = { regions: [], plan: {}, groupCheck, report: { targets: [], errors: [], warnings: [leftAlone, statusWarnings({ groupCheck } as unknown as FleetView)[0]] } } as unknown as FleetView;
    expect(attention(warned)).toEqual([leftAlone]);
  });

  it('shows no gauge of room in it, and says why its members are blocked', () => {
    const text = targetLines(gone);
    expect(text).toMatch(/sg-1 +ipv4 +DOES NOT EXIST +- +60 +- +- +-/);
    expect(text).toMatch(/blocked +i-4 +54\.0\.0\.4\/32 +443\/tcp +no group of the pool exists/);
  });

  it('warns when the groups could not be checked, naming the permission', () => {
    const unchecked = { groupCheck: { missing: [], unchecked: [{ region: 'us-east-1', code: 'PERMISSION_DENIED', reason: 'denied' }] } } as unknown as FleetView;
    expect(statusWarnings(unchecked)).toEqual([expect.stringContaining('Add ec2:DescribeSecurityGroups to the role')]);
    expect(statusWarnings({} as FleetView)).toEqual([]);
  });
});

describe('the last changes in `sgsync status`', () => {
  const record = { time: '2026-01-01T00:00:00.000Z', passId: 'p', deployment: 'prod', actor: 'controller', action: 'authorize' as const, target: 'api', group: 'sg-1', groupRegion: 'us-east-1', ruleId: 'sgr-1', cidr: '54.0.0.1/32', instance: 'i-1', region: 'eu-west-1', reason: 'member' };

  it.each([
    ['no --audit-log', { changes: 10 }, true, [], ''],
    ['--changes 0: none asked for, whatever the log holds', { auditLog: 'audit.jsonl', changes: 0 }, true, [], '\nLast changes (audit.jsonl): none shown (--changes 0).\n'],
    ['a log with no records', { auditLog: 'audit.jsonl', changes: 10 }, true, [], '\nLast changes (audit.jsonl):\nNo changes in the audit log.\n'],
    ['no log at the path', { auditLog: 'typo.jsonl', changes: 10 }, false, [], '\nNo audit log at typo.jsonl: nothing recorded there yet, or the path is not the one passes write to.\n'],
  ])('with %s says so', (_what, options, exists, records, expected) => {
    expect(lastChanges(options, records, exists)).toBe(expected);
  });

  it('shows the records it read', () => {
    expect(lastChanges({ auditLog: 'audit.jsonl', changes: 1 }, [record], true)).toMatch(/^\nLast changes \(audit\.jsonl\):\ntime +who +action/);
  });
});

describe('pools in `sgsync status`', () => {
  const line = (groupId: string, before: number, after = before) => ({ target: 'api', groupId, family: 'ipv4' as const, quota: 60, before, after, managed: before, foreign: 0 });
  const calm = (capacity: TargetReport['capacity']): TargetReport => ({ ...target, add: [], revoke: [], kept: [], blocked: [], capacity });
  const view = (t: TargetReport) => ({ regions: [], plan: {}, report: { targets: [t], errors: [] } }) as unknown as FleetView;

  it('is calm about a full group while its pool has room: placement fills groups one by one', () => {
    expect(attention(view(calm([line('sg-1', 60), line('sg-2', 12)])))).toEqual([]);
  });

  it('needs attention when the pool is full after the pass, and not when the pass frees room', () => {
    expect(attention(view(calm([line('sg-1', 60), line('sg-2', 59, 60)])))).toEqual([
      'api: the pool is full for ipv4 (120 of 120 rules after a pass, in 2 group(s)): a new member would be blocked',
    ]);
    expect(attention(view(calm([line('sg-1', 60), line('sg-2', 60, 58)])))).toEqual([]);
  });

  it('counts no room in a group over its quota, and none in a group that does not exist', () => {
    const gone = { ...line('sg-3', 0), missing: true as const };
    expect(attention(view(calm([line('sg-1', 61), line('sg-2', 59, 60), gone])))).toEqual([
      'api: the pool is full for ipv4 (121 of 120 rules after a pass, in 2 group(s)): a new member would be blocked',
    ]);
  });

  it('sums the pool above its gauges', () => {
    expect(targetLines(calm([line('sg-1', 60), line('sg-2', 12, 10)]))).toContain('Pool ipv4: 72 of 120 rules used in 2 groups (1 full), 70 after a pass; room for 50 more\n');
  });
});

describe('retired groups in `sgsync status`', () => {
  const draining: TargetReport = { ...target, add: [], revoke: [], kept: [], blocked: [], retired: [{ groupId: 'sg-9', rules: 3, left: 1 }, { groupId: 'sg-8', rules: 0, left: 0 }] };
  const view = { regions: [], plan: {}, report: { targets: [draining], errors: [], warnings: [] } } as unknown as FleetView;

  it('says under the pool line how many of its rules each still holds, and when one is empty', () => {
    const lines = targetLines(draining).split('\n');
    expect(lines.slice(1, 3)).toEqual(['Retired sg-9: 3 rules, 1 after a pass', 'Retired sg-8: empty; remove it from retiredGroups']);
  });

  it('warns of an empty one, so its key can go, without needing attention for it', () => {
    expect(statusWarnings(view)).toEqual(['target api: Retired sg-8: empty; remove it from retiredGroups']);
    expect(attention(view)).toEqual([]);
  });
});
