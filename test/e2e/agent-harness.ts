import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  EC2Client,
  paginateDescribeSecurityGroupRules,
  RunInstancesCommand,
  type RunInstancesCommandInput,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import pLimit from 'p-limit';
import { startSandbox, type RunningSandbox, type StartSandboxOptions } from '../../src/sandbox/index.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** What one `sgsync` process did. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Lines of a process's stderr that a user would read as a problem: pino warn/error, or sgsync's own error line. */
export function problemLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter(Boolean)
    .filter((line) => {
      if (line.startsWith('sgsync:')) return true;
      try {
        return ((JSON.parse(line) as { level?: number }).level ?? 0) >= 40;
      } catch {
        return true;
      }
    });
}

/**
 * A sandbox with a target pool in us-east-1 and instances elsewhere, and the
 * means to run `sgsync agent …` as real processes on behalf of one instance
 * each (IMDS through `AWS_EC2_METADATA_SERVICE_ENDPOINT`).
 */
export class AgentFleet {
  readonly dir = mkdtempSync(join(tmpdir(), 'sgsync-agent-'));
  private readonly clients = new Map<string, EC2Client>();
  private readonly children = new Set<ChildProcess>();

  private constructor(readonly running: RunningSandbox) {}

  static async start(options: StartSandboxOptions = {}): Promise<AgentFleet> {
    return new AgentFleet(await startSandbox({ port: 0, host: '127.0.0.1', log: () => undefined, ...options }));
  }

  get url(): string {
    return this.running.url;
  }

  get sandbox(): RunningSandbox['sandbox'] {
    return this.running.sandbox;
  }

  ec2(region: string): EC2Client {
    let client = this.clients.get(region);
    if (!client) {
      client = new EC2Client({ region, endpoint: this.url, credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' }, maxAttempts: 1 });
      this.clients.set(region, client);
    }
    return client;
  }

  /** `count` empty security groups in a new VPC of `region`. */
  async groups(region: string, count: number): Promise<string[]> {
    const vpc = await this.ec2(region).send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const g = await this.ec2(region).send(new CreateSecurityGroupCommand({ GroupName: `pool-${i}`, Description: 'sgsync pool', VpcId: vpc.Vpc?.VpcId }));
      ids.push(g.GroupId ?? '');
    }
    return ids;
  }

  /** Launches `count` instances in `region` in one call, tagged as given. */
  async launch(region: string, count: number, tags: Record<string, string> = { role: 'worker' }, extra: Partial<RunInstancesCommandInput> = {}): Promise<string[]> {
    const out = await this.ec2(region).send(
      new RunInstancesCommand({
        ImageId: 'ami-0123456789abcdef0',
        InstanceType: 't3.micro',
        MinCount: count,
        MaxCount: count,
        TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
        ...extra,
      }),
    );
    return (out.Instances ?? []).map((i) => i.InstanceId ?? '');
  }

  /** Writes a config file and returns its path. */
  config(name: string, yaml: string): string {
    const file = join(this.dir, name);
    writeFileSync(file, yaml);
    return file;
  }

  /** Every inbound rule of the given groups, read through the API. */
  async rules(region: string, groupIds: readonly string[]): Promise<SecurityGroupRule[]> {
    const out: SecurityGroupRule[] = [];
    const pages = paginateDescribeSecurityGroupRules({ client: this.ec2(region), pageSize: 1000 }, { Filters: [{ Name: 'group-id', Values: [...groupIds] }] });
    for await (const page of pages) out.push(...(page.SecurityGroupRules ?? []).filter((r) => !r.IsEgress));
    return out;
  }

  /** Calls the sandbox answered in a region, by action and outcome. */
  counts(region: string, action: string): { calls: number; ok: number; failed: number; throttled: number; faulted: number } {
    return this.sandbox.counters.snapshot()[region]?.[action] ?? { calls: 0, ok: 0, failed: 0, throttled: 0, faulted: 0 };
  }

  /** The environment an agent process sees on `instanceId`. */
  env(instanceId: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: this.dir,
      AWS_ACCESS_KEY_ID: 'sandbox',
      AWS_SECRET_ACCESS_KEY: 'sandbox',
      AWS_CONFIG_FILE: join(this.dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(this.dir, 'no-aws-credentials'),
      AWS_EC2_METADATA_SERVICE_ENDPOINT: this.running.imdsUrl(instanceId),
      ...extra,
    };
  }

  /** Starts `sgsync ARGS` as the agent of `instanceId`. */
  spawn(instanceId: string, args: string[], extraEnv: Record<string, string> = {}): { proc: ChildProcess; done: Promise<CliRun>; stderr: () => string } {
    const proc = spawn(process.execPath, ['dist/bin/sgsync.js', ...args], { cwd: root, env: this.env(instanceId, extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(proc);
    // On an instance, IMDS is answered by the host, not by a process competing
    // with the agents for CPU. Here the sandbox shares the machine with dozens
    // of agents starting at once, so they yield to it rather than starve it.
    if (proc.pid !== undefined) setPriority(proc.pid, 10);
    let stdout = '';
    let stderr = '';
    proc.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<CliRun>((resolve) =>
      proc.once('close', (code) => {
        this.children.delete(proc);
        resolve({ code: code ?? -1, stdout, stderr });
      }),
    );
    return { proc, done, stderr: () => stderr };
  }

  /** Runs `sgsync ARGS` to completion as the agent of `instanceId`. */
  run(instanceId: string, args: string[], extraEnv: Record<string, string> = {}): Promise<CliRun> {
    return this.spawn(instanceId, args, extraEnv).done;
  }

  /** Runs one agent per instance, at most `parallel` processes at a time. */
  runAll(instanceIds: readonly string[], args: string[], parallel: number): Promise<CliRun[]> {
    const limit = pLimit(parallel);
    return Promise.all(instanceIds.map((id) => limit(() => this.run(id, args))));
  }

  async close(): Promise<void> {
    for (const proc of this.children) proc.kill('SIGKILL');
    for (const client of this.clients.values()) client.destroy();
    await this.running.close();
  }
}

/** A config with one target `api` in us-east-1 admitting eu-west-1 workers on tcp 443. */
export function poolConfig(groupIds: readonly string[], endpoint: string, extra = ''): string {
  return [
    'deployment: prod',
    'targets:',
    '  - name: api',
    '    region: us-east-1',
    `    groups: [${groupIds.join(', ')}]`,
    '    ports: [443]',
    '    members:',
    '      regions: [eu-west-1]',
    '      tags: {role: worker}',
    'aws:',
    `  endpoint: ${endpoint}`,
    extra,
    '',
  ].join('\n');
}
