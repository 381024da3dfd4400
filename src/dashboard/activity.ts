/**
 * Reading the audit log back: the newest records of a JSON-lines file, for
 * the Activity page and `sgsync status`. Only the file's tail is read, so a
 * log that grew for months costs the same as a new one; lines that are not
 * audit records (a torn last line, stray text) are skipped.
 */
import { open } from 'node:fs/promises';
import type { AuditRecord } from '../controller/audit.js';
import { fileProblem, messageOf, SgsyncError } from '../core/errors.js';

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
 * empty log (nothing has happened yet), not an error; a path that cannot be
 * read as one (a directory, a file it may not read) is a usage error that
 * names the path and the problem.
 */
export async function readAuditTail(file: string, limit = 200): Promise<AuditRecord[]> {
  try {
    return await readTail(file, limit);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SgsyncError('USAGE', `The audit log ${JSON.stringify(file)} cannot be read (${fileProblem(e)}). Give --audit-log the JSON-lines file that passes append to.`, { cause: e });
  }
}

async function readTail(file: string, limit: number): Promise<AuditRecord[]> {
  // A directory opens for reading on Linux; it is the read that fails (EISDIR), so both are inside the caller's catch.
  const handle = await open(file, 'r');
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

/**
 * Wraps a read that a page polls, so that its failure is reported once when
 * it starts (or its message changes), not at every poll; the error still goes
 * to the caller, which shows it.
 */
export function reportingOnce<T>(read: () => Promise<T>, report: (message: string) => void): () => Promise<T> {
  let reported: string | undefined;
  return async () => {
    try {
      const value = await read();
      reported = undefined;
      return value;
    } catch (e) {
      const message = messageOf(e);
      if (message !== reported) report(message);
      reported = message;
      throw e;
    }
  };
}
