/**
 * `sgsync dashboard`: the fleet in a browser, served from this process on
 * localhost by default. Read-only unless started with --allow-apply.
 */
import { listenError } from '../http/listen.js';
import { InvalidArgumentError, type Command } from 'commander';
import { AuditLog } from '../controller/audit.js';
import { messageOf } from '../core/errors.js';
import { readAuditTail, reportingOnce } from '../dashboard/activity.js';
import { createDashboard } from '../dashboard/app.js';
import { loadFleetView } from '../dashboard/fleet-source.js';
import { FleetState } from '../dashboard/fleet-state.js';
import { RecentChanges, reconcileNow } from '../dashboard/reconcile-now.js';
import { serveDashboard } from '../dashboard/serve.js';
import { allowedHostsFor, hostEntry } from '../http/allowed-hosts.js';
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
  allowedHost?: string[];
}

/** `--allowed-host`, repeatable: each a host name or address, as the browser's address bar shows it. */
function allowedHostOption(value: string, previous: string[] = []): string[] {
  const entry = hostEntry(value);
  if (entry === undefined) {
    throw new InvalidArgumentError(`"${value}" is not a host name or address; give the name as the browser's address bar shows it, without scheme, port or path, such as dash.example.com (every port is accepted).`);
  }
  return [...previous, entry];
}

export function addDashboardCommand(program: Command): void {
  withAwsConnection(program.command('dashboard'))
    .summary('Serve a web dashboard of the fleet (read-only unless --allow-apply)')
    .description('Serve the Fleet, Targets, Drift and Activity pages on localhost. Pages refresh themselves; everything is served from this process.')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--allowed-host <name>', 'also answer to this host name (a reverse proxy\'s, say); repeatable. Without it only the address it listens on is answered (on loopback: 127.0.0.1, localhost and [::1]; on 0.0.0.0 or ::, those and any IP address), so that a web page cannot reach it by DNS rebinding', allowedHostOption)
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
        allowedHosts: allowedHostsFor(options.host, options.allowedHost ?? []),
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
