/** `sgsync deploy cloudformation` given regions it cannot use: a usage error naming them, and nothing written. */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runInProcess } from './cli.js';

const DEMO = fileURLToPath(new URL('../../examples/demo.yaml', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sgsync-deploy-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const deploy = (...args: string[]) => runInProcess(['deploy', 'cloudformation', '-c', DEMO, '--account', '123456789012', ...args]);

describe('sgsync deploy cloudformation --primary-region and --member-regions', () => {
  it.each([
    [['--primary-region', 'bogus'], '--primary-region "bogus" is not an AWS region name'],
    [['--member-regions', 'eu-west-1,nope'], '--member-regions "nope" is not an AWS region name'],
    [['--member-regions', 'eu-west-1,,nope'], '--member-regions "eu-west-1,,nope": entry 2 is empty'],
    [['--member-regions', ''], '--member-regions "": entry 1 is empty'],
  ])('refuses %j with exit 2 and a message naming the value', async (args, message) => {
    const out = join(dir, `out-${args.join('_').replace(/\W/g, '')}`);
    const r = await deploy(...args, '--out', out);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`sgsync: ${message}`);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('writes nothing outside --out for a primary region that is a path', async () => {
    const out = join(dir, 'a', 'b', 'out');
    const r = await deploy('--primary-region', '/../../escaped', '--out', out);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('sgsync: --primary-region "/../../escaped" is not an AWS region name such as eu-west-1');
    expect(readdirSync(dir).filter((f) => f.includes('escaped') || f === 'a')).toEqual([]);
  });

  it('warns about a member region the controller ignores, and writes no forwarder for it', async () => {
    const r = await deploy('--member-regions', 'eu-west-1, ap-south-1');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(Object.keys(JSON.parse(r.stdout) as object)).toEqual(['primary-us-east-1.json', 'forwarder-eu-west-1.json']);
    expect(r.stderr).toContain(
      'warning: --member-regions ap-south-1: no forwarder is written, since the controller ignores events from there (ap-south-1 is not in controller.regions). Add it to the configuration, or leave it out.\n',
    );
  });

  it('takes a valid primary region and names its stack after it', async () => {
    const r = await deploy('--primary-region', 'eu-central-1');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(Object.keys(JSON.parse(r.stdout) as object)[0]).toBe('primary-eu-central-1.json');
  });
});
