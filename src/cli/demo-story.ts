/**
 * The demo's story, played against an in-process sandbox: agents admit some
 * instances, the controller the rest; then an instance crashes, another is
 * stopped and started, the fleet outgrows its pool, and the controller
 * cleans up. One last stop is left for the dashboard to show as drift.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { register } from '../agent/register.js';
import { Ec2Adapter } from '../aws/ec2-adapter.js';
import { Imds } from '../aws/imds.js';
import { parseConfig, type LoadedConfig } from '../config/index.js';
import { AuditLog } from '../controller/audit.js';
import { controllerPass } from '../controller/pass.js';
import { API_VERSION, handleEc2 } from '../sandbox/ec2-endpoint.js';
import type { RunningSandbox } from '../sandbox/server.js';

export interface DemoStory {
  config: LoadedConfig;
  configFile: string;
  auditFile: string;
  ec2: Ec2Adapter;
  /** What happened, one line per step. */
  lines: string[];
}

/** Rules per group (and family) in the demo pool: small, so the pool fills up during the story. */
const POOL_QUOTA = 4;
const MEMBER_REGIONS = ['eu-west-1', 'ap-southeast-2', 'us-west-2', 'sa-east-1'];

async function ec2(running: RunningSandbox, region: string, action: string, form: Record<string, string>): Promise<void> {
  const body = new URLSearchParams({ Action: action, Version: API_VERSION, ...form }).toString();
  const auth = `AWS4-HMAC-SHA256 Credential=AKIDSANDBOX/20260101/${region}/ec2/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`;
  const answer = await handleEc2(running.sandbox, body, auth);
  if ('drop' in answer || answer.status !== 200) throw new Error(`demo: ${action} in ${region} failed`);
}

function configText(groups: { a: string; b: string; web: string }, endpoint: string): string {
  return `# Written by \`sgsync demo\` for its sandbox; the group ids are the sandbox's.
deployment: demo
targets:
  - name: api
    region: us-east-1
    groups: [${groups.a}, ${groups.b}]
    ports: [443/tcp]
    quota: ${POOL_QUOTA}
    members:
      regions: [${MEMBER_REGIONS.join(', ')}]
      tags: {role: worker}
  - name: admin
    region: us-east-1
    groups: [${groups.web}]
    ports: [8443/tcp]
    members:
      tags: {role: api}
safety:
  graceSeconds: 60
controller:
  regions: [us-east-1, ${MEMBER_REGIONS.join(', ')}]
aws:
  endpoint: ${endpoint}
`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Plays the story and returns the config it wrote and what happened. `afterStep` runs after each step (the demo samples usage there). */
export async function playDemoStory(
  running: RunningSandbox,
  dir: string,
  afterStep: (config: LoadedConfig, ec2: Ec2Adapter) => Promise<void> = () => Promise.resolve(),
): Promise<DemoStory> {
  const world = running.sandbox.world;
  const primary = world.region('us-east-1')!;
  const group = (name: string) => [...primary.groups.values()].find((g) => g.name === name)!;
  const [a, b, web] = [group('sgsync-primary-a'), group('sgsync-primary-b'), group('web')];
  a.quota = POOL_QUOTA;
  b.quota = POOL_QUOTA;

  mkdirSync(dir, { recursive: true });
  const configFile = resolve(join(dir, 'sgsync.yaml'));
  const auditFile = resolve(join(dir, 'audit.jsonl'));
  writeFileSync(configFile, configText({ a: a.id, b: b.id, web: web.id }, running.url));
  writeFileSync(auditFile, '');
  const config = parseConfig(configText({ a: a.id, b: b.id, web: web.id }, running.url), configFile, {});
  const client = new Ec2Adapter({ endpoint: running.url, maxAttempts: 3 });
  const deployment = config.config.deployment;
  const agentLog = AuditLog.open({ file: auditFile, deployment, actor: 'agent' });
  const controllerLog = AuditLog.open({ file: auditFile, deployment, actor: 'controller' });
  const lines: string[] = [];
  const step = async (line: string) => {
    lines.push(line);
    await afterStep(config, client);
  };
  await afterStep(config, client);
  const workers = (region: string, state = 'running') =>
    [...world.region(region)!.instances.values()].filter((i) => i.tags.get('role') === 'worker' && i.state === state);

  // 1. Agents on the workers of two regions register themselves.
  let agentRules = 0;
  const agentRegions = ['eu-west-1', 'ap-southeast-2'];
  const agents = agentRegions.flatMap((r) => workers(r));
  for (const instance of agents) {
    const imds = new Imds({ endpoint: running.imdsUrl(instance.id) });
    const passId = randomUUID();
    try {
      const out = await register({ config, ec2: client, instance: imds, now: Date.now, onChange: (c) => agentLog.record(c, passId) });
      agentRules += out.changes.length;
    } finally {
      imds.close();
    }
  }
  await step(`agents registered ${plural(agents.length, 'worker')} in ${agentRegions.join(' and ')}: ${plural(agentRules, 'rule')} added`);

  // 2. The controller admits everything else.
  const pass = async () => controllerPass({ config, ec2: client, apply: true, onChange: (c) => controllerLog.record(c, c.passId) });
  const first = await pass();
  await step(`controller pass: ${plural(first.changes.length, 'rule')} added for the rest of the fleet; ${plural(first.lastPlan.blocked.length, 'rule')} blocked (pool of ${POOL_QUOTA}+${POOL_QUOTA} is full)`);

  // 3. Things go wrong.
  const crashed = workers('eu-west-1')[0]!;
  await ec2(running, 'eu-west-1', 'TerminateInstances', { 'InstanceId.1': crashed.id });
  await step(`crash: ${crashed.id} (eu-west-1) terminated without deregistering — its rule is left behind`);
  const bounced = workers('sa-east-1')[0]!;
  const before = bounced.publicIp;
  await ec2(running, 'sa-east-1', 'StopInstances', { 'InstanceId.1': bounced.id });
  await ec2(running, 'sa-east-1', 'StartInstances', { 'InstanceId.1': bounced.id });
  await step(`stop/start: ${bounced.id} (sa-east-1) came back with a new address, ${before ?? '-'} → ${bounced.publicIp ?? '-'}`);
  await ec2(running, 'us-west-2', 'RunInstances', {
    ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.small', MinCount: '2', MaxCount: '2',
    'TagSpecification.1.ResourceType': 'instance',
    'TagSpecification.1.Tag.1.Key': 'role', 'TagSpecification.1.Tag.1.Value': 'worker',
    'TagSpecification.1.Tag.2.Key': 'Name', 'TagSpecification.1.Tag.2.Value': 'worker-usw2-scaled',
  });
  await step('scale-out: 2 more workers launched in us-west-2 — more than the pool can hold');

  // 4. The controller cleans up.
  const second = await pass();
  const revoked = second.changes.filter((c) => c.action === 'revoke');
  const reasons = [...new Set(revoked.map((c) => c.reason))].sort().join(', ');
  await step(
    `controller pass: ${plural(revoked.length, 'stale rule')} revoked (${reasons || 'none'}), ${plural(second.changes.length - revoked.length, 'rule')} added, ` +
      `${plural(second.lastPlan.blocked.length, 'member')} still blocked by capacity`,
  );

  // 5. One more stop, left for the dashboard to show.
  const stopped = workers('ap-southeast-2')[0];
  if (stopped) {
    await ec2(running, 'ap-southeast-2', 'StopInstances', { 'InstanceId.1': stopped.id });
    await step(`just now: ${stopped.id} (ap-southeast-2) stopped; its rule is stale until the next pass (see Drift, or press "Reconcile now")`);
  }
  agentLog.close();
  controllerLog.close();
  return { config, configFile, auditFile, ec2: client, lines };
}
