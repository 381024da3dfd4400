/**
 * The controller as an AWS Lambda function: a schedule runs a full pass, an
 * EC2 state-change event from any region runs a pass scoped to its instance.
 * Bundled to one file by `npm run build:lambda` (docs/lambda.md).
 */
import { createEc2Adapter, type Ec2Adapter } from '../aws/ec2-adapter.js';
import { createLogger, type Logger } from '../cli/logger.js';
import { loadConfig, parseConfig, type Env, type LoadedConfig } from '../config/index.js';
import { messageOf } from '../core/errors.js';
import { AuditLog } from './audit.js';
import { regionLeftOut } from './inventory.js';
import { parseLambdaEvent, type LambdaWork } from './lambda-event.js';
import { controllerPass } from './pass.js';
import { summarizePass, type PassSummary } from './pass-summary.js';
import { logPassWarnings, WarningLog } from './warning-log.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** What an invocation returns (and logs as its last line). */
export type LambdaSummary =
  | { ok: true; event: 'ignored'; reason: string }
  | (PassSummary & {
      event: 'schedule' | 'instance';
      instance?: { instanceId: string; region: string; state: string };
      durationMs: number;
      /** EC2 API attempts this invocation made, by action. */
      calls: Record<string, number>;
    });

export interface LambdaDeps {
  env?: Env;
  /** The adapter to use; default: one built from the configuration, kept for the container's life. */
  ec2?: Ec2Adapter;
  log?: Logger;
  /** Append audit lines to this file; default: stderr, which Lambda sends to CloudWatch Logs. */
  auditFile?: string;
  now?: () => number;
}

interface Context {
  loaded: LoadedConfig;
  ec2: Ec2Adapter;
}

/** What the handler reads of Lambda's context object. */
export interface LambdaInvocation {
  awsRequestId?: string;
  /** Milliseconds left before Lambda ends the invocation (the function's timeout). */
  getRemainingTimeInMillis?: () => number;
}

/**
 * How much of the function's time a pass keeps for the calls it has under
 * way when it stops starting new ones: Lambda ends an invocation at its
 * timeout mid-call, and a change that lands then has no audit line.
 *
 * Most calls answer in well under a second. A throttled one is retried by
 * the SDK after back-offs of at most 1, 2, 4, 8 s (jittered, doubling from
 * its throttling base of 1 s), so 20 s lets a call throttled four times in a
 * row still land, and leaves the summary time to be logged. The adapter's own
 * deadline per call (`CALL_TIMEOUT_MS`, 5 minutes with every retry) is longer
 * than the shortest timeout the template gives the function (60 s), so no
 * margin could wait out a call AWS keeps refusing: such a change may still be
 * cut off, and the next pass sees it as it sees any rule. 20 s is a third of
 * that shortest timeout; a function given less time keeps a third of it
 * instead (see `stopMargin`), so that it still has time to make changes.
 */
export const LAMBDA_STOP_MARGIN_MS = 20_000;

/** The margin for an invocation that had `remainingAtStart` ms when its pass began: `LAMBDA_STOP_MARGIN_MS`, or a third of the time when that is less. */
export function stopMargin(remainingAtStart: number): number {
  return Math.min(LAMBDA_STOP_MARGIN_MS, Math.floor(remainingAtStart / 3));
}

/**
 * The pass's `shouldStop` for an invocation: a reason once less time is left
 * than the margin, so that the pass ends (and the summary is logged) before
 * Lambda ends the invocation. Undefined when the context cannot tell.
 */
export function deadlineStop(context: LambdaInvocation | undefined): (() => string | undefined) | undefined {
  const remaining = context?.getRemainingTimeInMillis?.bind(context);
  if (!remaining) return undefined;
  const margin = stopMargin(remaining());
  return () => {
    const left = remaining();
    return left < margin ? `the function's time limit is near (${(left / 1000).toFixed(1)} s left; ${margin / 1000} s are kept for the calls under way)` : undefined;
  };
}

/**
 * The configuration: `SGSYNC_CONFIG_YAML` (the YAML itself, handy for a
 * function configured by a template) wins over `SGSYNC_CONFIG` (a path,
 * relative to the function's root), else `sgsync.yaml` bundled beside the
 * handler. The endpoint: the config's `aws.endpoint` (or
 * `SGSYNC_ENDPOINT`), else `AWS_ENDPOINT_URL`, else AWS.
 */
export async function lambdaContext(env: Env): Promise<Context> {
  const inline = env.SGSYNC_CONFIG_YAML;
  const loaded = inline ? parseConfig(inline, '$SGSYNC_CONFIG_YAML', env) : await loadConfig({ env, cwd: env.LAMBDA_TASK_ROOT ?? process.cwd() });
  // The handler's env may be given, not the process's, so the SDK would not see its AWS_ENDPOINT_URL.
  return { loaded, ec2: createEc2Adapter({ config: loaded, endpoint: loaded.config.aws.endpoint ?? (env.AWS_ENDPOINT_URL || undefined) }) };
}

function callTotals(ec2: Ec2Adapter): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of ec2.clients.stats.entries()) out.set(e.action, (out.get(e.action) ?? 0) + e.count);
  return out;
}

/**
 * Builds a handler. The configuration and clients are made on the first
 * invocation and reused while the container lives (a failed load is retried
 * next time). A pass that could not run throws, so Lambda counts an error
 * and retries the event; a pass that ran with problems (a region that could
 * not be listed, a blast-radius halt, a pass cut short as the function's
 * time limit neared) returns `ok: false` and logs them at error level,
 * because retrying the same event would meet the same facts.
 * The passes' warnings are logged as the daemon logs them (`logPassWarnings`):
 * once each while the container lives.
 */
export function createHandler(deps: LambdaDeps = {}): (event: unknown, context?: LambdaInvocation) => Promise<LambdaSummary> {
  const env = deps.env ?? process.env;
  const log = deps.log ?? createLogger({ format: 'json' });
  const now = deps.now ?? Date.now;
  let ready: Promise<Context> | undefined;
  // Held while the container lives, as the handler is: a warm container logs a warning once, not at every
  // invocation; a cold start logs again whatever its first pass warns of.
  const warnings = new WarningLog();
  let configWarned = false;

  return async (event, context) => {
    const work: LambdaWork = parseLambdaEvent(event);
    const requestId = context?.awsRequestId;
    if (work.kind === 'ignored') {
      log.warn({ requestId, reason: work.reason }, 'event ignored');
      return { ok: true, event: 'ignored', reason: work.reason };
    }
    ready ??= lambdaContext(env).then((c) => (deps.ec2 ? { ...c, ec2: deps.ec2 } : c));
    let ctx: Context;
    try {
      ctx = await ready;
    } catch (e) {
      ready = undefined;
      throw e;
    }
    // The configuration's warnings come with it: once per container, as it is loaded once.
    if (!configWarned) for (const w of ctx.loaded.warnings) log.warn({ requestId }, w);
    configWarned = true;
    // An instance in a region no pass lists can be no member: its event is no work, not a call to a region that may
    // not even be enabled (a failed invocation would be retried for nothing). The scheduled pass still covers it.
    const outside = work.kind === 'instance' ? regionLeftOut(ctx.loaded, work.region) : undefined;
    if (outside) {
      log.warn({ requestId, reason: outside }, 'event ignored');
      return { ok: true, event: 'ignored', reason: outside };
    }
    const before = callTotals(ctx.ec2);
    const started = now();
    const instance = work.kind === 'instance' ? { instanceId: work.instanceId, region: work.region } : undefined;
    const audit = AuditLog.open({ file: deps.auditFile, deployment: ctx.loaded.config.deployment, actor: 'lambda', now });
    try {
      const shouldStop = deadlineStop(context);
      // The audit file's lines reach the disk before the summary is logged (once per pass; see AuditLog.afterPass).
      const passing = controllerPass({ config: ctx.loaded, ec2: ctx.ec2, apply: true, instance, now, shouldStop, onChange: (c) => audit.record(c, c.passId) });
      const result = await audit.afterPass(passing, (m) => log.error({ requestId }, m));
      const calls: Record<string, number> = {};
      for (const [action, n] of callTotals(ctx.ec2)) if (n > (before.get(action) ?? 0)) calls[action] = n - (before.get(action) ?? 0);
      const summary: LambdaSummary = {
        // A pass cut short by the time limit returns, not throws: a retry of the event would meet the same limit.
        ...summarizePass(result, 'the next invocation'),
        event: work.kind,
        ...(work.kind === 'instance' ? { instance: { instanceId: work.instanceId, region: work.region, state: work.state } } : {}),
        durationMs: now() - started,
        calls,
      };
      logPassWarnings(log, warnings, result, { requestId, passId: result.passId });
      if (summary.ok) log.info({ requestId, ...summary }, 'pass done');
      else log.error({ requestId, ...summary }, `pass done with problems: ${summary.problems.join('; ')}`);
      return summary;
    } catch (e) {
      log.error({ requestId, event: work.kind, ...(instance ?? {}), err: messageOf(e) }, 'pass failed');
      throw e;
    } finally {
      audit.close();
    }
  };
}

/** The Lambda entry point (`index.handler` in the bundle). */
export const handler = createHandler();
