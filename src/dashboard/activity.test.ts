import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseAuditLines, readAuditTail, reportingOnce } from './activity.js';

const dir = mkdtempSync(join(tmpdir(), 'sgsync-activity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rec = (n: number) =>
  JSON.stringify({ time: `2026-01-01T00:00:0${n}.000Z`, passId: 'p', deployment: 'prod', actor: 'controller', action: 'authorize', target: 'api', group: 'sg-1', groupRegion: 'us-east-1', ruleId: `sgr-${n}`, cidr: null, instance: null, region: null, reason: 'member' });

describe('reading the audit log back', () => {
  it('skips lines that are not audit records, such as a torn last line', () => {
    const text = [rec(1), 'not json', '{"time":"x"}', rec(2), rec(3).slice(0, 20)].join('\n');
    expect(parseAuditLines(text).map((r) => r.ruleId)).toEqual(['sgr-1', 'sgr-2']);
  });

  it('returns the newest records first, at most the limit', async () => {
    const file = join(dir, 'audit.jsonl');
    writeFileSync(file, [1, 2, 3, 4].map(rec).join('\n') + '\n');
    expect((await readAuditTail(file, 2)).map((r) => r.ruleId)).toEqual(['sgr-4', 'sgr-3']);
    // None asked for, none given (slice(-0) would give them all).
    expect(await readAuditTail(file, 0)).toEqual([]);
  });

  it('treats a log that does not exist yet as empty', async () => {
    expect(await readAuditTail(join(dir, 'missing.jsonl'))).toEqual([]);
  });

  const refusal = (file: string, problem: string) => ({ code: 'USAGE', message: expect.stringContaining(`The audit log ${JSON.stringify(file)} cannot be read (${problem})`) as unknown });

  it('refuses a directory as a usage error that names the path and the problem', async () => {
    mkdirSync(join(dir, 'logs'));
    await expect(readAuditTail(join(dir, 'logs'))).rejects.toMatchObject(refusal(join(dir, 'logs'), 'it is a directory'));
  });

  // Root reads a file whatever its mode: nothing to refuse there.
  it.skipIf(process.getuid?.() === 0)('refuses a file it may not read in the same way', async () => {
    const file = join(dir, 'secret.jsonl');
    writeFileSync(file, rec(1));
    chmodSync(file, 0o000);
    await expect(readAuditTail(file)).rejects.toMatchObject(refusal(file, 'not allowed'));
  });
});

describe('reporting a failing read once', () => {
  it('reports a problem when it starts and when it changes, not at every poll, and passes the error on', async () => {
    const report = vi.fn();
    let error: Error | undefined = new Error('it is a directory');
    const read = reportingOnce(() => (error ? Promise.reject(error) : Promise.resolve(1)), report);
    await expect(read()).rejects.toThrow('it is a directory');
    await expect(read()).rejects.toThrow('it is a directory');
    expect(report.mock.calls).toEqual([['it is a directory']]);
    error = undefined;
    expect(await read()).toBe(1);
    error = new Error('it is a directory');
    await expect(read()).rejects.toThrow();
    error = new Error('not allowed');
    await expect(read()).rejects.toThrow();
    expect(report.mock.calls).toEqual([['it is a directory'], ['it is a directory'], ['not allowed']]);
  });
});
