import { describe, expect, it } from 'vitest';
import type { PassReport, TargetReport } from '../controller/report.js';
import { EXIT } from './exit-codes.js';
import { passExitCode, renderPassReport, TEXT_ROW_LIMIT } from './pass-report.js';

const emptyTarget: TargetReport = { name: 'api', region: 'us-east-1', add: [], revoke: [], kept: [], blocked: [], refused: [], foreign: [], capacity: [], missing: [] };
const port = { protocol: 'tcp' as const, fromPort: 443, toPort: 443 };

function report(over: Partial<Omit<PassReport, 'summary'>> & { summary?: Partial<PassReport['summary']> } = {}): PassReport {
  return {
    kind: 'plan', passId: 'p', startedAt: 't', deployment: 'prod', outcome: 'in-sync',
    regions: [{ region: 'eu-west-1', status: 'complete', instances: 3, ms: 1 }],
    targets: [emptyTarget], errors: [], warnings: [],
    timings: { inventoryMs: 0, observeMs: 0, planMs: 0, applyMs: 0 },
    ...over,
    summary: { add: 0, revoke: 0, kept: 0, blocked: 0, refused: 0, foreign: 0, dangerous: 0, missing: 0, regionsFailed: 0, errors: 0, ...over.summary },
  };
}
const failedRegion = (code: string) => ({ region: 'us-west-2', status: 'failed' as const, instances: 0, ms: 1, code, reason: 'nope' });
const halted = { wouldRevoke: 9, limit: 2, managed: 10, override: '--force' };

describe('the exit code of plan and reconcile', () => {
  it.each([
    ['plan, nothing pending', report(), EXIT.OK],
    ['plan, changes pending', report({ summary: { add: 1 } }), EXIT.CHANGES_PENDING],
    ['plan, halted by the blast radius', report({ halted, summary: { add: 1 } }), EXIT.BLAST_RADIUS],
    ['reconcile, applied', report({ kind: 'reconcile', summary: { add: 3 } }), EXIT.OK],
    ['reconcile, halted', report({ kind: 'reconcile', halted }), EXIT.BLAST_RADIUS],
    ['reconcile, members blocked by capacity', report({ kind: 'reconcile', summary: { blocked: 2 } }), EXIT.CAPACITY],
    ['plan, members blocked (nothing reconcile could do)', report({ summary: { blocked: 2 } }), EXIT.OK],
    ['a region that could not be listed for lack of permission', report({ regions: [failedRegion('PERMISSION_DENIED')] }), EXIT.PERMISSION],
    ['a region where AWS kept failing', report({ kind: 'reconcile', regions: [failedRegion('AWS_UNAVAILABLE')] }), EXIT.AWS_UNAVAILABLE],
    ['a region that failed, in a halted pass', report({ halted, regions: [failedRegion('AWS_UNAVAILABLE')] }), EXIT.BLAST_RADIUS],
    ['a group AWS refused to change, in a halted pass', report({ kind: 'reconcile', halted, errors: [{ code: 'PERMISSION_DENIED', message: 'm' }] }), EXIT.PERMISSION],
    ['errors of several kinds: permission is named first', report({ kind: 'reconcile', errors: [{ code: 'AWS_UNAVAILABLE', message: 'm' }, { code: 'PERMISSION_DENIED', message: 'm' }] }), EXIT.PERMISSION],
    ['an error without a more specific code', report({ kind: 'reconcile', errors: [{ code: 'INTERNAL', message: 'm' }] }), EXIT.FAILURE],
    ['plan, a pool group that does not exist, though nothing is pending', report({ errors: [{ code: 'NOT_FOUND', message: 'm' }], summary: { missing: 1 } }), EXIT.FAILURE],
  ])('%s', (_, r, code) => {
    expect(passExitCode(r)).toBe(code);
  });
});

describe('the text report', () => {
  it('says a pass was halted, that none of those rules was revoked and how to override', () => {
    const text = renderPassReport(report({ kind: 'reconcile', outcome: 'halted', halted }));
    expect(text).toContain('HALTED by the blast radius: the pass would revoke 9 of 10 managed rules; the limit is 2. None of them was revoked.');
    expect(text).toContain('sgsync reconcile --force');
  });

  it('says what the rules a halted pass holds back would be revoked as, most common first', () => {
    const held = (ruleId: string, wouldRevoke: 'port-removed' | 'instance-terminated') => ({ groupId: 'sg-1', ruleId, port: { protocol: 'tcp' as const, fromPort: 443, toPort: 443 }, reason: 'blast-radius' as const, detail: 'held', wouldRevoke });
    const kept = [held('sgr-1', 'port-removed'), held('sgr-2', 'instance-terminated'), held('sgr-3', 'port-removed')];
    const text = renderPassReport(report({ kind: 'plan', outcome: 'halted', halted, targets: [{ ...emptyTarget, kept }] }));
    expect(text).toContain('HALTED by the blast radius: the pass would revoke 9 of 10 managed rules (2 port-removed, 1 instance-terminated); the limit is 2. A reconcile would revoke none of them.');
    expect(text).toContain('sgsync reconcile --force');
  });

  it('flags a foreign rule open to the world and says it was left alone', () => {
    const foreign = [{ groupId: 'sg-1', ruleId: 'sgr-1', family: 'ipv4' as const, protocol: 'tcp', fromPort: 443, toPort: 443, cidr: '0.0.0.0/0', dangerous: true }];
    const text = renderPassReport(report({ targets: [{ ...emptyTarget, foreign }], summary: { foreign: 1, dangerous: 1 } }));
    expect(text).toMatch(/foreign +sg-1 +sgr-1 +0\.0\.0\.0\/0 +443\/tcp +OPEN TO THE WORLD \(not managed by sgsync; left alone\)/);
    expect(text).toContain('1 foreign (1 open to the world)');
  });

  it('flags a rule open to the world under sgsync\'s tags among the revokes', () => {
    const revoke = [{ groupId: 'sg-1', ruleId: 'sgr-9', cidr: '0.0.0.0/0', port: { protocol: 'tcp' as const, fromPort: 443, toPort: 443 }, instanceId: 'i-9', reason: 'malformed' }];
    const text = renderPassReport(report({ kind: 'reconcile', targets: [{ ...emptyTarget, revoke }], summary: { revoke: 1 } }));
    expect(text).toMatch(/revoked +sg-1 +sgr-9 +0\.0\.0\.0\/0 +443\/tcp +i-9 +- +malformed \(OPEN TO THE WORLD\)/);
  });

  it("gives a kept rule's member region, as it does a revoked one's", () => {
    const kept = [{ groupId: 'sg-1', ruleId: 'sgr-1', cidr: '54.0.0.3/32', port: { protocol: 'tcp' as const, fromPort: 443, toPort: 443 }, instanceId: 'i-3', memberRegion: 'us-west-2', reason: 'region-unavailable' as const, detail: 'inventory of us-west-2 failed' }];
    const text = renderPassReport(report({ targets: [{ ...emptyTarget, kept }], summary: { kept: 1 } }));
    expect(text).toMatch(/kept +sg-1 +sgr-1 +54\.0\.0\.3\/32 +443\/tcp +i-3 +us-west-2 +region-unavailable: inventory of us-west-2 failed/);
  });

  it("shows the controls of AWS's words in its advice as the tables do", () => {
    const hostile = { ...failedRegion('PERMISSION_DENIED'), reason: 'denied\u001b[2J\u001b[32mAll is well.\r' };
    const text = renderPassReport(report({ regions: [hostile], summary: { regionsFailed: 1 }, errors: [{ code: 'AWS_UNAVAILABLE', message: 'busy\u001b]52;c;eA==\u0007' }], warnings: ['w\u009b2J'] }));
    expect(text).toContain('Inventory of us-west-2 failed (denied?[2J?[32mAll is well.?); rules of its instances were kept.');
    expect(text).toContain('Error: busy?]52;c;eA==?');
    expect(text).toContain('Warning: w?2J');
    expect(text.replace(/\n/g, '')).not.toMatch(/\p{Cc}/u);
  });

  it('names a failed region and that its rules were kept', () => {
    const text = renderPassReport(report({ regions: [failedRegion('PERMISSION_DENIED')], summary: { regionsFailed: 1 } }));
    expect(text).toMatch(/us-west-2 +failed +- +nope/);
    expect(text).toContain('Inventory of us-west-2 failed (nope); rules of its instances were kept.');
  });

  it('shows a bounded number of rows per kind and points to --json for the rest', () => {
    const add = Array.from({ length: TEXT_ROW_LIMIT + 5 }, (_, n) => ({ groupId: 'sg-1', instanceId: `i-${n}`, memberRegion: 'eu-west-1', cidr: `54.0.0.${n}/32`, port }));
    const text = renderPassReport(report({ outcome: 'changes-pending', targets: [{ ...emptyTarget, add }], summary: { add: add.length } }));
    expect(text.split('\n').filter((l) => l.startsWith('add ')).length).toBe(TEXT_ROW_LIMIT + 1);
    expect(text).toContain('5 more (see --json)');
    expect(text).toContain(`changes-pending: ${add.length} to add, 0 to revoke`);
    expect(text).toContain('Run `sgsync reconcile` to apply.');
  });

  it('marks a pool group that does not exist in the capacity table, counts it in the summary, and says why members have no group', () => {
    const capacity = [
      { groupId: 'sg-1', family: 'ipv4' as const, quota: 60, before: 0, after: 0, managed: 0, foreign: 0, missing: true as const },
      { groupId: 'sg-2', family: 'ipv4' as const, quota: 60, before: 4, after: 5, managed: 4, foreign: 0 },
    ];
    const blocked = [{ instanceId: 'i-1', memberRegion: 'eu-west-1', cidr: '54.0.0.1/32', family: 'ipv4' as const, port, reason: 'no-group' as const }];
    const message = 'Security group sg-1 (targets[0].groups[0] in sgsync.yaml) does not exist in us-east-1; nothing is placed in it.';
    const text = renderPassReport(report({ outcome: 'incomplete', targets: [{ ...emptyTarget, capacity, blocked, missing: ['sg-1'] }], errors: [{ code: 'NOT_FOUND', message }], summary: { missing: 1, blocked: 1, errors: 1 } }));
    expect(text).toMatch(/sg-1 +ipv4 +60 +- +- +- +- +DOES NOT EXIST/);
    expect(text).toMatch(/sg-2 +ipv4 +60 +4 +5 +4 +0 *\n/);
    expect(text).toMatch(/blocked +54\.0\.0\.1\/32 +443\/tcp +i-1 +eu-west-1 +no group of the pool exists/);
    expect(text).toContain('incomplete: 0 to add, 0 to revoke, 0 kept, 1 blocked, 0 foreign, 1 group missing, 1 error');
    expect(text).toContain(`Error: ${message}`);
    // Adding a group or raising the quota would not help members whose pool has no group at all.
    expect(text).not.toContain('Some members are blocked');
  });
});
