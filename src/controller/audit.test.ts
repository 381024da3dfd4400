import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AppliedChange } from '../core/reconcile.js';
import { AuditLog, auditRecord } from './audit.js';

const revoke: AppliedChange = {
  action: 'revoke', target: 'api', groupId: 'sg-0aaaaaaaaaaaaaaa1', region: 'us-east-1',
  ruleId: 'sgr-0123456789abcdef0', cidr: '54.0.0.9/32', instanceId: 'i-0123456789abcdef0', memberRegion: 'eu-west-1', reason: 'instance-terminated',
};
const authorize: AppliedChange = { ...revoke, action: 'authorize', ruleId: 'sgr-0fedcba9876543210', cidr: '54.0.0.10/32', reason: 'member' };

function lines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('the audit log', () => {
  it('says who changed which rule of which group, for which instance and region, when and why', () => {
    expect(auditRecord(revoke, { passId: 'p1', deployment: 'prod', actor: 'controller', time: '2026-03-01T12:00:00.000Z' })).toEqual({
      time: '2026-03-01T12:00:00.000Z', passId: 'p1', deployment: 'prod', actor: 'controller',
      action: 'revoke', target: 'api', group: 'sg-0aaaaaaaaaaaaaaa1', groupRegion: 'us-east-1',
      ruleId: 'sgr-0123456789abcdef0', cidr: '54.0.0.9/32', instance: 'i-0123456789abcdef0', region: 'eu-west-1', reason: 'instance-terminated',
    });
  });

  it('writes nulls, not missing keys, for facts a change does not carry', () => {
    const rec = auditRecord({ action: 'revoke', target: 'api', groupId: 'sg-0aaaaaaaaaaaaaaa1', region: 'us-east-1', reason: 'duplicate' }, { passId: 'p', deployment: 'd', actor: 'controller', time: 't' });
    expect(rec).toMatchObject({ ruleId: null, cidr: null, instance: null, region: null });
  });

  it('appends one line per change to a file, keeping what earlier passes wrote', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sgsync-audit-')), 'audit.jsonl');
    const first = AuditLog.open({ file, deployment: 'prod', now: () => Date.parse('2026-03-01T12:00:00Z') });
    first.record(revoke, 'pass-1');
    first.record(authorize, 'pass-1');
    first.close();
    const second = AuditLog.open({ file, deployment: 'prod', now: () => Date.parse('2026-03-01T12:05:00Z') });
    second.record(revoke, 'pass-2');
    second.close();
    second.record(authorize, 'pass-2');

    expect(lines(file).map((l) => [l.passId, l.action, l.cidr, l.time])).toEqual([
      ['pass-1', 'revoke', '54.0.0.9/32', '2026-03-01T12:00:00.000Z'],
      ['pass-1', 'authorize', '54.0.0.10/32', '2026-03-01T12:00:00.000Z'],
      ['pass-2', 'revoke', '54.0.0.9/32', '2026-03-01T12:05:00.000Z'],
    ]);
  });
});
