import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DescribeInstancesCommand, DescribeRegionsCommand, DescribeVpcsCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sgsync-cli-'));
const hasAws = (process.env.PATH ?? '').split(delimiter).some((p) => existsSync(join(p, 'aws')));

interface Started {
  proc: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
}
const running: ChildProcess[] = [];
const clients: EC2Client[] = [];

afterEach(() => {
  for (const proc of running.splice(0)) if (proc.exitCode === null) proc.kill('SIGKILL');
  for (const c of clients.splice(0)) c.destroy();
});

/**
 * Runs `sgsync ARGS` and resolves once it prints the line with its URL. A
 * sandbox is `tied` by default: given --exit-with-stdin and a pipe on its
 * stdin, so that it ends with this process, even when a killed test run
 * cannot stop it.
 */
async function start(args: string[], ready = /listening on (http:\/\/\S+)/, tied = args[0] === 'sandbox'): Promise<Started> {
  const proc = spawn(process.execPath, ['dist/bin/sgsync.js', ...args, ...(tied ? ['--exit-with-stdin'] : [])], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  running.push(proc);
  let out = '';
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`sgsync exited with ${code} before it was ready:\n${err}`)));
  });
  return { proc, url, stdout: () => out, stderr: () => err };
}

/** Runs `sgsync ARGS` to completion. */
function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['dist/bin/sgsync.js', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    running.push(proc);
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function stop(proc: ChildProcess): Promise<number | null> {
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

function ec2(url: string, region: string): EC2Client {
  const client = new EC2Client({ region, endpoint: url, credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' }, maxAttempts: 1 });
  clients.push(client);
  return client;
}

async function instanceIds(url: string, region: string): Promise<string[]> {
  const out = await ec2(url, region).send(new DescribeInstancesCommand({}));
  return out.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId!)).sort();
}

describe('sgsync sandbox', () => {
  it('serves the SDK on the port it prints, saves its world on SIGTERM and loads it again', async () => {
    const state = join(dir, 'world.json');
    const first = await start(['sandbox', '--port', '0', '--demo', '--seed', '5', '--state', state]);
    expect(first.stdout()).toMatch(/^sgsync sandbox listening on http:\/\/127\.0\.0\.1:\d+\n$/);
    const regions = await ec2(first.url, 'us-east-1').send(new DescribeRegionsCommand({}));
    expect(regions.Regions!.map((r) => r.RegionName)).toContain('ap-southeast-2');
    const before = await instanceIds(first.url, 'eu-west-1');
    expect(before).toHaveLength(6);
    await ec2(first.url, 'eu-west-1').send(new RunInstancesCommand({ ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }));
    const withNew = await instanceIds(first.url, 'eu-west-1');

    expect(await stop(first.proc)).toBe(0);
    expect(JSON.parse(readFileSync(state, 'utf8'))).toMatchObject({ format: 'sgsync-sandbox-state', version: 1, seed: 5 });

    const second = await start(['sandbox', '--port', '0', '--state', state]);
    expect(await instanceIds(second.url, 'eu-west-1')).toEqual(withNew);
    expect(second.stderr()).toContain(`world loaded from ${state}`);
    expect(await stop(second.proc)).toBe(0);
  });

  it.skipIf(!hasAws)('answers the AWS CLI', async () => {
    const { url } = await start(['sandbox', '--port', '0', '--regions', 'us-east-1,eu-west-1,af-south-1']);
    const { stdout } = await promisify(execFile)('aws', ['ec2', 'describe-regions', '--endpoint-url', url, '--region', 'us-east-1', '--output', 'json'], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'AKIDSANDBOX', AWS_SECRET_ACCESS_KEY: 'sandbox', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' },
    });
    const names = (JSON.parse(stdout) as { Regions: { RegionName: string }[] }).Regions.map((r) => r.RegionName).sort();
    expect(names).toEqual(['af-south-1', 'eu-west-1', 'us-east-1']);
  });

  it('applies a faults file', async () => {
    const faults = join(dir, 'faults.json');
    writeFileSync(faults, JSON.stringify({ rules: [{ action: 'DescribeVpcs', region: 'eu-west-1', error: { code: 'UnauthorizedOperation' } }] }));
    const { url } = await start(['sandbox', '--port', '0', '--faults', faults]);
    await expect(ec2(url, 'eu-west-1').send(new DescribeVpcsCommand({}))).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
    await expect(ec2(url, 'us-east-1').send(new DescribeVpcsCommand({}))).resolves.toBeDefined();
  });

  it('throttles with --throttle: a burst of five RunInstances, then RequestLimitExceeded', async () => {
    // A refill this slow adds nothing while the test runs, so the count is exact.
    const { url } = await start(['sandbox', '--port', '0', '--throttle', 'aws:0.0001']);
    const client = ec2(url, 'us-west-2');
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) {
      outcomes.push(
        await client.send(new RunInstancesCommand({ ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 })).then(
          () => 'ok',
          (e: Error) => e.name,
        ),
      );
    }
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'RequestLimitExceeded']);
  });

  const invalidState = join(dir, 'invalid-state.json');
  const invalidStateText = '{"format":"sgsync-sandbox-state","version":1,"regions":"all of them"}';
  const badFaults = join(dir, 'bad-faults.json');

  it.each([
    [['--throttle', 'fast'], 2, /invalid throttle mode 'fast'/],
    [['--regions', 'us-east-1,mars-north-1'], 2, /unknown region mars-north-1/],
    [['--port', '99999'], 2, /port number from 0 to 65535/],
    [['--seed', 'abc'], 2, /whole number/],
    [['--faults', join(dir, 'no-such-file.json')], 3, /cannot read faults file .*no-such-file\.json: ENOENT/],
    [['--faults', badFaults], 3, /faults file .*bad-faults\.json is invalid: rules\[0\]\.dropRate/],
    [['--state', invalidState], 3, /state file .*invalid-state\.json is invalid: .*regions/],
    [['--demo', '--regions', 'us-east-1'], 2, /the demo fleet needs these regions enabled: eu-west-1/],
    [['--bogus'], 2, /unknown option '--bogus'/],
  ])('refuses %j with exit code %i and a clear message', async (args, code, message) => {
    writeFileSync(invalidState, invalidStateText);
    writeFileSync(badFaults, '{"rules":[{"dropRate":1.5}]}');
    const result = await run(['sandbox', '--port', '0', ...args]);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).not.toContain('listening');
    expect(readFileSync(invalidState, 'utf8')).toBe(invalidStateText);
  });

  it('refuses a port that is already in use', async () => {
    const { url } = await start(['sandbox', '--port', '0']);
    const port = new URL(url).port;
    const result = await run(['sandbox', '--port', port]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`127.0.0.1:${port} is already in use`);
  });

  it('explains every option in --help', async () => {
    const { code, stdout } = await run(['sandbox', '--help']);
    expect(code).toBe(0);
    for (const option of ['--host', '--port', '--regions', '--demo', '--state', '--throttle', '--faults', '--seed', '--exit-with-stdin']) expect(stdout).toContain(option);
  });

  it('with --exit-with-stdin, stops as on SIGTERM when its standard input closes, saving --state', async () => {
    const state = join(dir, 'stdin-world.json');
    const sandbox = await start(['sandbox', '--port', '0', '--demo', '--state', state]);
    const exited = once(sandbox.proc, 'exit');
    sandbox.proc.stdin!.end();
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(sandbox.stderr()).toContain('standard input closed (--exit-with-stdin): stopping');
    expect(JSON.parse(readFileSync(state, 'utf8'))).toMatchObject({ format: 'sgsync-sandbox-state' });
  });

  it('without --exit-with-stdin, keeps serving when its standard input closes, as on a ^D in a terminal', async () => {
    const sandbox = await start(['sandbox', '--port', '0'], undefined, false);
    sandbox.proc.stdin!.end();
    await new Promise((r) => setTimeout(r, 500));
    expect(sandbox.proc.exitCode).toBeNull();
    expect(await instanceIds(sandbox.url, 'eu-west-1')).toEqual([]);
    expect(await stop(sandbox.proc)).toBe(0);
  });
});

describe('sgsync demo', () => {
  it('starts a demo fleet, says how to reach it, and stops on SIGTERM', async () => {
    const demo = await start(['demo', '--port', '0'], /sandbox running at (http:\/\/\S+)[\s\S]*Press Ctrl-C/);
    const out = demo.stdout();
    for (const text of ['sgsync-primary-a', 'sgsync-primary-b', 'web', 'eu-west-1', 'ap-southeast-2', 'us-west-2', 'sa-east-1', 'AWS_ACCESS_KEY_ID=sandbox']) {
      expect(out).toContain(text);
    }
    expect(out).toContain(`aws ec2 describe-instances --endpoint-url ${demo.url} --region eu-west-1`);
    expect(out).toContain(`endpoint: '${demo.url}'`);
    expect(await instanceIds(demo.url, 'ap-southeast-2')).toHaveLength(3);
    expect(await stop(demo.proc)).toBe(0);
  });
});
