import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAuditLines, readAuditTail } from './activity.js';

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
});
