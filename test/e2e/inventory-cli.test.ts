import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ec2Adapter } from '../../src/aws/ec2-adapter.js';
import { parseConfig } from '../../src/config/index.js';
import { AuditLog } from '../../src/controller/audit.js';
import { controllerPass } from '../../src/controller/pass.js';
import { buildDemoFleet } from '../../src/sandbox/demo-fleet.js';
import { faultsConfigSchema } from '../../src/sandbox/faults.js';
import { startTestSandbox, type TestSandbox } from '../contract/helpers.js';

process.env.AWS_ACCESS_KEY_ID = 'AKIDSANDBOX';
process.env.AWS_SECRET_ACCESS_KEY = 'sandbox';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sgsync-inventory-'));
const configFile = join(dir, 'sgsync.yaml');
const auditFile = join(dir, 'audit.jsonl');
const REGIONS = ['eu-west-1', 'ap-southeast-2', 'us-west-2', 'sa-east-1'];
let sb: TestSandbox;

/** Runs the built CLI without blocking this process, which hosts the sandbox it talks to. */
function sgsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['dist/bin/sgsync.js', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const instanceCount = (regions: string[]) => regions.reduce((n, r) => n + sb.sandbox.world.region(r)!.instances.size, 0);

beforeAll(async () => {
  sb = await startTestSandbox({ seed: 11 });
  const fleet = await buildDemoFleet(sb.sandbox);
  const pool = fleet.groups.filter((g) => g.name.startsWith('sgsync-primary')).map((g) => g.id);
  await sb.ec2('sa-east-1').send(
    new RunInstancesCommand({
      ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.small', MinCount: 1, MaxCount: 1,
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: '=HYPERLINK("http://x")\u001b[31m' }, { Key: 'role', Value: 'batch' }] }],
    }),
  );
  writeFileSync(
    configFile,
    ['deployment: cli', 'targets:', '  - name: api', '    region: us-east-1', `    groups: [${pool.join(', ')}]`, '    ports: [443]',
      `    members: { regions: [${REGIONS.join(', ')}], tags: { role: worker } }`, `controller: { regions: [${REGIONS.join(', ')}] }`, `aws: { endpoint: "${sb.url}" }`].join('\n'),
  );
  writeFileSync(auditFile, '');
});

afterAll(async () => {
  await sb.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('sgsync inventory', () => {
  it('lists every instance of every member region as JSON, with its rule status', async () => {
    const r = await sgsync(['inventory', '--json', '-c', configFile]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { total: number; regions: { region: string; status: string; instances: number }[]; instances: { name: string; targets: string[]; standing: { api: { status: string } } }[]; calls: Record<string, number>; notes: string[] };
    expect(out.total).toBe(instanceCount(REGIONS));
    expect(out.regions.map((x) => [x.region, x.status, x.instances])).toEqual([...REGIONS].sort().map((x) => [x, 'complete', instanceCount([x])]));
    const workers = out.instances.filter((i) => i.targets.includes('api'));
    expect(new Set(workers.map((w) => w.standing.api.status))).toEqual(new Set(['missing', 'idle']));
    // One page of instances per region, one look at the groups' rules and one at the groups themselves (that they exist),
    // no DescribeRegions (the config names them).
    expect(out.calls).toEqual({ DescribeInstances: REGIONS.length, DescribeSecurityGroupRules: 1, DescribeSecurityGroups: 1 });
    expect(out.notes).toEqual([]);
  });

  it('filters by tag and state and sorts by a column', async () => {
    const r = await sgsync(['inventory', '--json', '-c', configFile, '--tag', 'role=worker', '--state', 'running', '--sort', 'public']);
    const out = JSON.parse(r.stdout) as { instances: { state: string; tags: Record<string, string>; publicIpv4: string }[] };
    expect(out.instances.length).toBeGreaterThan(3);
    expect(out.instances.every((i) => i.state === 'running' && i.tags.role === 'worker')).toBe(true);
    const pad = (ip: string) => ip.split('.').map((p) => p.padStart(3, '0')).join('.');
    const order = out.instances.map((i) => pad(i.publicIpv4));
    expect(order).toEqual([...order].sort());
  });

  it('writes CSV that neither a spreadsheet will run nor a terminal obey, and a table a terminal will not obey', async () => {
    const csv = await sgsync(['inventory', '--csv', '-c', configFile, '--tag', 'role=batch']);
    expect(csv.stdout.split('\r\n')[1]).toContain(`"'=HYPERLINK(""http://x"")?[31m"`);
    expect(csv.stdout).not.toContain('\u001b');
    const table = await sgsync(['inventory', '-c', configFile, '--tag', 'role=batch']);
    expect(table.stdout).toContain('=HYPERLINK("http://x")?[31m');
    expect(table.stdout).not.toContain('\u001b');
  });

  it('shows a region it cannot list as failed, with the reason, and exits with the error code', async () => {
    sb.sandbox.faults.set(faultsConfigSchema.parse({ rules: [{ action: 'DescribeInstances', region: 'sa-east-1', error: { code: 'UnauthorizedOperation' } }] }));
    try {
      const json = await sgsync(['inventory', '--json', '-c', configFile]);
      expect(json.code).toBe(4);
      const out = JSON.parse(json.stdout) as { regions: { region: string; status: string; reason?: string }[] };
      const sa = out.regions.find((x) => x.region === 'sa-east-1');
      expect(sa?.status).toBe('failed');
      expect(sa?.reason).toMatch(/DescribeInstances/);
      const table = await sgsync(['inventory', '-c', configFile]);
      expect(table.code).toBe(4);
      expect(table.stdout).toMatch(/sa-east-1\s+FAILED: /);
    } finally {
      sb.sandbox.faults.set(faultsConfigSchema.parse({ rules: [] }));
    }
  });
});

describe('sgsync status', () => {
  it('exits 10 while members lack their rules, and 0 once a pass has run, showing the changes', async () => {
    const before = await sgsync(['status', '-c', configFile]);
    expect(before.code).toBe(10);
    expect(before.stdout).toMatch(/Needs attention:\n {2}- api: \d+ member\(s\) without their rule/);

    const config = parseConfig(readFileSync(configFile, 'utf8'), configFile, {});
    const ec2 = new Ec2Adapter({ endpoint: sb.url });
    const audit = AuditLog.open({ file: auditFile, deployment: 'cli' });
    const pass = await controllerPass({ config, ec2, apply: true, onChange: (c) => audit.record(c, c.passId) });
    audit.close();
    ec2.clients.destroy();

    const after = await sgsync(['status', '-c', configFile, '--audit-log', auditFile, '--changes', '3']);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('All is well.');
    expect(after.stdout).toMatch(new RegExp(`\\[#*\\.+\\]\\s+\\d+\\s+60`));
    expect(after.stdout.match(/ controller {2}authorize /g)).toHaveLength(3);
    const json = JSON.parse((await sgsync(['status', '--json', '-c', configFile, '--audit-log', auditFile])).stdout) as { ok: boolean; changes: unknown[]; targets: { capacity: { before: number }[] }[] };
    expect(json.ok).toBe(true);
    expect(json.changes).toHaveLength(pass.changes.length);
    expect(json.targets[0]!.capacity.reduce((n, c) => n + c.before, 0)).toBe(pass.changes.length);

    // None asked for is not the same as none recorded.
    const none = await sgsync(['status', '-c', configFile, '--audit-log', auditFile, '--changes', '0']);
    expect(none.stdout).toContain(`Last changes (${auditFile}): none shown (--changes 0).`);
    expect(none.stdout).not.toContain('No changes in the audit log');

    // A path where no audit log is says so, rather than that the log holds no changes.
    const mistyped = await sgsync(['status', '-c', configFile, '--audit-log', `${auditFile}.typo`]);
    expect(mistyped.stdout).toContain(`No audit log at ${auditFile}.typo`);
    expect(mistyped.stdout).not.toContain('No changes in the audit log');

    // A directory is no log: a usage error that says which path and what is wrong, before any AWS call.
    const directory = await sgsync(['status', '-c', configFile, '--audit-log', dir]);
    expect(directory.code).toBe(2);
    expect(directory.stderr).toBe(`sgsync: The audit log ${JSON.stringify(dir)} cannot be read (it is a directory). Give --audit-log the JSON-lines file that passes append to.\n`);
    expect(directory.stdout).toBe('');
  });
});

describe('rules held back by the blast-radius limit', () => {
  it('show their instances as stale, with the reason, in `inventory` and `status`', async () => {
    type Row = { instanceId: string; region: string; standing: { api?: { status: string; detail: string } } };
    const rows = (out: string) => (JSON.parse(out) as { instances: Row[] }).instances;
    // Runs after the pass above: two admitted workers stop, and a limit of one revoke holds both rules back.
    const stopping = rows((await sgsync(['inventory', '--json', '-c', configFile])).stdout).filter((r) => r.standing.api?.status === 'admitted').slice(0, 2);
    expect(stopping).toHaveLength(2);
    for (const r of stopping) await sb.ec2(r.region).send(new StopInstancesCommand({ InstanceIds: [r.instanceId] }));
    const limited = join(dir, 'limited.yaml');
    writeFileSync(limited, `${readFileSync(configFile, 'utf8')}\nsafety: { revokeLimit: { count: 1 } }\n`);

    const inventory = await sgsync(['inventory', '--json', '-c', limited]);
    expect(inventory.code).toBe(0);
    for (const id of stopping.map((r) => r.instanceId)) {
      const standing = rows(inventory.stdout).find((r) => r.instanceId === id)?.standing.api;
      expect(standing?.status).toBe('stale');
      expect(standing?.detail).toMatch(/kept back \(blast-radius: the pass would revoke 2 of \d+ managed rules; the limit is 1; this rule would be revoked as instance-stopped\)/);
    }
    const status = await sgsync(['status', '-c', limited]);
    expect(status.code).toBe(10);
    for (const id of stopping.map((r) => r.instanceId)) {
      expect(status.stdout).toMatch(new RegExp(`kept\\s+${id}\\s+\\S+/32\\s+.*blast-radius: .*; this rule would be revoked as instance-stopped`));
    }
    const json = JSON.parse((await sgsync(['status', '--json', '-c', limited])).stdout) as { targets: { kept: { instanceId: string; reason: string; wouldRevoke?: string }[] }[] };
    const held = json.targets.flatMap((t) => t.kept).filter((k) => k.reason === 'blast-radius');
    expect(held.map((k) => [k.instanceId, k.wouldRevoke]).sort()).toEqual(stopping.map((r) => [r.instanceId, 'instance-stopped']).sort());
  });
});
