/**
 * The EC2 calls each command really makes, recorded by the sandbox, must all
 * be allowed by the policy of the role that runs the command. A new call
 * without a permission fails here, not in someone's account.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EC2Client, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ec2Adapter } from '../../src/aws/ec2-adapter.js';
import { loadConfig, type LoadedConfig } from '../../src/config/index.js';
import { createHandler } from '../../src/controller/lambda.js';
import { controllerPass } from '../../src/controller/pass.js';
import { iamPolicy, type IamRole } from '../../src/iam/policy.js';
import { buildDemoFleet, type DemoFleet } from '../../src/sandbox/demo-fleet.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/index.js';
import { hasCommand, runInProcess } from './cli.js';
import { decide, requestTags, type IamRequest } from './simulate.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const CREDENTIALS = { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' };

let running: RunningSandbox;
let fleet: DemoFleet;
let dir: string;
let configFile: string;
let config: LoadedConfig;
let pool: string[];
const savedEnv = { ...process.env };

beforeAll(async () => {
  running = await startSandbox({ port: 0, host: '127.0.0.1', seed: 7 });
  fleet = await buildDemoFleet(running.sandbox);
  pool = fleet.groups.filter((g) => g.name.startsWith('sgsync-primary')).map((g) => g.id);
  dir = await mkdtemp(join(tmpdir(), 'sgsync-iam-'));
  configFile = join(dir, 'sgsync.yaml');
  await writeFile(
    configFile,
    [
      'deployment: demo',
      'targets:',
      '  - name: api',
      '    region: us-east-1',
      `    groups: [${pool.join(', ')}]`,
      '    ports: [443/tcp]',
      '    members:',
      '      regions: [eu-west-1, ap-southeast-2, us-west-2, sa-east-1]',
      '      tags: { role: worker }',
      'controller:',
      '  regions: [us-east-1, eu-west-1, ap-southeast-2, us-west-2, sa-east-1]',
      'agent:',
      '  retries: 1',
      'aws:',
      `  endpoint: ${running.url}`,
      '',
    ].join('\n'),
  );
  config = await loadConfig({ configPath: configFile, env: {} });
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey });
});

afterAll(async () => {
  process.env = savedEnv;
  await running?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

type RuleFacts = Map<string, { region: string; groupId: string; tags: Record<string, string> }>;

function rulesNow(): RuleFacts {
  const out: RuleFacts = new Map();
  for (const region of running.sandbox.world.regions.values()) {
    for (const r of region.rules.values()) out.set(r.id, { region: region.name, groupId: r.groupId, tags: Object.fromEntries(r.tags) });
  }
  return out;
}

/** The IAM requests behind the calls the sandbox counted, made concrete with the rules that appeared or went. */
function requestsFor(calls: Record<string, Record<string, unknown>>, before: RuleFacts, after: RuleFacts): IamRequest[] {
  const account = running.sandbox.world.accountId;
  const groupArn = (region: string, g: string) => `arn:aws:ec2:${region}:${account}:security-group/${g}`;
  const added = [...after].filter(([id]) => !before.has(id)).map(([, r]) => r);
  const removed = [...before].filter(([id]) => !after.has(id)).map(([, r]) => r);
  const out: IamRequest[] = [];
  for (const [region, actions] of Object.entries(calls)) {
    for (const action of Object.keys(actions)) {
      if (action === 'AuthorizeSecurityGroupIngress') {
        const created = added.filter((r) => r.region === region);
        for (const r of created) {
          const rule = `arn:aws:ec2:${region}:${account}:security-group-rule/sgr-0123456789abcdef0`;
          out.push(
            { what: `${action} on ${r.groupId}`, action: `ec2:${action}`, resource: groupArn(region, r.groupId) },
            { what: `${action} creating a rule`, action: `ec2:${action}`, resource: rule, context: requestTags(r.tags) },
            { what: 'CreateTags of the new rule', action: 'ec2:CreateTags', resource: rule, context: { 'ec2:CreateAction': action, ...requestTags(r.tags) } },
          );
        }
        // Only duplicates: the call still needs the groups.
        if (created.length === 0) for (const g of config.targets.flatMap((t) => t.groupIds)) out.push({ what: action, action: `ec2:${action}`, resource: groupArn(region, g) });
      } else if (action === 'RevokeSecurityGroupIngress') {
        for (const r of removed.filter((x) => x.region === region)) out.push({ what: `${action} on ${r.groupId}`, action: `ec2:${action}`, resource: groupArn(region, r.groupId) });
      } else {
        out.push({ what: `${action} in ${region}`, action: `ec2:${action}`, resource: '*' });
      }
    }
  }
  return out;
}

interface Step {
  name: string;
  role: IamRole;
  run: () => Promise<unknown>;
  /** Actions this step must have sent, so that it cannot pass by doing nothing. */
  sends: string[];
}

/** Runs a command against the test configuration, as the instance `imdsInstance` when given. */
async function cli(argv: string[], imdsInstance?: string): Promise<void> {
  if (imdsInstance) process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = running.imdsUrl(imdsInstance);
  await runInProcess([...argv, '-c', configFile]);
}

// Credentials come from the environment set in beforeAll, as for the CLI.
const ec2 = () => new Ec2Adapter({ endpoint: running.url, maxAttempts: 2 });
const workers = () => fleet.instances.filter((i) => i.role === 'worker' && i.state === 'running');
const worker = (n: number) => workers()[n]!.id;

/** Stops a running worker, so that the next pass has a rule to revoke; its own calls are not counted. */
async function stopWorker(n: number): Promise<void> {
  const w = workers()[n]!;
  const client = new EC2Client({ region: w.region, endpoint: running.url, credentials: CREDENTIALS });
  await client.send(new StopInstancesCommand({ InstanceIds: [w.id] }));
  client.destroy();
  running.sandbox.counters.reset();
}

/**
 * The commands, in an order that gives each something to do. The controller
 * passes also run in-process, so the controller role is exercised even in a
 * build without those commands.
 */
function steps(): Step[] {
  const optional = (path: string[], role: IamRole, options: { extra?: string[]; stop?: number; sends?: string[] } = {}): Step[] =>
    hasCommand(path)
      ? [
          {
            name: `sgsync ${path.join(' ')}`,
            role,
            run: async () => {
              if (options.stop !== undefined) await stopWorker(options.stop);
              await cli([...path, ...(options.extra ?? [])]);
            },
            sends: options.sends ?? [],
          },
        ]
      : [];
  const agent = (sub: string, sends: string[]): Step => ({ name: `sgsync agent ${sub}`, role: 'agent', run: () => cli(['agent', sub, '--log-level', 'error'], worker(0)), sends });
  return [
    agent('register', ['AuthorizeSecurityGroupIngress']),
    agent('status', ['DescribeSecurityGroupRules']),
    { name: 'a dry-run controller pass (plan)', role: 'readonly', run: () => controllerPass({ config, ec2: ec2(), apply: false }), sends: ['DescribeInstances', 'DescribeSecurityGroups'] },
    ...optional(['plan'], 'readonly', { sends: ['DescribeInstances', 'DescribeSecurityGroups'] }),
    ...optional(['status'], 'readonly'),
    ...optional(['inventory'], 'readonly'),
    { name: 'a controller pass (reconcile)', role: 'controller', run: () => controllerPass({ config, ec2: ec2(), apply: true }), sends: ['AuthorizeSecurityGroupIngress', 'DescribeSecurityGroups'] },
    {
      name: 'a controller pass after a worker stopped',
      role: 'controller',
      run: async () => {
        await stopWorker(1);
        return controllerPass({ config, ec2: ec2(), apply: true });
      },
      sends: ['RevokeSecurityGroupIngress'],
    },
    ...optional(['reconcile'], 'controller', { stop: 2, sends: ['RevokeSecurityGroupIngress'] }),
    ...optional(['controller', 'run'], 'controller', { extra: ['--once'], stop: 3, sends: ['RevokeSecurityGroupIngress'] }),
    {
      name: 'the Lambda handler on a state-change event',
      role: 'controller',
      run: async () => {
        await stopWorker(4);
        const id = worker(4);
        const event = running.sandbox.events.since(0).findLast((e) => e.event.detail['instance-id'] === id)!.event;
        const configYaml = await readFile(configFile, 'utf8');
        return createHandler({ env: { ...process.env, SGSYNC_CONFIG_YAML: configYaml }, auditFile: join(dir, 'audit.jsonl') })(event);
      },
      sends: ['DescribeInstances', 'RevokeSecurityGroupIngress'],
    },
    agent('deregister', ['RevokeSecurityGroupIngress']),
    {
      // Last, as it changes the configuration: a pool group that holds rules retired, which a pass drains.
      name: 'a controller pass draining a retired group',
      role: 'controller',
      run: async () => {
        const text = await readFile(configFile, 'utf8');
        const holding = new Set([...rulesNow().values()].filter((r) => r.tags['sgsync:managed-by'] === 'demo').map((r) => r.groupId));
        const retired = pool.filter((g) => holding.has(g)).slice(0, 1);
        await writeFile(configFile, text.replace(`groups: [${pool.join(', ')}]`, `groups: [${pool.filter((g) => !retired.includes(g)).join(', ')}]\n    retiredGroups: [${retired.join(', ')}]`));
        config = await loadConfig({ configPath: configFile, env: {} });
        // The group holds most of the rules: past the blast radius, as a drain often is.
        return controllerPass({ config, ec2: ec2(), apply: true, force: true });
      },
      sends: ['RevokeSecurityGroupIngress'],
    },
  ];
}

describe('the calls each command makes', () => {
  it('are all allowed by the policy of its role', async () => {
    const uncovered: string[] = [];
    const recorded: Record<string, string[]> = {};
    for (const step of steps()) {
      running.sandbox.counters.reset();
      const before = rulesNow();
      await step.run();
      const calls = running.sandbox.counters.snapshot();
      const actions = new Set(Object.values(calls).flatMap((a) => Object.keys(a)));
      recorded[step.name] = [...actions].sort();
      for (const a of step.sends) expect(actions, `${step.name} should send ${a}`).toContain(a);
      const policy = iamPolicy({ role: step.role, config, accountId: running.sandbox.world.accountId });
      for (const request of requestsFor(calls, before, rulesNow())) {
        if ((await decide(policy, request)) !== 'Allowed') uncovered.push(`${step.name} (${step.role}): ${request.what}`);
      }
    }
    expect(uncovered).toEqual([]);
    // Each role's commands were exercised, so the check above covered them all.
    expect(Object.keys(recorded)).toEqual(expect.arrayContaining(['sgsync agent register', 'sgsync agent deregister', 'a controller pass (reconcile)']));
  });
});
