/**
 * `sgsync reconcile`: one controller pass that applies. Every change is
 * written to the audit log (stderr, or appended to --audit-log FILE) as it
 * lands; the report on stdout says what changed, what was kept and why.
 * SIGTERM or SIGINT cuts the pass short: no further change is started, the
 * calls under way land and are audited, the report says so, and the exit
 * code is the signal's (143, 130), as a shell reports a program it ended.
 */
import type { Command } from 'commander';
import { AuditLog } from '../controller/audit.js';
import { createLogger } from './logger.js';
import { runPassCommand, withPassOptions, type PassCliOptions } from './plan.js';
import { stopPassOnSignals } from './signals.js';

interface ReconcileCliOptions extends PassCliOptions {
  auditLog?: string;
}

export function addReconcileCommand(program: Command): void {
  withPassOptions(program.command('reconcile'))
    .description('Bring every target\'s security groups in step with its members: add missing rules, revoke stale ones')
    .option('--force', 'revoke even when the pass would revoke more than safety.revokeLimit allows')
    .option('--audit-log <file>', 'append the audit log (JSON lines, one per change) to this file instead of stderr')
    .addHelpText(
      'after',
      '\nExit codes: 0 done, 8 halted by the blast radius (none of the rules it counts revoked; check, then --force),\n' +
        '4/6 a region could not be listed or a group could not be changed (the rest of the pass was done),\n5 members blocked by capacity,\n' +
        '143/130 cut short by SIGTERM/SIGINT (no further change started; the calls under way landed and were audited). See docs/controller.md.',
    )
    .action(async (options: ReconcileCliOptions) => {
      let audit: AuditLog | undefined;
      const stopping = stopPassOnSignals(createLogger({ level: options.logLevel }), 'stopping: no further change is started, the calls in flight finish (a second signal stops at once)');
      try {
        const report = await runPassCommand(
          'reconcile',
          options,
          (deployment) => {
            audit = AuditLog.open({ file: options.auditLog, deployment });
            return (c) => audit?.record(c, c.passId);
          },
          stopping.shouldStop,
          // Before the report says what was done: the lines saying so are on the disk, not only in the page cache.
          (pass, warn) => audit?.afterPass(pass, warn) ?? pass,
        );
        // A pass the signal left unfinished ends as the signal would have ended it; one it did not cut short keeps its code.
        const signalled = stopping.exitCode();
        if (report.stopped !== undefined && signalled !== undefined) process.exitCode = signalled;
      } finally {
        audit?.close();
      }
    });
}
