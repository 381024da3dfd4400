/**
 * The world every fault-injection case starts from: an in-process sandbox
 * (built on the e2e suites' AgentFleet), a target pool in us-east-1 holding
 * foreign rules sgsync must never touch, workers in eu-west-1 and
 * ap-southeast-2, one config file for agents and controllers alike, and the
 * invariant checker wired to all of it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthorizeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import pLimit from 'p-limit';
import { AgentFleet, type CliRun } from '../e2e/agent-harness.js';
import type { StartSandboxOptions } from '../../src/sandbox/index.js';
import type { ChildProcess } from 'node:child_process';
import { agentChanges, auditChanges, checkInvariants, viewWorld, watchAdmission, type ChangeRecord, type CheckInput, type TargetSpec, type WorldView } from './invariants.js';

export const PRIMARY = 'us-east-1';
export const MEMBER_REGIONS = ['eu-west-1', 'ap-southeast-2'] as const;
export const DEPLOYMENT = 'faults';

export interface FaultFleetOptions extends StartSandboxOptions {
  /** Groups in the pool (default 2). */
  groups?: number;
  /** Inbound rules per pool group (set in the sandbox and in the config; default AWS's 60). */
  quota?: number;
  /** The `safety:` block, as YAML flow (default: grace 300 s, revoke limit 50). */
  safety?: string;
}

/** One controller pass that ran to its end. */
export interface Pass {
  run: CliRun;
  audit: string;
  changes: ChangeRecord[];
}

/** A process started by the fleet, and how it ended. */
export interface Started {
  proc: ChildProcess;
  done: Promise<CliRun>;
}

/** The foreign rules put in the first group of every pool: one open to the world, one for an office. */
const FOREIGN = [
  { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'public' }] },
  { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '198.51.100.0/24', Description: 'office' }] },
];

/** A fleet for one fault case: the sandbox, the pool, the config, and the checker bound to them. */
export class FaultFleet {
  private arrived = 0;
  private readonly answeredAtStart: number;
  private readonly listeners = new Set<(action: string) => void>();

  private constructor(
    readonly fleet: AgentFleet,
    readonly pool: string[],
    readonly config: string,
    readonly target: TargetSpec,
  ) {
    // Every call that gets past parsing meets the fault injector first: counting there sees a call
    // arrive before any injected latency, where the counters only see it once it is answered.
    const faults = fleet.sandbox.faults;
    const decide = faults.decide.bind(faults);
    faults.decide = (action, region) => {
      this.arrived++;
      for (const listener of [...this.listeners]) listener(action);
      return decide(action, region);
    };
    const counts = Object.values(fleet.sandbox.counters.snapshot()).flatMap((a) => Object.values(a));
    this.answeredAtStart = counts.reduce((n, c) => n + c.calls, 0);
  }

  static async start(options: FaultFleetOptions = {}): Promise<FaultFleet> {
    const fleet = await AgentFleet.start({ seed: 17, ...options });
    const pool = await fleet.groups(PRIMARY, options.groups ?? 2);
    await fleet.ec2(PRIMARY).send(new AuthorizeSecurityGroupIngressCommand({ GroupId: pool[0], IpPermissions: FOREIGN }));
    const quota = options.quota ?? 60;
    for (const g of pool) fleet.sandbox.world.region(PRIMARY)!.groups.get(g)!.quota = quota;
    const target: TargetSpec = {
      name: 'api',
      region: PRIMARY,
      groups: pool,
      ports: [{ protocol: 'tcp', from: 443, to: 443 }],
      address: 'public',
      memberRegions: [...MEMBER_REGIONS],
      tags: { role: 'worker' },
    };
    const config = fleet.config(
      'sgsync.yaml',
      [
        `deployment: ${DEPLOYMENT}`,
        'targets:',
        '  - name: api',
        `    region: ${PRIMARY}`,
        `    groups: [${pool.join(', ')}]`,
        '    ports: [443]',
        `    quota: ${quota}`,
        '    members:',
        `      regions: [${MEMBER_REGIONS.join(', ')}]`,
        '      tags: {role: worker}',
        `safety: ${options.safety ?? '{graceSeconds: 300, revokeLimit: {count: 50, fraction: 1}}'}`,
        'controller:',
        `  regions: [${MEMBER_REGIONS.join(', ')}]`,
        'aws:',
        `  endpoint: ${fleet.url}`,
        '',
      ].join('\n'),
    );
    return new FaultFleet(fleet, pool, config, target);
  }

  get sandbox(): AgentFleet['sandbox'] {
    return this.fleet.sandbox;
  }

  get url(): string {
    return this.fleet.url;
  }

  /** Launches `count` workers in `region`. */
  launch(region: string, count: number, tags: Record<string, string> = { role: 'worker' }): Promise<string[]> {
    return this.fleet.launch(region, count, tags);
  }

  /** The world as the checker sees it, now. */
  view(): WorldView {
    return viewWorld(this.sandbox, [this.target]);
  }

  /** Starts `sgsync agent ARGS` on `instanceId` (info-level logs: one JSON line per change). */
  agent(instanceId: string, args: string[] = ['register'], env: Record<string, string> = {}): Started {
    return this.fleet.spawn(instanceId, ['agent', ...args, '-c', this.config, '--json'], { ...baseEnv, SGSYNC_LOG_LEVEL: 'info', ...env });
  }

  /** Runs one agent per instance, at most `parallel` at a time. */
  agents(instanceIds: readonly string[], parallel: number, args: string[] = ['register']): Promise<CliRun[]> {
    const limit = pLimit(parallel);
    return Promise.all(instanceIds.map((id) => limit(() => this.agent(id, args).done)));
  }

  /** Starts `sgsync reconcile --json --audit-log FILE` (or another controller command). */
  controller(auditLog: string, args: string[] = ['reconcile'], env: Record<string, string> = {}): Started {
    // IMDS is not needed by the controller; the endpoint names no instance.
    return this.fleet.spawn('i-00000000000000000', [...args, '-c', this.config, '--json', '--audit-log', auditLog], { ...baseEnv, SGSYNC_LOG_LEVEL: 'warn', ...env });
  }

  /** Runs one `sgsync reconcile` to its end, with its own audit log. */
  async reconcile(name: string, env: Record<string, string> = {}): Promise<Pass> {
    const audit = this.auditFile(`${name}.jsonl`);
    const run = await this.controller(audit, ['reconcile'], env).done;
    return { run, audit, changes: this.changes([audit]) };
  }

  /** A fresh, empty audit-log file in the fleet's directory. */
  auditFile(name: string): string {
    const file = join(this.fleet.dir, name);
    writeFileSync(file, '');
    return file;
  }

  /** The change records of an audit log and of agents' stderr. */
  changes(auditFiles: readonly string[], agentRuns: readonly CliRun[] = []): ChangeRecord[] {
    return [...auditFiles.flatMap((f) => auditChanges(readFileSync(f, 'utf8'))), ...agentRuns.flatMap((r) => agentChanges(r.stderr))];
  }

  /** Starts recording invariant 2 (members admitted now stay admitted) until `stop`. */
  watch(): ReturnType<typeof watchAdmission> {
    return watchAdmission(this.sandbox, DEPLOYMENT, [this.target]);
  }

  /** Every invariant, against the world as it is now. */
  check(input: Omit<CheckInput, 'deployment' | 'targets' | 'after'> = {}): string[] {
    return checkInvariants({ deployment: DEPLOYMENT, targets: [this.target], after: this.view(), ...input });
  }

  /**
   * Resolves when the `n`-th call of `action` (counting from now) reaches the
   * sandbox, before any fault latency: the moment to kill its caller.
   */
  arrival(action: string, n = 1): Promise<void> {
    let seen = 0;
    return new Promise((resolve) => {
      const listener = (a: string) => {
        if (a === action && ++seen === n) {
          this.listeners.delete(listener);
          resolve();
        }
      };
      this.listeners.add(listener);
    });
  }

  /** Resolves once every EC2 call that reached the sandbox has been answered (or dropped). */
  quiet(): Promise<void> {
    const answered = () => Object.values(this.sandbox.counters.snapshot()).flatMap((a) => Object.values(a)).reduce((n, c) => n + c.calls, 0);
    return until('every call in flight has been answered', () => answered() - this.answeredAtStart >= this.arrived);
  }

  /** Moves the sandbox clock (and the throttle's buckets) forward, through the control API. */
  async advance(seconds: number): Promise<void> {
    await this.control('POST', '/clock/advance', { seconds });
  }

  /** One control-API call; throws on a non-2xx answer. */
  async control(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.url}/_sandbox${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    const json: unknown = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  close(): Promise<void> {
    return this.fleet.close();
  }
}

const baseEnv = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

/** Waits until `condition` holds, polling the in-process world; throws after `timeoutMs`. */
export async function until(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
