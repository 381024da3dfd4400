import type { Command } from 'commander';
import type { RunningSandbox } from '../sandbox/server.js';
import type { World } from '../sandbox/world.js';
import { openSandbox, parse, stopAndExit, untilSignal, type OpenedSandbox } from './sandbox.js';

export interface DemoOptions {
  host: string;
  port: number;
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
  lines.push('', `Control API: curl ${url}/_sandbox/health   (see docs/sandbox.md)`, 'Press Ctrl-C to stop.', '');
  return lines.join('\n');
}

/**
 * Starts the demo: a sandbox with the demo fleet, in-process, and prints what
 * is there. Returns the running sandbox so that later stages of the demo can
 * start more parts against it.
 */
export async function startDemo(options: DemoOptions, out: (text: string) => void = (t) => process.stdout.write(t)): Promise<OpenedSandbox & { running: RunningSandbox }> {
  const opened = await openSandbox({ host: options.host, port: options.port, seed: options.seed, demo: true, throttle: { kind: 'off' } });
  out(describeDemo(opened.running.sandbox.world, opened.running.url));
  return opened;
}

/** Adds `sgsync demo`. */
export function addDemoCommand(program: Command): void {
  program
    .command('demo')
    // Usage errors must reach runCli as exceptions so they get the documented exit code.
    .exitOverride()
    .summary('start a sandbox with a demo fleet and show how to use it')
    .description(
      'Start the sandbox in this process with the demo fleet (a primary security-group pool in us-east-1, workers and API servers ' +
        'in eu-west-1, ap-southeast-2, us-west-2 and sa-east-1), print what is there and how to point the AWS CLI or SDK at it, ' +
        'and run until Ctrl-C.',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on; 0 (the default) picks a free port', parse.port, 0)
    .option('--seed <n>', 'seed for ids and addresses', parse.seed, 1)
    .action(async (options: DemoOptions) => {
      const opened = await startDemo(options);
      await untilSignal();
      await stopAndExit(opened);
    });
}
