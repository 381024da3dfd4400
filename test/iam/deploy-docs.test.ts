/**
 * docs/deploy.md promises that its commands produce every artifact from the
 * demo configuration. These tests run the commands exactly as written there
 * (only the output directory moves to a temporary one).
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iamPolicy } from '../../src/iam/policy.js';
import { runInProcess } from './cli.js';
import { demoConfig } from './requests.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFile(join(root, file), 'utf8');

/** The `sgsync …` commands of the artifact table, each with the file its stdout is redirected to. */
async function artifactCommands(): Promise<{ command: string; argv: string[]; redirect?: string }[]> {
  const doc = await read('docs/deploy.md');
  const table = doc.slice(doc.indexOf('## Artifacts'), doc.indexOf('What each one holds'));
  return [...table.matchAll(/`(sgsync [^`]+)`/g)].map((m) => {
    const [command, redirect] = m[1]!.split(' > ').map((s) => s.trim()) as [string, string | undefined];
    return { command: m[1]!, argv: command.split(/\s+/).slice(1), redirect };
  });
}

let dir: string;
let cwd: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sgsync-docs-'));
  // The commands use paths relative to a checkout, as the docs say to run them.
  cwd = process.cwd();
  process.chdir(root);
});

afterAll(async () => {
  process.chdir(cwd);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the artifact commands of docs/deploy.md', () => {
  it('cover policies, unit, user data and templates', async () => {
    const commands = (await artifactCommands()).map((c) => c.argv.slice(0, 2).join(' '));
    expect(commands).toEqual(['iam policy', 'iam policy', 'iam policy', 'agent systemd-unit', 'agent cloud-init', 'deploy cloudformation']);
    expect(JSON.parse(await read('package.json'))).toMatchObject({ scripts: { 'build:lambda': expect.any(String) as string } });
  });

  it('all succeed and produce their artifact', async () => {
    for (const c of await artifactCommands()) {
      const argv = c.argv.map((a, i) => (c.argv[i - 1] === '--out' ? join(dir, a) : a));
      const result = await runInProcess(argv);
      expect(result.exitCode, `${c.command}: ${result.stderr}`).toBe(0);
      if (c.redirect) expect(result.stdout.length, c.command).toBeGreaterThan(100);
    }
    expect((await readdir(join(dir, 'cfn'))).sort()).toEqual(['forwarder-ap-southeast-2.json', 'forwarder-eu-west-1.json', 'forwarder-sa-east-1.json', 'forwarder-us-west-2.json', 'primary-us-east-1.json']);
  });
});

describe('docs/iam.md', () => {
  it("shows the agent policy exactly as `sgsync iam policy` prints it for the demo", async () => {
    const doc = await read('docs/iam.md');
    const block = /`agent-policy\.json`:\n\n```json\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBeDefined();
    expect(JSON.parse(block!)).toEqual(iamPolicy({ role: 'agent', config: await demoConfig(), accountId: '123456789012' }));
  });
});
