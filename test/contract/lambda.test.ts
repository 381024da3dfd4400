import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorizeSecurityGroupIngressCommand,
  paginateDescribeSecurityGroupRules,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ruleMember } from '../../src/core/ownership.js';
import { createHandler, type LambdaSummary } from '../../src/controller/lambda.js';
import { buildDemoFleet } from '../../src/sandbox/demo-fleet.js';
import { startTestSandbox, type TestSandbox } from './helpers.js';

process.env.AWS_ACCESS_KEY_ID = 'AKIDSANDBOX';
process.env.AWS_SECRET_ACCESS_KEY = 'sandbox';

const MEMBER_REGIONS = ['eu-west-1', 'ap-southeast-2', 'us-west-2', 'sa-east-1'];
const dir = mkdtempSync(join(tmpdir(), 'sgsync-lambda-'));
const auditFile = join(dir, 'audit.jsonl');

let sb: TestSandbox;
let handler: ReturnType<typeof createHandler>;
let pool: string[];

/** The demo fleet's pool, admitting TCP 443 from every worker of four regions. */
function configYaml(groups: string[]): string {
  return [
    'deployment: lambda-test',
    'targets:',
    '  - name: api',
    '    region: us-east-1',
    `    groups: [${groups.join(', ')}]`,
    '    ports: [443]',
    '    members:',
    `      regions: [${MEMBER_REGIONS.join(', ')}]`,
    '      tags: { role: worker }',
    'controller:',
    `  regions: [us-east-1, ${MEMBER_REGIONS.join(', ')}]`,
  ].join('\n');
}

beforeAll(async () => {
  sb = await startTestSandbox({ seed: 21 });
  const fleet = await buildDemoFleet(sb.sandbox);
  pool = fleet.groups.filter((g) => g.name.startsWith('sgsync-primary')).map((g) => g.id);
  writeFileSync(auditFile, '');
  handler = createHandler({
    env: { SGSYNC_CONFIG_YAML: configYaml(pool), AWS_ENDPOINT_URL: sb.url },
    log: pino({ level: 'silent' }),
    auditFile,
  });
});

afterAll(async () => {
  await sb.close();
});

/** The managed rules in the pool, as `instance → CIDR`. */
async function managedRules(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const pages = paginateDescribeSecurityGroupRules({ client: sb.ec2('us-east-1') }, { Filters: [{ Name: 'tag:sgsync:managed-by', Values: ['lambda-test'] }] });
  for await (const page of pages) {
    for (const r of page.SecurityGroupRules ?? []) {
      const tags = Object.fromEntries((r.Tags ?? []).map((t) => [t.Key!, t.Value!]));
      out.set(ruleMember({ tags, description: r.Description }).instanceId ?? '?', r.CidrIpv4 ?? '');
    }
  }
  return out;
}

function runningWorkers(): { id: string; ip: string }[] {
  return MEMBER_REGIONS.flatMap((name) => [...sb.sandbox.world.region(name)!.instances.values()])
    .filter((i) => i.state === 'running' && i.tags.get('role') === 'worker')
    .map((i) => ({ id: i.id, ip: i.publicIp! }));
}

/** Does `act` and feeds every state-change event it caused to the handler, in order, as the forwarding rules would. */
async function invokeWithEventsOf(act: () => Promise<unknown>): Promise<{ state: string; summary: LambdaSummary }[]> {
  const before = sb.sandbox.events.last;
  await act();
  const out: { state: string; summary: LambdaSummary }[] = [];
  for (const { event } of sb.sandbox.events.since(before)) out.push({ state: event.detail.state, summary: await handler(event) });
  return out;
}

const scheduled = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-01-01T00:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/sgsync-controller'],
  detail: {},
};

async function launchWorker(region: string): Promise<string> {
  const out = await sb.ec2(region).send(
    new RunInstancesCommand({
      ImageId: 'ami-0123456789abcdef0',
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'role', Value: 'worker' }] }],
    }),
  );
  return out.Instances![0]!.InstanceId!;
}

describe('the Lambda handler', () => {
  it('admits every running worker of every region on a scheduled event', async () => {
    const summary = await handler(scheduled, { awsRequestId: 'req-1' });
    const workers = runningWorkers();
    expect(summary).toMatchObject({ ok: true, event: 'schedule', added: workers.length, revoked: 0, blocked: 0, problems: [] });
    expect(workers.length).toBeGreaterThan(0);
    expect(Object.fromEntries(await managedRules())).toEqual(Object.fromEntries(workers.map((w) => [w.id, `${w.ip}/32`])));
  });

  it('makes no change, and no mutating call, on a second scheduled event', async () => {
    const summary = await handler(scheduled);
    expect(summary).toMatchObject({ ok: true, added: 0, revoked: 0 });
    if (summary.event === 'ignored') throw new Error('not a pass');
    // Reads only: the instances, the pool groups' rules, and the pool groups themselves (that they exist).
    expect(Object.keys(summary.calls).sort()).toEqual(['DescribeInstances', 'DescribeSecurityGroupRules', 'DescribeSecurityGroups']);
  });

  it('admits a new worker on its running event, and ignores its pending event', async () => {
    let id = '';
    const results = await invokeWithEventsOf(async () => (id = await launchWorker('eu-west-1')));
    expect(results.map((r) => [r.state, r.summary.event])).toEqual([
      ['pending', 'ignored'],
      ['running', 'instance'],
    ]);
    expect(results[1]!.summary).toMatchObject({ ok: true, added: 1, revoked: 0, instance: { instanceId: id, region: 'eu-west-1', state: 'running' } });
    const ip = sb.sandbox.world.region('eu-west-1')!.instances.get(id)!.publicIp;
    expect((await managedRules()).get(id)).toBe(`${ip}/32`);
  });

  it.each([
    ['stopped', (region: string, id: string) => sb.ec2(region).send(new StopInstancesCommand({ InstanceIds: [id] })), ['stopping', 'stopped'], 'instance-stopped'],
    ['terminated', (region: string, id: string) => sb.ec2(region).send(new TerminateInstancesCommand({ InstanceIds: [id] })), ['shutting-down', 'terminated'], 'instance-terminated'],
  ])('revokes the rule of a worker %s in another region on its first event, leaving the others', async (_what, act, states, reason) => {
    const id = await launchWorker('ap-southeast-2');
    await handler({ ...scheduled });
    const others = new Map([...(await managedRules())].filter(([k]) => k !== id));
    expect((await managedRules()).has(id)).toBe(true);

    const results = await invokeWithEventsOf(() => act('ap-southeast-2', id));
    expect(results.map((r) => r.state)).toEqual(states);
    expect(results.map((r) => (r.summary.event === 'ignored' ? -1 : r.summary.revoked))).toEqual([1, 0]);
    expect(await managedRules()).toEqual(others);
    const audit = readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.at(-1)).toMatchObject({ actor: 'lambda', action: 'revoke', instance: id, region: 'ap-southeast-2', reason, deployment: 'lambda-test' });
  });

  it('leaves an instance no target selects alone, whatever its state', async () => {
    const before = await managedRules();
    const api = [...sb.sandbox.world.region('eu-west-1')!.instances.values()].find((i) => i.tags.get('role') === 'api' && i.state === 'running')!;
    const results = await invokeWithEventsOf(() => sb.ec2('eu-west-1').send(new StopInstancesCommand({ InstanceIds: [api.id] })));
    expect(results.map((r) => r.summary)).toEqual([expect.objectContaining({ ok: true, added: 0, revoked: 0 }), expect.objectContaining({ ok: true, added: 0, revoked: 0 })]);
    expect(await managedRules()).toEqual(before);
  });

  it('takes the same events as JSON from the sandbox event stream over HTTP', async () => {
    const after = sb.sandbox.events.last;
    const id = await launchWorker('sa-east-1');
    const body = (await (await fetch(`${sb.url}/_sandbox/events?after=${after}`)).json()) as { events: unknown[] };
    const summaries = [];
    for (const e of body.events) summaries.push(await handler(e));
    expect(summaries.map((s) => (s.event === 'ignored' ? 'ignored' : s.added))).toEqual(['ignored', 1]);
    expect((await managedRules()).has(id)).toBe(true);
  });

  it.each([
    ['a test event from the console', { key1: 'value1' }],
    ['an event of another service', { 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.ec2', detail: {} }],
    ['a state change without an instance id', { 'detail-type': 'EC2 Instance State-change Notification', region: 'eu-west-1', detail: { state: 'terminated' } }],
    // af-south-1 is not even enabled: a call there would fail the invocation, and Lambda would retry it for nothing.
    ['a state change in a region no pass lists', { 'detail-type': 'EC2 Instance State-change Notification', source: 'aws.ec2', region: 'af-south-1', detail: { 'instance-id': 'i-0123456789abcdef0', state: 'terminated' } }],
  ])('ignores %s without touching a rule', async (_what, event) => {
    const before = await managedRules();
    expect(await handler(event)).toMatchObject({ ok: true, event: 'ignored' });
    expect(await managedRules()).toEqual(before);
  });

  it('fails the invocation, naming the problem, when the configuration is invalid', async () => {
    const broken = createHandler({ env: { SGSYNC_CONFIG_YAML: 'deployment: x\ntargets: []\n' }, log: pino({ level: 'silent' }) });
    await expect(broken(scheduled)).rejects.toThrow(/\$SGSYNC_CONFIG_YAML:\d+:\d+ targets: list at least one target/);
  });
});

describe("the Lambda handler's warnings", () => {
  it("logs the configuration's warnings once per container, as it loads the configuration once", async () => {
    const logged: { level: number; msg: string }[] = [];
    const warm = createHandler({
      env: { SGSYNC_CONFIG_YAML: configYaml(pool).replace('    ports: [443]', '    ports: [443]\n    quota: 100'), AWS_ENDPOINT_URL: sb.url },
      log: pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as { level: number; msg: string }) }),
      auditFile,
    });
    await warm(scheduled);
    await warm(scheduled);
    expect(logged.filter((l) => l.level === 40 && l.msg.includes('quota 100 is above'))).toHaveLength(1);
  });

  it('logs one when it first appears, not at each invocation of a warm container, and once more when it is gone', async () => {
    const logged: { level: number; msg: string; warning?: string }[] = [];
    const warm = createHandler({
      env: { SGSYNC_CONFIG_YAML: configYaml(pool), AWS_ENDPOINT_URL: sb.url },
      log: pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as { level: number; msg: string }) }),
      auditFile,
    });
    // A rule of this deployment that names no instance: every pass leaves it alone, and warns.
    const group = pool[0]!;
    const added = await sb.ec2('us-east-1').send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: group,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '198.51.100.7/32' }] }],
        TagSpecifications: [
          {
            ResourceType: 'security-group-rule',
            Tags: [
              { Key: 'sgsync:managed-by', Value: 'lambda-test' },
              { Key: 'sgsync:target', Value: 'api' },
              { Key: 'sgsync:region', Value: 'eu-west-1' },
            ],
          },
        ],
      }),
    );
    const ruleId = added.SecurityGroupRules![0]!.SecurityGroupRuleId!;
    const warning = `rule ${ruleId} in ${group} names no instance (no sgsync:instance tag, no sgsync description); it is left alone`;
    const worker = runningWorkers()[0]!;
    const region = MEMBER_REGIONS.find((r) => sb.sandbox.world.region(r)!.instances.has(worker.id))!;
    const running = { 'detail-type': 'EC2 Instance State-change Notification', source: 'aws.ec2', region, detail: { 'instance-id': worker.id, state: 'running' } };

    await warm(scheduled);
    await warm(scheduled);
    await warm(running);
    expect(logged.filter((l) => l.level === 40 && l.msg === warning)).toHaveLength(1);

    await sb.ec2('us-east-1').send(new RevokeSecurityGroupIngressCommand({ GroupId: group, SecurityGroupRuleIds: [ruleId] }));
    await warm(scheduled);
    await warm(scheduled);
    expect(logged.filter((l) => l.msg.includes(ruleId)).map((l) => [l.level, l.msg])).toEqual([
      [40, warning],
      [30, `warning cleared: ${warning}`],
    ]);
    expect(logged.find((l) => l.level === 30 && l.warning === warning)).toBeDefined();
  });
});
