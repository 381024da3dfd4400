import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoFleet } from '../../src/sandbox/demo-fleet.js';
import { startTestSandbox, type TestSandbox } from '../contract/helpers.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
/** A project of its own that depends on sgsync, as an installed package: `node_modules/sgsync` is this repository (built). */
const consumer = mkdtempSync(join(tmpdir(), 'sgsync-library-'));

let sb: TestSandbox;

beforeAll(async () => {
  sb = await startTestSandbox({ seed: 45 });
  const fleet = await buildDemoFleet(sb.sandbox);
  const pool = fleet.groups.filter((g) => g.name.startsWith('sgsync-primary')).map((g) => g.id);
  writeFileSync(
    join(consumer, 'sgsync.yaml'),
    [
      'deployment: library-test',
      'targets:',
      `  - { name: api, region: us-east-1, groups: [${pool.join(', ')}], ports: [443], members: { regions: [eu-west-1, sa-east-1], tags: { role: worker } } }`,
      'controller: { regions: [eu-west-1, sa-east-1] }',
      `aws: { endpoint: "${sb.url}" }`,
    ].join('\n'),
  );
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  mkdirSync(join(consumer, 'node_modules'));
  symlinkSync(root, join(consumer, 'node_modules', 'sgsync'), 'dir');
});

afterAll(async () => {
  await sb.close();
  rmSync(consumer, { recursive: true, force: true });
});

/** Runs `code` as a module of the consumer project and returns what it printed as JSON. */
async function inConsumer(code: string): Promise<Record<string, unknown>> {
  const file = join(consumer, `script-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, code);
  const { stdout } = await run(process.execPath, [file], {
    cwd: consumer,
    env: { PATH: process.env.PATH ?? '', AWS_ACCESS_KEY_ID: 'sandbox', AWS_SECRET_ACCESS_KEY: 'sandbox', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe("import { plan, reconcile, createEc2Adapter } from 'sgsync'", () => {
  it('reconciles a fleet from another project: a dry run changes nothing, a pass applies it, the next finds nothing to do', async () => {
    const out = await inConsumer(`
      import { createEc2Adapter, loadConfig, reconcile } from 'sgsync';
      const config = await loadConfig({ configPath: 'sgsync.yaml' });
      const ec2 = createEc2Adapter({ config });
      const count = (p) => p.authorize.reduce((n, b) => n + b.items.length, 0);
      const dry = await reconcile({ config, ec2, dryRun: true });
      const applied = await reconcile({ config, ec2 });
      const again = await reconcile({ config, dryRun: true });
      console.log(JSON.stringify({
        dryPlanned: count(dry.plan), dryChanges: dry.changes.length,
        applied: applied.changes.filter((c) => c.action === 'authorize').length, errors: applied.errors.length, regions: applied.inventory.regions.map((r) => r.status),
        againPlanned: count(again.plan),
      }));
    `);
    expect(out.dryPlanned).toBeGreaterThan(0);
    expect(out.dryChanges).toBe(0);
    expect(out.applied).toBe(out.dryPlanned);
    expect(out.errors).toBe(0);
    expect(out.regions).toEqual(['complete', 'complete']);
    expect(out.againPlanned).toBe(0);
  });

  it('plans with the pure planner, and refuses a bad configuration with an SgsyncError whose code maps to the CLI\'s exit code', async () => {
    const out = await inConsumer(`
      import { exitCodeFor, parseConfig, plan, SgsyncError } from 'sgsync';
      const p = plan({ deployment: 'x', targets: [], members: [], observed: [], scope: { kind: 'all' }, now: 0 });
      let code;
      try { parseConfig('targets: 7', 'inline.yaml'); } catch (e) { code = e instanceof SgsyncError ? [e.code, exitCodeFor(e.code)] : 'not an SgsyncError: ' + e; }
      console.log(JSON.stringify({ authorize: p.authorize.length, revoke: p.revoke.length, code }));
    `);
    expect(out).toEqual({ authorize: 0, revoke: 0, code: ['CONFIG_INVALID', 3] });
  });

  it('gives TypeScript consumers its types', async () => {
    writeFileSync(
      join(consumer, 'typed.ts'),
      [
        "import { createEc2Adapter, loadConfig, reconcile, type ControllerPassResult, type Plan } from 'sgsync';",
        "const config = await loadConfig({ configPath: 'sgsync.yaml' });",
        'const result: ControllerPassResult = await reconcile({ config, ec2: createEc2Adapter({ config, maxAttempts: 3 }), dryRun: true });',
        'const planned: Plan = result.plan;',
        'export const count: number = planned.authorize.length;',
        '// @ts-expect-error a dry run is a boolean',
        "void reconcile({ config, dryRun: 'yes' });",
      ].join('\n'),
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: true, types: [] }, files: ['typed.ts'] }),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const { stdout } = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer }).catch((e: { stdout: string }) => ({ stdout: `failed: ${e.stdout}` }));
    expect(stdout).toBe('');
  });
});
