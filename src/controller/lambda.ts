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
 * not be listed, a blast-radius halt) returns `ok: false` and logs them at
 * error level, because retrying the same event would meet the same facts.
 * The passes' warnings are logged as the daemon logs them (`logPassWarnings`):
 * once each while the container lives.
 */
export function createHandler(deps: LambdaDeps = {}): (event: unknown, context?: { awsRequestId?: string }) => Promise<LambdaSummary> {
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
      const result = await controllerPass({ config: ctx.loaded, ec2: ctx.ec2, apply: true, instance, now, onChange: (c) => audit.record(c, c.passId) });
      const calls: Record<string, number> = {};
      for (const [action, n] of callTotals(ctx.ec2)) if (n > (before.get(action) ?? 0)) calls[action] = n - (before.get(action) ?? 0);
      const summary: LambdaSummary = {
        ...summarizePass(result),
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
