import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoFleet } from '../../src/sandbox/demo-fleet.js';
import { startTestSandbox, type TestSandbox } from '../contract/helpers.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sgsync-bundle-'));
const scheduled = { version: '0', id: '1', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012', time: '2026-01-01T00:00:00Z', region: 'us-east-1', resources: [], detail: {} };

let sb: TestSandbox;
let config: string;

beforeAll(async () => {
  sb = await startTestSandbox({ seed: 44 });
  const fleet = await buildDemoFleet(sb.sandbox);
  const pool = fleet.groups.filter((g) => g.name.startsWith('sgsync-primary')).map((g) => g.id);
  config = [
    'deployment: bundle-test',
    'targets:',
    `  - { name: api, region: us-east-1, groups: [${pool.join(', ')}], ports: [443], members: { regions: [eu-west-1, sa-east-1], tags: { role: worker } } }`,
    'controller: { regions: [eu-west-1, sa-east-1] }',
  ].join('\n');
});

afterAll(async () => {
  await sb.close();
});

/** The entries of a zip archive, read from its central directory: name → content. */
function unzip(file: string): Map<string, Buffer> {
  const zip = readFileSync(file);
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const method = zip.readUInt16LE(at + 10);
    const packed = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const skip = nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    const data = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(data, data + packed);
    out.set(name, method === 8 ? inflateRawSync(raw) : Buffer.from(raw));
    at += 46 + skip;
  }
  return out;
}

/** Imports the bundle in a plain Node process, as Lambda does, and invokes its handler with `event`. */
async function invoke(bundleDir: string, event: unknown, env: Record<string, string>): Promise<Record<string, unknown>> {
  const script = 'const { handler } = await import(process.argv[1]); process.stdout.write(JSON.stringify(await handler(JSON.parse(process.argv[2]), { awsRequestId: "r1" })));';
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, pathToFileURL(join(bundleDir, 'index.mjs')).href, JSON.stringify(event)], {
    cwd: bundleDir,
    env: { PATH: process.env.PATH ?? '', AWS_ACCESS_KEY_ID: 'sandbox', AWS_SECRET_ACCESS_KEY: 'sandbox', AWS_ENDPOINT_URL: sb.url, ...env },
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

/**
 * What of the AWS SDK a bundle holds: the schema of an EC2 action sgsync
 * calls, and of one it never calls (the SDK describes every action in one
 * module; the builds keep only what is used), and the SDK's own XML parser
 * (the builds put sgsync's copy in its place). See scripts/aws-sdk-plugins.mjs.
 */
function sdkParts(code: string): { used: boolean; unused: boolean; sdkXmlParser: boolean } {
  return {
    used: code.includes('"DescribeSecurityGroupRulesRequest"'),
    unused: code.includes('"AcceptAddressTransferRequest"'),
    sdkXmlParser: code.includes('AwsXmlParser'),
  };
}

describe('the sgsync binary (dist/bin)', () => {
  it('keeps only the EC2 schemas its commands use, and parses XML with sgsync\'s parser', () => {
    const bin = join(root, 'dist/bin');
    const code = readdirSync(bin)
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(bin, f), 'utf8'))
      .join('\n');
    expect(sdkParts(code)).toEqual({ used: true, unused: false, sdkXmlParser: false });
  });
});

describe('npm run build:lambda', () => {
  it('bundles a handler that runs a pass on its own, and zips it', async () => {
    await run('npm', ['run', '--silent', 'build:lambda'], { cwd: root });
    const out = join(root, 'dist/lambda');
    const summary = await invoke(out, scheduled, { SGSYNC_CONFIG_YAML: config });
    expect(summary).toMatchObject({ ok: true, event: 'schedule', revoked: 0, problems: [] });
    expect(summary.added).toBeGreaterThan(0);
    const entries = unzip(join(out, 'sgsync-controller.zip'));
    expect(entries.get('index.mjs')?.equals(readFileSync(join(out, 'index.mjs')))).toBe(true);
    // Every bundled package's licence travels in the zip.
    const licences = entries.get('THIRD-PARTY-LICENSES.txt')?.toString() ?? '';
    for (const name of ['@aws-sdk/client-ec2', '@smithy/core', 'yaml', 'zod', 'pino']) expect(licences).toMatch(new RegExp(`^${name} \\S+ \\(`, 'm'));
    expect(licences).toContain('Apache License');
    expect(licences).toContain('Permission is hereby granted');
    expect(sdkParts(readFileSync(join(out, 'index.mjs'), 'utf8'))).toEqual({ used: true, unused: false, sdkXmlParser: false });
  });

  it('reads a bundled sgsync.yaml beside the handler, and zips without the zip program', async () => {
    const file = join(dir, 'bundled.yaml');
    writeFileSync(file, config.replace('bundle-test', 'bundled-config'));
    const out = join(dir, 'lambda');
    await run(process.execPath, ['scripts/build-lambda.mjs', '--outdir', out, '--config', file, '--zip', 'builtin'], { cwd: root });
    const entries = unzip(join(out, 'sgsync-controller.zip'));
    expect([...entries.keys()].sort()).toEqual(['THIRD-PARTY-LICENSES.txt', 'index.mjs', 'sgsync.yaml']);
    expect(entries.get('index.mjs')?.equals(readFileSync(join(out, 'index.mjs')))).toBe(true);
    expect(entries.get('sgsync.yaml')?.toString()).toContain('deployment: bundled-config');
    const summary = await invoke(out, scheduled, { LAMBDA_TASK_ROOT: out });
    // The other deployment's rules are foreign to this one: it adds its own beside them.
    expect(summary).toMatchObject({ ok: true, event: 'schedule', revoked: 0 });
    expect(summary.added).toBeGreaterThan(0);
  });
});
