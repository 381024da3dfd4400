/**
 * `sgsync controller run`: the controller as a long-running daemon — a pass
 * every interval, backoff on failure, /healthz and /metrics on a local port,
 * and a clean stop on SIGTERM (the pass under way starts no further change,
 * its calls in flight land and are audited).
 */
import { listenError } from '../http/listen.js';
import type { Command } from 'commander';
import { AuditLog } from '../controller/audit.js';
import { healthOf, startHealthServer, type RunningHealthServer } from '../controller/health-server.js';
import { runLoop } from '../controller/loop.js';
import { ControllerMetrics } from '../controller/metrics.js';
import { controllerPass, type ControllerPassResult } from '../controller/pass.js';
import { summarizePass } from '../controller/pass-summary.js';
import { buildReport, passTimings } from '../controller/report.js';
import { logPassWarnings, WarningLog } from '../controller/warning-log.js';
import { isSgsyncError, messageOf } from '../core/errors.js';
import { awsContext, callCounts, type AwsCliOptions, withAwsConnection } from './aws-context.js';
import { logLevelOption, numberIn } from './options.js';
import { stopPassOnSignals, type PassStop } from './signals.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { createLogger, roundLogger } from './logger.js';
import { passExitCode } from './pass-report.js';

interface RunOptions extends AwsCliOptions {
  interval?: number;
  metricsPort?: number;
  metricsHost: string;
  once?: boolean;
  auditLog?: string;
  json?: boolean;
  logLevel: string;
}

async function run(options: RunOptions): Promise<void> {
  const log = createLogger({ level: options.logLevel });
  // First, so that a stop asked for while the rest starts up is handled as documented (no pass then runs).
  const stop = new AbortController();
  // systemd's TimeoutStopSec is no time for a whole pass: a stop ends the pass under way between calls.
  const stopping = stopPassOnSignals(log, 'stopping: the pass under way starts no further change, its calls in flight finish (a second signal stops at once)', () => stop.abort());
  const { shouldStop } = stopping;
  const { loaded, ec2 } = await awsContext(options);
  for (const w of loaded.warnings) log.warn(w);
  const controller = loaded.config.controller;
  const intervalMs = (options.interval ?? controller.intervalSeconds) * 1000;
  // The most the schedule adds to an interval (never more than the interval itself).
  const jitterMs = Math.min(controller.jitterSeconds * 1000, intervalMs);
  const metrics = new ControllerMetrics();
  const audit = AuditLog.open({ file: options.auditLog, deployment: loaded.config.deployment });

  let server: RunningHealthServer | undefined;
  const port = options.metricsPort ?? controller.metricsPort;
  if (port !== undefined && !options.once) {
    server = await startHealthServer({
      host: options.metricsHost,
      port,
      health: () => healthOf(metrics, Date.now(), intervalMs, jitterMs),
      metrics: () => metrics.render(Date.now(), ec2.clients.stats.entries(), ec2.clients.stats.pacing()),
    }).catch((e: unknown) => {
      throw listenError(e, options.metricsHost, port, options.metricsPort !== undefined ? '--metrics-port' : 'controller.metricsPort');
    });
    process.stderr.write(`metrics on ${server.url}\n`);
  }

  let last: { result?: ControllerPassResult; error?: unknown } = {};
  const warnings = new WarningLog();
  const pass = async (): Promise<boolean> => {
    const startedAtMs = Date.now();
    try {
      // The pass's audit lines reach the disk before the pass is reported (once per pass; see AuditLog.afterPass).
      const passing = controllerPass({ config: loaded, ec2, apply: true, shouldStop, onChange: (c) => audit.record(c, c.passId), onRound: roundLogger(log) });
      const result = await audit.afterPass(passing, (m) => log.error(m));
      const summary = summarizePass(result);
      metrics.recordPass(result, summary, { startedAtMs, finishedAtMs: Date.now() });
      last = { result };
      const { passId, added, revoked, blocked, kept, problems } = summary;
      const fields = { passId, added, revoked, blocked, kept, durationMs: Date.now() - startedAtMs, timings: passTimings(result) };
      logPassWarnings(log, warnings, result, { passId });
      if (summary.ok) log.info(fields, `pass done: ${added} added, ${revoked} revoked`);
      else log.warn({ ...fields, problems }, `pass done with problems: ${problems.join('; ')}`);
      return summary.ok;
    } catch (e) {
      metrics.recordFailure({ startedAtMs, finishedAtMs: Date.now() });
      last = { error: e };
      throw e;
    }
  };

  try {
    const end = await runLoop({
      pass,
      intervalMs,
      jitterMs,
      signal: stop.signal,
      once: options.once,
      onError: (e) => log.error({ code: isSgsyncError(e) ? e.code : 'INTERNAL' }, `pass failed: ${messageOf(e)}`),
      onWait: (ms, failures) => log.debug({ waitMs: ms, failures }, failures ? 'backing off' : 'waiting for the next pass'),
    });
    if (options.once) finishOnce(options, last, callCounts(ec2), loaded.targets, stopping);
    else log.info({ passes: end.passes }, 'controller stopped');
  } finally {
    audit.close();
    await server?.close();
    ec2.clients.destroy();
  }
}

/** `--once`: the pass's summary on stdout and the exit code `sgsync reconcile` would give. */
function finishOnce(
  options: RunOptions,
  last: { result?: ControllerPassResult; error?: unknown },
  calls: Record<string, number>,
  targets: Parameters<typeof buildReport>[2],
  stopping: PassStop,
): void {
  if (!last.result) {
    const e = last.error;
    process.exitCode = isSgsyncError(e) ? exitCodeFor(e.code) : EXIT.FAILURE;
    return;
  }
  const summary = { ...summarizePass(last.result), calls };
  const text = `pass ${summary.passId}: ${summary.added} added, ${summary.revoked} revoked, ${summary.blocked} blocked${summary.ok ? '' : `; ${summary.problems.join('; ')}`}`;
  process.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : `${text}\n`);
  // As `sgsync reconcile` would: a pass a signal cut short exits as the signal would have ended it.
  const signalled = stopping.exitCode();
  process.exitCode = last.result.stopped !== undefined && signalled !== undefined ? signalled : passExitCode(buildReport('reconcile', last.result, targets, calls));
}

export function addControllerCommand(program: Command): void {
  const controller = program.command('controller').description('Run the controller: reconcile every target against the fleet of every region, continuously');
  withAwsConnection(controller.command('run'))
    .description('Run a pass every interval (with jitter), back off after a failure, serve /healthz and /metrics on a local port; SIGTERM stops once the calls under way have landed')
    .option('--interval <seconds>', 'time between passes (default: controller.intervalSeconds)', numberIn('--interval', 1, 86_400, false))
    .option('--metrics-port <port>', 'serve /healthz and /metrics on this port; 0 picks a free one (default: controller.metricsPort, else none)', numberIn('--metrics-port', 0, 65_535, true))
    .option('--metrics-host <host>', 'address for /healthz and /metrics (0.0.0.0 to let a scraper in from outside)', '127.0.0.1')
    .option('--once', 'run one pass and exit with the code `sgsync reconcile` would give')
    .option('--audit-log <file>', 'append the audit log (JSON lines, one per change) to this file instead of stderr')
    .option('--json', 'with --once: print the pass summary as JSON')
    .addOption(logLevelOption())
    .addHelpText(
      'after',
      '\nOnce the metrics server listens, "metrics on http://HOST:PORT" is printed on stderr.\n' +
        '/healthz answers 200 while a pass has succeeded within the last two intervals (each with its jitter), else 503 with the reason.\n' +
        'A stop (SIGTERM, SIGINT) cuts the pass under way short (its calls in flight land and are audited) and exits 0; a second one stops at once with 130. See docs/metrics.md.',
    )
    .action((options: RunOptions) => run(options));
}
