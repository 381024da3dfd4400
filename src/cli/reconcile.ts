/**
 * `sgsync reconcile`: one controller pass that applies. Every change is
 * written to the audit log (stderr, or appended to --audit-log FILE) as it
 * lands; the report on stdout says what changed, what was kept and why.
 */
import type { Command } from 'commander';
import { AuditLog } from '../controller/audit.js';
import { runPassCommand, withPassOptions, type PassCliOptions } from './plan.js';

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
      '\nExit codes: 0 done, 8 halted by the blast radius (nothing revoked; check, then --force),\n' +
        '4/6 a region could not be listed or a group could not be changed (the rest of the pass was done),\n5 members blocked by capacity. See docs/controller.md.',
    )
    .action(async (options: ReconcileCliOptions) => {
      let audit: AuditLog | undefined;
      try {
        await runPassCommand('reconcile', options, (deployment) => {
          audit = AuditLog.open({ file: options.auditLog, deployment });
          return (c) => audit?.record(c, c.passId);
        });
      } finally {
        audit?.close();
      }
    });
}
