import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { deregisterOutcome } from '../agent/deregister.js';
import { registerOutcome } from '../agent/register.js';
import { agentStatus } from '../agent/status.js';
import { watch } from '../agent/watch.js';
import { addressesText, type AgentDeps } from '../agent/agent-pass.js';
import { Imds } from '../aws/imds.js';
import { redactSecrets } from '../aws/secrets.js';
import { loadConfig } from '../config/index.js';
import type { SgsyncError } from '../core/errors.js';
import { changeCounts, type AppliedChange } from '../core/reconcile.js';
import { cloudInit } from '../deploy/cloud-init.js';
import { systemdUnit } from '../deploy/systemd-unit.js';
import { awsContext, callCounts, type AwsCliOptions, withAwsConnection } from './aws-context.js';
import { logLevelOption, numberIn } from './options.js';
import { onStopSignals } from './signals.js';
import { START_LIMIT_MS, systemdNotifier, systemdNotify } from './systemd-notify.js';
import { EXIT } from './exit-codes.js';
import { createLogger, roundLogger, type Logger } from './logger.js';
import { printable, renderTable } from './table.js';

interface AgentCliOptions extends AwsCliOptions {
  json?: boolean;
  logLevel?: string;
}

function withAwsOptions(cmd: Command): Command {
  return withAwsConnection(cmd)
    .option('--json', 'print the result as JSON on stdout')
    .addOption(logLevelOption());
}

/** What every agent command runs with: the agent's dependencies, its logger, and the calls it made so far. */
async function agentContext(options: AgentCliOptions, log = createLogger({ level: options.logLevel })): Promise<{ deps: AgentDeps; log: Logger; counts: () => Record<string, number> }> {
  const ctx = await awsContext(options, (loaded) => loaded.config.agent.retries + 1);
  for (const w of ctx.loaded.warnings) log.warn(w);
  return {
    deps: {
      config: ctx.loaded,
      ec2: ctx.ec2,
      instance: new Imds(),
      now: Date.now,
      onChange: (c: AppliedChange) => log.info({ ...c }, `${c.action} ${c.cidr ?? ''} in ${c.groupId}`),
      onWarning: (w: string) => log.warn(w),
      onRound: roundLogger(log),
    },
    log,
    counts: () => callCounts(ctx.ec2),
  };
}

/** An instance as the first line of a result names it: id, region and addresses. */
function instanceText(self: { instanceId: string; region: string } & Parameters<typeof addressesText>[0]): string {
  return `${self.instanceId} (${self.region}, ${addressesText(self)})`;
}

function summary(changes: readonly AppliedChange[]): string {
  const { added, revoked } = changeCounts(changes);
  if (added + revoked === 0) return 'nothing to change';
  return [added ? `added ${added} rule${added === 1 ? '' : 's'}` : '', revoked ? `removed ${revoked} rule${revoked === 1 ? '' : 's'}` : '']
    .filter(Boolean)
    .join(', ');
}

function print(options: AgentCliOptions, json: unknown, text: string): void {
  process.stdout.write(options.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
}

/**
 * Prints a pass's result, then throws what stopped it short, if anything
 * (its exit code and message on stderr follow). With --json the result is
 * printed either way, with the `error` beside it: the pass changed what it
 * could, and a script reading stdout must see that too.
 */
function printOutcome(options: AgentCliOptions, json: Record<string, unknown>, text: string, problem: SgsyncError | undefined): void {
  if (!problem) return print(options, json, text);
  if (options.json) print(options, { ...json, error: { code: problem.code, message: redactSecrets(problem.message) } }, text);
  throw problem;
}

export function addAgentCommand(program: Command): void {
  const agent = program
    .command('agent')
    .description('Run on an instance: admit it to the security groups of its targets, and remove it when it goes')
    .addHelpText(
      'after',
      '\nThe agent reads the instance from IMDSv2 (set AWS_EC2_METADATA_SERVICE_ENDPOINT to use another metadata service).\nExit codes: see docs/exit-codes.md.',
    );

  withAwsOptions(agent.command('register'))
    .description("Add this instance's rules to every target that selects it; replace rules with an old address")
    .option('--wait', 'return only once the rules are observable in AWS (up to agent.waitSeconds)')
    .action(async (options: AgentCliOptions & { wait?: boolean }) => {
      const { deps: d, counts } = await agentContext(options);
      const { result, problem } = await registerOutcome(d, { wait: options.wait });
      const s = result.self;
      const where = instanceText(s);
      const text =
        result.targets.length === 0
          ? `${where}: no target selects this instance; nothing to do`
          : `${where} registered in ${result.targets.join(', ')}: ${summary(result.changes)}`;
      printOutcome(options, { instanceId: s.instanceId, region: s.region, targets: result.targets, changes: result.changes, calls: counts() }, text, problem);
    });

  withAwsOptions(agent.command('deregister'))
    .description("Remove every rule of this instance from every target (whatever its address)")
    .action(async (options: AgentCliOptions) => {
      const { deps: d, counts } = await agentContext(options);
      const { result, problem } = await deregisterOutcome(d);
      printOutcome(
        options,
        { instanceId: result.self.instanceId, changes: result.changes, calls: counts() },
        `${result.self.instanceId} deregistered: ${summary(result.changes)}`,
        problem,
      );
    });

  withAwsOptions(agent.command('watch'))
    .description('Register, then deregister on a spot interruption notice, on Auto Scaling lifecycle state Terminated, or on SIGTERM/SIGINT; register again when the address changes or its tags change which targets select it')
    .option('--poll-seconds <n>', 'how often to poll, in whole seconds (default: agent.pollSeconds)', numberIn('--poll-seconds', 1, 3600, true))
    .option('--notify-systemd', `tell systemd the service is ready once the first registration attempt is over (asking for more start time while it runs, up to ${START_LIMIT_MS / 60_000} minutes), and what is not yet right (Type=notify units)`)
    .action(async (options: AgentCliOptions & { pollSeconds?: number; notifySystemd?: boolean }) => {
      // Made first, so that its extensions of the start timeout count from as near the start as can be.
      const notifier = options.notifySystemd && process.env.NOTIFY_SOCKET ? systemdNotifier({ send: systemdNotify }) : undefined;
      const log = createLogger({ level: options.logLevel });
      // Before the rest starts up, so that a stop asked for meanwhile is handled as documented.
      const stop = new AbortController();
      onStopSignals(log, 'this instance may keep rules it was removing', (signal) => {
        log.info({ signal }, 'signal received: deregistering (a second signal stops at once)');
        notifier?.stop();
        stop.abort();
      });
      const { deps: d } = await agentContext(options, log);
      const end = await watch(d, {
        pollMs: (options.pollSeconds ?? d.config.config.agent.pollSeconds) * 1000,
        signal: stop.signal,
        log,
        onStatus: notifier?.status,
      });
      print(options, { ended: end }, `watch ended: ${end}`);
    });

  withAwsOptions(agent.command('status'))
    .description("Show this instance's rules per target, the group each is in, and the room left in each pool")
    .action(async (options: AgentCliOptions) => {
      const { deps: d } = await agentContext(options);
      const st = await agentStatus(d);
      const rules = renderTable(
        ['target', 'group', 'rule', 'protocol', 'ports', 'cidr'],
        st.rules.map((r) => [r.target, r.retired ? `${r.groupId} (retired)` : r.groupId, r.ruleId, r.protocol, r.fromPort === r.toPort ? r.fromPort : `${r.fromPort}-${r.toPort}`, r.cidr]),
      );
      const capacity = renderTable(
        ['target', 'group', 'family', 'used', 'quota', 'left'],
        st.capacity.map((c) => [c.target, c.groupId, c.family, c.before, c.quota, Math.max(0, c.quota - c.before)]),
      );
      const head = `${instanceText(st)} — targets: ${st.targets.join(', ') || 'none'}${st.drift ? ' — a register would change something' : ''}`;
      const problems = st.problems.length ? `\nNeeds attention:\n${st.problems.map((p) => `  - ${printable(p)}`).join('\n')}\n` : '';
      print(options, st, `${head}\n\n${st.rules.length ? rules : 'No rules for this instance.\n'}\n${capacity}${problems}`);
      if (st.drift || st.problems.length > 0) process.exitCode = EXIT.CHANGES_PENDING;
    });

  agent
    .command('systemd-unit')
    .description('Print a systemd unit that registers on boot (ready once the first attempt is over) and deregisters on stop')
    .option('--binary <path>', 'absolute path of sgsync on the instance', '/usr/local/bin/sgsync')
    .option('--config-path <path>', 'absolute path of sgsync.yaml on the instance', '/etc/sgsync/sgsync.yaml')
    .option('--before <unit...>', 'services that need the rule; the agent starts before them')
    .action((options: { binary: string; configPath: string; before?: string[] }) => {
      process.stdout.write(systemdUnit({ binary: options.binary, configPath: options.configPath, before: options.before }));
    });

  agent
    .command('cloud-init')
    .description('Print #cloud-config user data that installs sgsync, writes the config and the unit, and starts the agent')
    .option('-c, --config <file>', 'the sgsync.yaml to install (default: $SGSYNC_CONFIG, then ./sgsync.yaml)')
    .option('--package <spec>', 'npm package spec to install', 'sgsync')
    .option('--before <unit...>', 'services that need the rule; the agent starts before them')
    .option('--node-setup <command>', 'shell command that makes Node.js 20.19 or newer (and npm) available (default: the distribution\'s nodejs and npm, only when node is missing)')
    .action(async (options: { config?: string; package: string; before?: string[]; nodeSetup?: string }) => {
      const loaded = await loadConfig({ configPath: options.config, env: process.env });
      const text = await readFile(loaded.file, 'utf8');
      process.stdout.write(cloudInit({ config: text, packageSpec: options.package, before: options.before, nodeSetup: options.nodeSetup }));
    });
}
