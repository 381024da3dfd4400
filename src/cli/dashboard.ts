/**
 * `sgsync dashboard`: the fleet in a browser, served from this process on
 * localhost by default. Read-only unless started with --allow-apply.
 */
import { listenError } from '../http/listen.js';
import type { Command } from 'commander';
import { AuditLog } from '../controller/audit.js';
import { messageOf } from '../core/errors.js';
import { readAuditTail, reportingOnce } from '../dashboard/activity.js';
import { createDashboard } from '../dashboard/app.js';
import { loadFleetView } from '../dashboard/fleet-source.js';
import { FleetState } from '../dashboard/fleet-state.js';
import { RecentChanges, reconcileNow } from '../dashboard/reconcile-now.js';
import { loopbackHosts, serveDashboard } from '../dashboard/serve.js';
import { awsContext, type AwsCliOptions, withAwsConnection } from './aws-context.js';
import { numberIn } from './options.js';
import { parse } from './sandbox.js';
import { untilSignal } from './signals.js';

interface DashboardCliOptions extends AwsCliOptions {
  host: string;
  port: number;
  allowApply?: boolean;
  refresh: number;
  auditLog?: string;
}

export function addDashboardCommand(program: Command): void {
  withAwsConnection(program.command('dashboard'))
    .summary('Serve a web dashboard of the fleet (read-only unless --allow-apply)')
    .description('Serve the Fleet, Targets, Drift and Activity pages on localhost. Pages refresh themselves; everything is served from this process.')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on; 0 picks a free one', parse.port, 8080)
    .option('--allow-apply', 'add a "Reconcile now" button (a POST guarded by a per-process token and an Origin check)')
    .option('--refresh <seconds>', 'how often pages refresh and the fleet is read again; 0: pages do not refresh themselves, and loading one reads the fleet again when the last read is a second old', numberIn('--refresh', 0, 3600, true), 10)
    .option('--audit-log <file>', 'the audit log to show on the Activity page (and to append to with --allow-apply)')
    .action(async (options: DashboardCliOptions) => {
      const { loaded, ec2 } = await awsContext(options);
      const recent = new RecentChanges();
      const audit = options.allowApply ? AuditLog.open({ file: options.auditLog, deployment: loaded.config.deployment, actor: 'dashboard' }) : undefined;
      const state = new FleetState({
        load: () => loadFleetView({ config: loaded, ec2 }),
        reconcile: options.allowApply ? reconcileNow({ config: loaded, ec2, audit, recent }) : undefined,
        maxAgeMs: Math.max(1, options.refresh) * 1000,
      });
      const app = createDashboard({
        state,
        refreshSeconds: options.refresh,
        // The Activity page shows why the log cannot be read; stderr hears it once, not at every poll.
        activity: reportingOnce(
          () => (options.auditLog ? readAuditTail(options.auditLog) : Promise.resolve(recent.list())),
          (message) => process.stderr.write(`sgsync dashboard: ${message}\n`),
        ),
        activitySource: options.auditLog ?? 'changes made from this dashboard',
        allowedHosts: loopbackHosts(options.host),
      });
      const served = await serveDashboard(app, { host: options.host, port: options.port }).catch((e: unknown) => {
        throw listenError(e, options.host, options.port, '--port');
      });
      process.stdout.write(`sgsync dashboard listening on ${served.url}${options.allowApply ? ' (reconcile allowed)' : ' (read-only)'}\n`);
      // Read the fleet once up front, so the first page opens quickly.
      state.refresh().catch((e: unknown) => process.stderr.write(`sgsync dashboard: reading the fleet failed: ${messageOf(e)}\n`));
      await untilSignal();
      await served.close();
      audit?.close();
      ec2.clients.destroy();
      process.exit(0);
    });
}
