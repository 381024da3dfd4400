import type * as NodeFs from 'node:fs';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppliedChange } from '../core/reconcile.js';
import { AuditLog, auditRecord } from './audit.js';

/** Each fsync: the descriptor, and what the file held then; `failWith` makes the next one fail with that code. */
const disk = vi.hoisted(() => ({ syncs: [] as { fd: number; text: string }[], file: '', failWith: undefined as string | undefined }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof NodeFs>();
  return {
    ...fs,
    fsyncSync: (fd: number) => {
      if (disk.failWith) throw Object.assign(new Error(`${disk.failWith}: fsync`), { code: disk.failWith });
      disk.syncs.push({ fd, text: disk.file ? fs.readFileSync(disk.file, 'utf8') : '' });
      fs.fsyncSync(fd);
    },
  };
});

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

describe('the audit log on the disk', () => {
  beforeEach(() => {
    disk.syncs = [];
    disk.failWith = undefined;
  });

  const fresh = () => {
    disk.file = join(mkdtempSync(join(tmpdir(), 'sgsync-audit-')), 'audit.jsonl');
    return AuditLog.open({ file: disk.file, deployment: 'prod' });
  };

  it('is flushed once per pass, with every line of the pass written by then, not once per line', () => {
    const log = fresh();
    log.record(revoke, 'pass-1');
    log.record(authorize, 'pass-1');
    expect(disk.syncs, 'no flush per line').toEqual([]);
    log.sync();
    expect(disk.syncs.map((s) => s.text.trimEnd().split('\n').length)).toEqual([2]);
    log.sync();
    expect(disk.syncs, 'nothing new, no flush').toHaveLength(1);
    log.record(revoke, 'pass-2');
    log.close();
    expect(disk.syncs.map((s) => s.text.trimEnd().split('\n').length), 'closing flushes what the last sync did not').toEqual([2, 3]);
  });

  it('flushes nothing when the lines go to stderr, which is not its own', () => {
    const log = AuditLog.open({ deployment: 'prod' });
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    log.record(revoke, 'p');
    log.sync();
    log.close();
    write.mockRestore();
    expect(disk.syncs).toEqual([]);
  });

  it('flushes nothing when the log is no regular file (a pipe, a terminal, /dev/null): there is no disk to flush to', () => {
    const log = AuditLog.open({ file: '/dev/null', deployment: 'prod' });
    log.record(revoke, 'p');
    // Were it flushed, this would fail it.
    disk.failWith = 'EINVAL';
    expect(() => log.sync()).not.toThrow();
    log.close();
    disk.failWith = undefined;
    expect(disk.syncs).toEqual([]);
  });

  it('says so when a regular file cannot be flushed, whatever the error: EINVAL too', () => {
    const log = fresh();
    log.record(revoke, 'p');
    disk.failWith = 'EINVAL';
    expect(() => log.sync()).toThrow(/could not be flushed to disk \(EINVAL\)/);
    disk.failWith = undefined;
    log.close();
  });

  it('after a pass that succeeded, flushes its lines once before handing the result on', async () => {
    const log = fresh();
    const pass = Promise.resolve().then(() => {
      log.record(revoke, 'p');
      return 'report';
    });
    expect(await log.afterPass(pass, () => undefined)).toBe('report');
    expect(disk.syncs.map((s) => s.text.trimEnd().split('\n').length)).toEqual([1]);
    log.close();
    expect(disk.syncs, 'closing has nothing more to flush').toHaveLength(1);
  });

  it('fails a pass that succeeded when its lines cannot be flushed', async () => {
    const log = fresh();
    log.record(revoke, 'p');
    disk.failWith = 'EIO';
    const warned: string[] = [];
    await expect(log.afterPass(Promise.resolve('report'), (m) => void warned.push(m))).rejects.toThrow(/could not be flushed to disk \(EIO\)/);
    expect(warned).toEqual([]);
    expect(() => log.close(), 'said once, not again on closing').not.toThrow();
  });

  it("throws a failed pass's own error, not the flush's, and warns of the flush; closing does not fail again", async () => {
    const log = fresh();
    log.record(revoke, 'p');
    disk.failWith = 'EIO';
    const warned: string[] = [];
    const denied = new Error('UnauthorizedOperation: not allowed to revoke');
    await expect(log.afterPass(Promise.reject(denied), (m) => void warned.push(m))).rejects.toBe(denied);
    expect(warned).toEqual([expect.stringMatching(/could not be flushed to disk \(EIO\)/)]);
    expect(() => log.close()).not.toThrow();
  });

  it('says so when the disk refuses the flush: the lines may be lost, the changes were made', () => {
    const log = fresh();
    log.record(revoke, 'p');
    disk.failWith = 'EIO';
    expect(() => log.sync()).toThrow(/could not be flushed to disk \(EIO\): its latest lines may be lost if the machine goes down\. The changes themselves were made\./);
    disk.failWith = undefined;
    log.close();
  });
});
