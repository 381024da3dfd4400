/**
 * A dashboard over the demo fleet in an in-process sandbox, plus one worker
 * whose Name tag is hostile markup: what the route and browser suites test.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import type { Hono } from 'hono';
import { Ec2Adapter } from '../../src/aws/ec2-adapter.js';
import { parseConfig, type LoadedConfig } from '../../src/config/index.js';
import { createDashboard } from '../../src/dashboard/app.js';
import { loadFleetView } from '../../src/dashboard/fleet-source.js';
import { FleetState } from '../../src/dashboard/fleet-state.js';
import { RecentChanges, reconcileNow } from '../../src/dashboard/reconcile-now.js';
import { buildDemoFleet } from '../../src/sandbox/demo-fleet.js';
import { startTestSandbox, type TestSandbox } from '../contract/helpers.js';

process.env.AWS_ACCESS_KEY_ID = 'AKIDSANDBOX';
process.env.AWS_SECRET_ACCESS_KEY = 'sandbox';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** Markup and script in a Name tag: must show as text and run nothing. */
export const HOSTILE_NAME = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2;alert(1)"><b>bold</b>';
export const MEMBER_REGIONS = ['eu-west-1', 'ap-southeast-2', 'us-west-2', 'sa-east-1'];

export interface DashboardFleet {
  sb: TestSandbox;
  config: LoadedConfig;
  configFile: string;
  ec2: Ec2Adapter;
  state: FleetState;
  app: Hono;
  token?: string;
  hostileId: string;
  pool: string[];
  close(): Promise<void>;
}

export function configYaml(pool: string[], web: string, endpoint: string): string {
  return [
    'deployment: dash',
    'targets:',
    '  - name: api',
    '    region: us-east-1',
    `    groups: [${pool.join(', ')}]`,
    '    ports: [443]',
    '    quota: 4',
    '    members:',
    `      regions: [${MEMBER_REGIONS.join(', ')}]`,
    '      tags: { role: worker }',
    '  - name: admin',
    '    region: us-east-1',
    `    groups: [${web}]`,
    '    ports: [8443]',
    '    members: { tags: { role: api } }',
    'controller:',
    `  regions: [us-east-1, ${MEMBER_REGIONS.join(', ')}]`,
    `aws: { endpoint: "${endpoint}" }`,
  ].join('\n');
}

/**
 * `refreshSeconds` is how often pages poll and how long a view is served before
 * the fleet is read again, as `sgsync dashboard --refresh` sets both; without
 * it pages poll every 5 s and the fleet is read once a minute.
 */
export async function startDashboardFleet(options: { allowApply?: boolean; seed?: number; refreshSeconds?: number } = {}): Promise<DashboardFleet> {
  const sb = await startTestSandbox({ seed: options.seed ?? 5 });
  const fleet = await buildDemoFleet(sb.sandbox);
  const pool = fleet.groups.filter((g) => g.name.startsWith('sgsync-primary')).map((g) => g.id);
  const web = fleet.groups.find((g) => g.name === 'web')!.id;
  // The pool holds four rules per group, as the config says: ten running workers outgrow it.
  for (const id of pool) sb.sandbox.world.region('us-east-1')!.groups.get(id)!.quota = 4;
  const run = await sb.ec2('eu-west-1').send(
    new RunInstancesCommand({
      ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.small', MinCount: 1, MaxCount: 1,
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: HOSTILE_NAME }, { Key: 'role', Value: 'worker' }] }],
    }),
  );
  const dir = mkdtempSync(join(tmpdir(), 'sgsync-dashboard-'));
  const configFile = join(dir, 'sgsync.yaml');
  const text = configYaml(pool, web, sb.url);
  writeFileSync(configFile, text);
  const config = parseConfig(text, configFile, {});
  const ec2 = new Ec2Adapter({ endpoint: sb.url, maxAttempts: 2 });
  const recent = new RecentChanges();
  const state = new FleetState({
    load: () => loadFleetView({ config, ec2 }),
    reconcile: options.allowApply ? reconcileNow({ config, ec2, recent }) : undefined,
    maxAgeMs: options.refreshSeconds ? options.refreshSeconds * 1000 : 60_000,
  });
  const token = options.allowApply ? 'test-token-0123456789' : undefined;
  const app = createDashboard({ state, refreshSeconds: options.refreshSeconds ?? 5, activity: () => Promise.resolve(recent.list()), activitySource: 'this process', token });
  return {
    sb, config, configFile, ec2, state, app, token, pool,
    hostileId: run.Instances![0]!.InstanceId!,
    close: async () => {
      ec2.clients.destroy();
      await sb.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
