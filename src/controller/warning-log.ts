/**
 * A pass's warnings in the log of a process that runs pass after pass (the
 * controller daemon, a warm Lambda container). Most warnings describe the
 * world, not the pass — a rule left alone for an unknown target stays until
 * someone removes it — so logging each at every pass would repeat the same
 * lines every interval for ever, and a line that stops coming is easy to
 * miss. Each is logged when it first appears, and once more when it is gone.
 */
import { lagWarnings } from '../core/reconcile.js';
import { controllerPassWarnings, type ControllerPassResult } from './pass.js';

/** The two levels the warnings are logged at (a pino logger is one). */
export interface WarningSink {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
}

/** The warnings logged and not yet seen gone, held for the life of the process. */
export class WarningLog {
  private readonly standing = new Set<string>();

  /**
   * Takes the warnings of a pass that completed and answers which are new
   * (`raised`, to log now) and which were raised before but the pass no
   * longer gives (`cleared`, to log once as gone). A pass that saw only part
   * of the world (`whole: false`: one instance's rules) raises but clears
   * nothing, since what it did not look at it could not warn of.
   *
   * @example
   * const log = new WarningLog();
   * log.update(['a', 'b']); // { raised: ['a', 'b'], cleared: [] }
   * log.update(['b']);      // { raised: [], cleared: ['a'] }
   */
  update(warnings: Iterable<string>, options: { whole?: boolean } = {}): { raised: string[]; cleared: string[] } {
    const now = new Set(warnings);
    const raised = [...now].filter((w) => !this.standing.has(w));
    const cleared = options.whole === false ? [] : [...this.standing].filter((w) => !now.has(w));
    for (const w of raised) this.standing.add(w);
    for (const w of cleared) this.standing.delete(w);
    return { raised, cleared };
  }
}

/**
 * Logs the warnings of a controller pass that completed, with `fields` on
 * each line: at `warn` those it is the first to give, at `info` (as
 * `warning cleared: …`, the text also in `warning`) those logged before that
 * it no longer gives. What EC2's reads had not caught up with is news of
 * this pass only: it is logged at every pass that met it, and never cleared.
 * A pass scoped to one instance clears nothing (see `WarningLog.update`).
 */
export function logPassWarnings(log: WarningSink, seen: WarningLog, result: ControllerPassResult, fields: Record<string, unknown>): void {
  const lag = lagWarnings(result);
  for (const w of lag) log.warn(fields, w);
  const lasting = controllerPassWarnings(result).filter((w) => !lag.includes(w));
  const { raised, cleared } = seen.update(lasting, { whole: result.plan.scope.kind === 'all' });
  for (const w of raised) log.warn(fields, w);
  for (const w of cleared) log.info({ ...fields, warning: w }, `warning cleared: ${w}`);
}
