/**
 * The audit log: one JSON line per change a pass makes, saying who changed
 * what and why (safety rule 8). Lines go to stderr or are appended to a file,
 * so they can be shipped, grepped and kept apart from results on stdout.
 */
import { closeSync, fstatSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { fileProblem, messageOf, SgsyncError } from '../core/errors.js';
import type { AppliedChange } from '../core/reconcile.js';

/** One line of the audit log. Keys are stable: people write queries against them. */
export interface AuditRecord {
  time: string;
  passId: string;
  deployment: string;
  /** Who made the change: `controller` or `agent`. */
  actor: string;
  action: 'authorize' | 'revoke';
  target: string;
  group: string;
  /** The region of the group. */
  groupRegion: string;
  ruleId: string | null;
  cidr: string | null;
  instance: string | null;
  /** The region of the instance the rule admits. */
  region: string | null;
  /** `member` for an authorization; the revoke reason (instance-terminated, address-changed, …) otherwise. */
  reason: string;
}

/** Turns one applied change into its audit record. */
export function auditRecord(change: AppliedChange, context: { passId: string; deployment: string; actor: string; time: string }): AuditRecord {
  return {
    time: context.time,
    passId: context.passId,
    deployment: context.deployment,
    actor: context.actor,
    action: change.action,
    target: change.target,
    group: change.groupId,
    groupRegion: change.region,
    ruleId: change.ruleId ?? null,
    cidr: change.cidr ?? null,
    instance: change.instanceId ?? null,
    region: change.memberRegion ?? null,
    reason: change.reason,
  };
}

export interface AuditLogOptions {
  /** Append to this file; absent: write to stderr. */
  file?: string;
  deployment: string;
  actor?: string;
  now?: () => number;
}

/**
 * A writer of audit lines, reusable by every driver. Each line is written
 * with one synchronous `write` on a descriptor opened for appending, so lines
 * from two processes sharing a file never interleave, and a crash right
 * after a change cannot lose its line to a buffer. A written line is still
 * only in the kernel's page cache until it reaches the disk: `sync` (once per
 * pass, before the pass reports) makes the lines durable, so that a power
 * loss cannot take back what a report said was logged.
 *
 * @example
 * const audit = AuditLog.open({ file: '/var/log/sgsync-audit.jsonl', deployment: 'prod' });
 * const result = await audit.afterPass(controllerPass({ ..., onChange: (c) => audit.record(c, c.passId) }), (m) => log.error(m));
 * audit.close();
 */
export class AuditLog {
  private closed = false;
  /** Lines written since the last `sync`. */
  private unsynced = false;

  private constructor(
    private readonly fd: number,
    private readonly ownsFd: boolean,
    private readonly options: AuditLogOptions,
    /** A regular file: a pipe, a terminal or `/dev/null` has nothing to flush to a disk. */
    private readonly onDisk = false,
  ) {}

  /** Opens the log: the file (created if missing, appended to) or stderr. */
  static open(options: AuditLogOptions): AuditLog {
    if (options.file === undefined) return new AuditLog(2, false, options);
    let fd: number;
    try {
      fd = openSync(options.file, 'a', 0o640);
    } catch (e) {
      // Opened before the pass changes anything: a log that cannot be written stops it first.
      throw new SgsyncError('USAGE', `The audit log ${JSON.stringify(options.file)} cannot be opened for appending (${fileProblem(e)}). Give a file in a directory that exists and that this process may write; nothing was changed.`, { cause: e });
    }
    return new AuditLog(fd, true, options, fstatSync(fd).isFile());
  }

  /** Writes the change's line and returns the record written. */
  record(change: AppliedChange, passId: string): AuditRecord {
    const now = this.options.now ?? Date.now;
    const rec = auditRecord(change, {
      passId,
      deployment: this.options.deployment,
      actor: this.options.actor ?? 'controller',
      time: new Date(now()).toISOString(),
    });
    if (!this.closed) {
      writeSync(this.fd, `${JSON.stringify(rec)}\n`);
      this.unsynced = true;
    }
    return rec;
  }

  /**
   * Flushes the lines written so far to the disk (one `fsync` of the file),
   * for the driver to call once a pass is over and before it reports: one
   * per pass, not one per line, which would cost a disk flush per change.
   * Nothing to do when no line was written since the last one, for stderr
   * (not this log's to flush; its reader keeps it), or for a log that is not
   * a regular file (a pipe, a terminal, `/dev/null`). On a regular file,
   * every error of the flush is the disk's, and is said.
   */
  sync(): void {
    if (this.closed || !this.onDisk || !this.unsynced) return;
    // Said once: closing the log after a flush that failed does not fail again (and hide why the pass failed).
    this.unsynced = false;
    try {
      fsyncSync(this.fd);
    } catch (e) {
      throw new SgsyncError('INTERNAL', `The audit log ${JSON.stringify(this.options.file)} could not be flushed to disk (${fileProblem(e)}): its latest lines may be lost if the machine goes down. The changes themselves were made.`, { cause: e });
    }
  }

  /**
   * Waits for a pass, then flushes its lines (see `sync`): what every driver
   * does before it reports the pass. A flush that fails fails a pass that
   * succeeded. When the pass failed, its own error is the one thrown (it says
   * what went wrong with AWS), and a flush that fails too goes to `warn`.
   */
  async afterPass<T>(pass: Promise<T>, warn: (message: string) => void): Promise<T> {
    let value: T;
    try {
      value = await pass;
    } catch (passError) {
      try {
        this.sync();
      } catch (flushError) {
        warn(messageOf(flushError));
      }
      throw passError;
    }
    this.sync();
    return value;
  }

  /** Flushes (see `sync`) and closes the file; a no-op the second time. */
  close(): void {
    if (this.closed) return;
    try {
      this.sync();
    } finally {
      this.closed = true;
      if (this.ownsFd) closeSync(this.fd);
    }
  }
}
