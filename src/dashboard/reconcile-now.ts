/**
 * What "Reconcile now" runs: a full controller pass that applies, with every
 * change written to the audit log and kept in memory for the Activity page
 * when there is no log file to read back.
 */
import type { LoadedConfig } from '../config/index.js';
import type { Ec2Port } from '../core/ports.js';
import { changeCounts } from '../core/reconcile.js';
import { haltedText } from '../core/safety.js';
import { auditRecord, type AuditLog, type AuditRecord } from '../controller/audit.js';
import { controllerPass } from '../controller/pass.js';
import type { ReconcileOutcome } from './fleet-state.js';

/** The newest changes made by this process, newest first, bounded. */
export class RecentChanges {
  private readonly records: AuditRecord[] = [];
  constructor(private readonly limit = 500) {}

  add(record: AuditRecord): void {
    this.records.unshift(record);
    if (this.records.length > this.limit) this.records.length = this.limit;
  }

  list(limit = 200): AuditRecord[] {
    return this.records.slice(0, limit);
  }
}

export interface ReconcileNowOptions {
  config: LoadedConfig;
  ec2: Ec2Port;
  /** Where audit lines go (a file, or stderr). */
  audit?: AuditLog;
  recent?: RecentChanges;
  actor?: string;
  now?: () => number;
}

/** Builds the function behind the dashboard's POST /reconcile. */
export function reconcileNow(options: ReconcileNowOptions): () => Promise<ReconcileOutcome> {
  const now = options.now ?? Date.now;
  return async () => {
    const pass = await controllerPass({
      config: options.config,
      ec2: options.ec2,
      apply: true,
      now,
      onChange: (change) => {
        const record =
          options.audit?.record(change, change.passId) ??
          auditRecord(change, { passId: change.passId, deployment: options.config.config.deployment, actor: options.actor ?? 'dashboard', time: new Date(now()).toISOString() });
        options.recent?.add(record);
      },
    });
    return {
      at: new Date(now()).toISOString(),
      passId: pass.passId,
      ...changeCounts(pass.changes),
      errors: [...pass.errors.map((e) => e.message), ...(pass.plan.halted ? [haltedText(pass.plan.halted)] : [])],
    };
  };
}
