/**
 * A small fleet for the controller's end-to-end suites: an in-process
 * sandbox, a target pool of two groups in us-east-1 (one holding foreign
 * rules, one open to the world), workers in two other regions, a config file
 * pointing at it all, and a way to run the built `sgsync` against it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  EC2Client,
  paginateDescribeSecurityGroupRules,
  RunInstancesCommand,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/index.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const root = fileURLToPath(new URL('../..', import.meta.url));

export const PRIMARY = 'us-east-1';
export const MEMBER_REGIONS = ['eu-west-1', 'ap-southeast-2'] as const;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The JSON report of `plan --json` / `reconcile --json`, as far as the suites read it. */
export interface JsonReport {
  outcome: string;
  summary: Record<string, number>;
  halted?: { wouldRevoke: number; limit: number };
  regions: { region: string; status: string; instances: number; reason?: string; code?: string }[];
  targets: {
    name: string;
    add: { instanceId: string; memberRegion: string; cidr: string; ruleId?: string }[];
    revoke: { ruleId: string; instanceId?: string; reason: string }[];
    kept: { ruleId: string; instanceId?: string; reason: string; detail: string; wouldRevoke?: string }[];
    blocked: { instanceId: string }[];
    foreign: { cidr?: string; dangerous: boolean }[];
    capacity: { groupId: string; before: number; after: number }[];
    retired?: { groupId: string; rules: number; left: number; missing?: true }[];
  }[];
  errors: { code: string; message: string }[];
  warnings: string[];
  calls?: Record<string, number>;
}

export interface Fleet {
  url: string;
  running: RunningSandbox;
  dir: string;
  config: string;
  pool: [string, string];
  ec2(region: string): EC2Client;
  /** Launches workers (role=worker) in a region; returns their ids. */
  launch(region: string, count: number, tags?: Record<string, string>): Promise<string[]>;
  /** Runs `sgsync ARGS -c CONFIG --endpoint URL`. */
  sgsync(args: string[], env?: Record<string, string>): Promise<Run>;
  /** Starts it without waiting, for runs at the same time. */
  spawn(args: string[], env?: Record<string, string>): Promise<Run>;
  /** The inbound rules of the pool, managed or not. */
  poolRules(): Promise<SecurityGroupRule[]>;
  close(): Promise<void>;
}

export interface FleetOptions {
  /** YAML lines appended to the config (safety, quota…). */
  extra?: string;
  quota?: number;
  /** The target's member tags, as a YAML flow map (default `{ role: worker }`). */
  memberTags?: string;
}

const children = new Set<ChildProcess>();

/** Builds the fleet's groups and config; instances are launched by each test. */
export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const running = await startSandbox({ port: 0, host: '127.0.0.1', seed: 11, log: () => undefined });
  const clients = new Map<string, EC2Client>();
  const ec2 = (region: string) => {
    let c = clients.get(region);
    if (!c) {
      c = new EC2Client({ region, endpoint: running.url, credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' }, maxAttempts: 1 });
      clients.set(region, c);
    }
    return c;
  };
  const group = async (name: string) =>
    (await ec2(PRIMARY).send(new CreateSecurityGroupCommand({ GroupName: name, Description: `pool ${name}` }))).GroupId!;
  const pool: [string, string] = [await group('allow-a'), await group('allow-b')];
  // Rules sgsync does not own: one open to the world, one for an office.
  await ec2(PRIMARY).send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: pool[0],
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'public' }] },
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '198.51.100.0/24', Description: 'office' }] },
      ],
    }),
  );

  const dir = mkdtempSync(join(tmpdir(), 'sgsync-controller-'));
  const config = join(dir, 'sgsync.yaml');
  writeFileSync(
    config,
    `deployment: e2e
targets:
  - name: api
    region: ${PRIMARY}
    groups: [${pool.join(', ')}]
    ports: [443/tcp]
    quota: ${options.quota ?? 60}
    members:
      regions: [${MEMBER_REGIONS.join(', ')}]
      tags: ${options.memberTags ?? '{ role: worker }'}
${options.extra ?? 'safety: { graceSeconds: 300, revokeLimit: { count: 50, fraction: 1 } }'}
`,
  );

  const env = (extra: Record<string, string> = {}) => ({
    ...process.env,
    AWS_ACCESS_KEY_ID: 'sandbox',
    AWS_SECRET_ACCESS_KEY: 'sandbox',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    SGSYNC_LOG_LEVEL: 'warn',
    ...extra,
  });
  const spawnRun = (args: string[], extra?: Record<string, string>) =>
    new Promise<Run>((resolve) => {
      const proc = spawn(process.execPath, ['dist/bin/sgsync.js', ...args, '-c', config, '--endpoint', running.url], { cwd: root, env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(proc);
      let stdout = '';
      let stderr = '';
      proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      proc.once('close', (code) => {
        children.delete(proc);
        resolve({ code: code ?? -1, stdout, stderr });
      });
    });

  return {
    url: running.url,
    running,
    dir,
    config,
    pool,
    ec2,
    async launch(region, count, tags = {}) {
      const out = await ec2(region).send(
        new RunInstancesCommand({
          ImageId: 'ami-0123456789abcdef0',
          InstanceType: 't3.micro',
          MinCount: count,
          MaxCount: count,
          TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries({ role: 'worker', ...tags }).map(([Key, Value]) => ({ Key, Value })) }],
        }),
      );
      return out.Instances!.map((i) => i.InstanceId!);
    },
    sgsync: spawnRun,
    spawn: spawnRun,
    async poolRules() {
      const rules: SecurityGroupRule[] = [];
      for await (const page of paginateDescribeSecurityGroupRules({ client: ec2(PRIMARY) }, { Filters: [{ Name: 'group-id', Values: pool }] })) {
        rules.push(...(page.SecurityGroupRules ?? []).filter((r) => !r.IsEgress));
      }
      return rules;
    },
    async close() {
      for (const c of clients.values()) c.destroy();
      await running.close();
    },
  };
}

/** Kills any `sgsync` a failed test left running. */
export function killStragglers(): void {
  for (const proc of children) if (proc.exitCode === null) proc.kill('SIGKILL');
  children.clear();
}

/** The managed rules, as `instance id → count`, read from their tags and descriptions. */
export function rulesByInstance(rules: SecurityGroupRule[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rules) {
    if (!r.Tags?.some((t) => t.Key === 'sgsync:managed-by' && t.Value === 'e2e')) continue;
    const id = r.Tags.find((t) => t.Key === 'sgsync:instance')?.Value ?? /(i-[0-9a-f]+)/.exec(r.Description ?? '')?.[1] ?? '?';
    out.set(id, (out.get(id) ?? 0) + 1);
  }
  return out;
}

export function parseReport(run: Run): JsonReport {
  try {
    return JSON.parse(run.stdout) as JsonReport;
  } catch {
    throw new Error(`sgsync printed no JSON report (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}
