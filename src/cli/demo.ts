import { isAbsolute, relative, sep } from 'node:path';
import type { Command } from 'commander';
import { AuditLog } from '../controller/audit.js';
import { readAuditTail } from '../dashboard/activity.js';
import { createDashboard } from '../dashboard/app.js';
import { loadFleetView } from '../dashboard/fleet-source.js';
import { FleetState } from '../dashboard/fleet-state.js';
import { reconcileNow } from '../dashboard/reconcile-now.js';
import { serveDashboard, type ServedDashboard } from '../dashboard/serve.js';
import { UsageHistory } from '../dashboard/usage-history.js';
import { allowedHostsFor } from '../http/allowed-hosts.js';
import type { World } from '../sandbox/world.js';
import { playDemoStory, type DemoStory } from './demo-story.js';
import { openSandbox, parse, stopAndExit, type OpenedSandbox } from './sandbox.js';
import { untilSignal } from './signals.js';

export interface DemoOptions {
  host: string;
  port: number;
  dashboardPort: number;
  dir: string;
  seed: number;
}

const STATES = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'] as const;

/** What the demo world holds and how to reach it, as lines for a terminal. */
export function describeDemo(world: World, url: string): string {
  const lines: string[] = [`sgsync demo: sandbox running at ${url} (account ${world.accountId})`, ''];
  const enabled = [...world.regions.values()].filter((r) => r.optInStatus !== 'not-opted-in');

  lines.push('Security groups (besides each region\'s default):');
  for (const region of enabled) {
    for (const g of region.groups.values()) {
      if (g.name === 'default') continue;
      const rules = [...g.ruleIds].map((id) => region.rules.get(id)).filter((r) => r && !r.isEgress);
      const open = rules.filter((r) => r!.cidrIpv4 === '0.0.0.0/0' || r!.cidrIpv6 === '::/0').length;
      const note = open > 0 ? `, ${open} open to the world` : '';
      lines.push(`  ${region.name.padEnd(15)} ${g.id}  ${g.name.padEnd(18)} ${rules.length} inbound rule${rules.length === 1 ? '' : 's'}${note}`);
    }
  }

  lines.push('', 'Instances:');
  const used = STATES.filter((s) => enabled.some((r) => [...r.instances.values()].some((i) => i.state === s)));
  lines.push(`  ${'region'.padEnd(15)} ${used.map((s) => s.padStart(8)).join(' ')}   total`);
  for (const region of enabled) {
    const all = [...region.instances.values()];
    if (all.length === 0) continue;
    const counts = used.map((s) => String(all.filter((i) => i.state === s).length).padStart(8));
    lines.push(`  ${region.name.padEnd(15)} ${counts.join(' ')}   ${String(all.length).padStart(5)}`);
  }
  const someInstance = enabled.flatMap((r) => [...r.instances.values()]).find((i) => i.state === 'running');

  lines.push(
    '',
    'Point the AWS CLI at it (any credentials work):',
    '  export AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox AWS_EC2_METADATA_DISABLED=true',
    `  aws ec2 describe-instances --endpoint-url ${url} --region eu-west-1`,
    `  aws ec2 describe-security-groups --endpoint-url ${url} --region us-east-1`,
    '',
    'Or the SDK (@aws-sdk/client-ec2):',
    `  new EC2Client({ region: 'eu-west-1', endpoint: '${url}', credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } })`,
  );
  if (someInstance) {
    lines.push('', 'An instance\'s metadata service (IMDSv2):', `  AWS_EC2_METADATA_SERVICE_ENDPOINT=${url}/imds/${someInstance.id}/`);
  }
  lines.push('', `Control API: curl ${url}/_sandbox/health   (see docs/sandbox.md)`, '');
  return lines.join('\n');
}

/** Serves the dashboard on the given port, or on a free one when that port is taken. */
async function serveOnPort(app: Parameters<typeof serveDashboard>[0], host: string, port: number): Promise<ServedDashboard> {
  try {
    return await serveDashboard(app, { host, port });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw e;
    return serveDashboard(app, { host, port: 0 });
  }
}

/**
 * How to run this sgsync from the directory the demo was started in:
 * `npx sgsync` from a clone's root (where `npm run demo` runs it), else
 * node and the script's own path, which works from anywhere.
 */
export function selfCommand(script: string | undefined, cwd: string): string {
  if (script === undefined) return 'sgsync';
  const where = relative(cwd, script).split(sep).join('/');
  return where === 'dist/bin/sgsync.js' ? 'npx sgsync' : `node ${shellWord(isAbsolute(where) || where.startsWith('../') ? script : where)}`;
}

/** `text` as one word of a POSIX shell command line: as it is when it is plain, else in single quotes. */
export function shellWord(text: string): string {
  return /^[\w./:@%+=,-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

export interface RunningDemo extends OpenedSandbox {
  story: DemoStory;
  dashboard: ServedDashboard;
}

/**
 * Starts the whole demo in this process: a sandbox with the demo fleet, the
 * story (agents, controller, a crash, a stop/start, a full pool, cleanup),
 * and the dashboard over it with "Reconcile now" enabled; then prints what
 * is there and what happened.
 */
export async function startDemo(options: DemoOptions, out: (text: string) => void = (t) => process.stdout.write(t)): Promise<RunningDemo> {
  // Every AWS call of the demo goes to the local sandbox, which accepts any credentials.
  process.env.AWS_ACCESS_KEY_ID = 'sandbox';
  process.env.AWS_SECRET_ACCESS_KEY = 'sandbox';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  const opened = await openSandbox({ host: options.host, port: options.port, seed: options.seed, demo: true, throttle: { kind: 'off' } });
  // Usage is sampled after every step of the story, so the Targets chart shows the pool filling up.
  const history = new UsageHistory();
  const story = await playDemoStory(opened.running, options.dir, async (config, ec2) => {
    history.record(Date.now(), (await loadFleetView({ config, ec2 })).plan.capacity);
  });
  const { config, ec2 } = story;
  const state = new FleetState({
    history,
    load: () => loadFleetView({ config, ec2 }),
    reconcile: reconcileNow({ config, ec2, audit: AuditLog.open({ file: story.auditFile, deployment: config.config.deployment, actor: 'dashboard' }) }),
    maxAgeMs: 5000,
  });
  await state.refresh();
  const app = createDashboard({
    state,
    refreshSeconds: 5,
    activity: () => readAuditTail(story.auditFile),
    activitySource: story.auditFile,
    allowedHosts: allowedHostsFor(options.host),
  });
  const dashboard = await serveOnPort(app, options.host, options.dashboardPort);
  const self = selfCommand(process.argv[1], process.cwd());
  out(describeDemo(opened.running.sandbox.world, opened.running.url));
  out(
    [
      'What happened:',
      ...story.lines.map((l) => `  - ${l}`),
      '',
      `Config: ${story.configFile}`,
      `Audit log: ${story.auditFile}`,
      'Look at it from another terminal, in this directory (the sandbox takes any credentials):',
      '  export AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox',
      `  ${self} inventory -c ${shellWord(story.configFile)}`,
      `  ${self} status -c ${shellWord(story.configFile)} --audit-log ${shellWord(story.auditFile)}`,
      `  ${self} plan -c ${shellWord(story.configFile)}`,
      '',
      `sgsync dashboard listening on ${dashboard.url}  (open it in a browser; "Reconcile now" is on the Drift page)`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  return {
    ...opened,
    story,
    dashboard,
    stop: async () => {
      await dashboard.close();
      ec2.clients.destroy();
      await opened.stop();
    },
  };
}

/** Adds `sgsync demo`. */
export function addDemoCommand(program: Command): void {
  program
    .command('demo')
    // Usage errors must reach runCli as exceptions so they get the documented exit code.
    .exitOverride()
    .summary('Run the whole system against a local sandbox, with a dashboard')
    .description(
      'Start the sandbox in this process with the demo fleet (a primary security-group pool in us-east-1, workers and API servers ' +
        'in eu-west-1, ap-southeast-2, us-west-2 and sa-east-1); admit some instances with agents and the rest with the controller; ' +
        'crash one, stop and start another, outgrow the pool, let the controller clean up; then serve the dashboard, print its URL ' +
        'and what happened, and run until Ctrl-C. Writes its config and audit log to --dir.',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'sandbox port; 0 (the default) picks a free port', parse.port, 0)
    .option('--dashboard-port <port>', 'dashboard port (a free one if it is taken)', parse.port, 8080)
    .option('--dir <dir>', 'where to write the config and the audit log', '.sgsync-demo')
    .option('--seed <n>', 'seed for ids and addresses', parse.seed, 1)
    .action(async (options: DemoOptions) => {
      const demo = await startDemo(options);
      await untilSignal();
      await stopAndExit(demo);
    });
}
