/**
 * Reading the audit log back: the newest records of a JSON-lines file, for
 * the Activity page and `sgsync status`. Only the file's tail is read, so a
 * log that grew for months costs the same as a new one; lines that are not
 * audit records (a torn last line, stray text) are skipped.
 */
import { open } from 'node:fs/promises';
import type { AuditRecord } from '../controller/audit.js';

const TAIL_BYTES = 1024 * 1024;

function isRecord(v: unknown): v is AuditRecord {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return typeof o.time === 'string' && (o.action === 'authorize' || o.action === 'revoke') && typeof o.target === 'string' && typeof o.group === 'string';
}

/** Parses audit lines, skipping anything that is not a record. Oldest first, as written. */
export function parseAuditLines(text: string): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const v: unknown = JSON.parse(line);
      if (isRecord(v)) out.push(v);
    } catch {
      // A line being written right now, or not ours: skip it.
    }
  }
  return out;
}

/**
 * The newest `limit` records of the log, newest first. A missing file is an
 * empty log (nothing has happened yet), not an error.
 */
export async function readAuditTail(file: string, limit = 200): Promise<AuditRecord[]> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - TAIL_BYTES);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    let text = buffer.toString('utf8');
    // Reading from the middle of the file cuts the first line: drop it.
    if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    return limit > 0 ? parseAuditLines(text).slice(-limit).reverse() : [];
  } finally {
    await handle.close();
  }
}
