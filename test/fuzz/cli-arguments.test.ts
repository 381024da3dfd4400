/**
 * Hostile command lines, run through the same program main.ts builds (in
 * process: starting a process costs over a second of CPU): every bad
 * argument ends in exit 2 with a short message naming the problem, never a
 * stack trace, and nothing on stdout.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { registerCommands } from '../../src/cli/commands.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/run.js';

const dir = mkdtempSync(join(tmpdir(), 'sgsync-fuzz-cli-'));
const config = join(dir, 'sgsync.yaml');
writeFileSync(config, 'deployment: prod\ntargets:\n  - name: api\n    region: us-east-1\n    groups: [sg-0a1b2c3d4e5f60718]\n    ports: [443]\n    members: {regions: [eu-west-1]}\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `sgsync ...args` the way bin/main.ts does, capturing what it prints and the exit code. */
async function sgsync(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const program = new Command('sgsync').version('0.1.0').showHelpAfterError('(run with --help for usage)').exitOverride();
  program.configureOutput({ writeOut: (s) => void (stdout += s), writeErr: (s) => void (stderr += s) });
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  const before = process.exitCode;
  try {
    await registerCommands(program, args);
    await runCli(program, ['node', 'sgsync', ...args]);
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    process.exitCode = before;
    out.mockRestore();
    err.mockRestore();
  }
}

function expectUsageError(run: Run, mention?: string | RegExp): void {
  expect(run.code, run.stderr).toBe(EXIT.USAGE);
  expect(run.stdout).toBe('');
  expect(run.stderr).not.toMatch(/\n\s+at |unexpected error|TypeError|RangeError/);
  // Commander may add one suggestion line ("(Did you mean --sort?)") for a near miss; that is help, not noise.
  const lines = run.stderr
    .trimEnd()
    .split('\n')
    .filter((l) => l !== '(run with --help for usage)' && !/^\(Did you mean [^)]+\?\)$/.test(l));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^(error: |sgsync: )/);
  if (mention) expect(lines[0]).toMatch(mention);
}

const BAD_PORTS = ['70000', '65536', '-1', 'abc', '1e3', '', ' 80', '0x50', '8080\u0000', '٣٠٠٠', '99999999999999999999999', '1.5'];

describe('a bad command line', () => {
  it.each<[string, string[], RegExp | string]>([
    ['an unknown command', ['frobnicate'], 'frobnicate'],
    ['an unknown option', ['plan', '--frobnicate'], '--frobnicate'],
    ['an option without its value', ['sandbox', '--port'], '--port'],
    ['an unknown region for the sandbox', ['sandbox', '--regions', 'xx-fake-1'], 'xx-fake-1'],
    ['an empty region list', ['sandbox', '--regions', ' , '], 'regions'],
    ['a seed beyond 32 bits', ['sandbox', '--seed', '4294967296'], 'seed'],
    ['an unknown throttle mode', ['sandbox', '--throttle', 'ludicrous'], 'throttle'],
    ['a log level that is not one of the choices', ['plan', '--log-level', 'verbose'], 'verbose'],
    ['a region with a control character', ['plan', '--region', 'us-east-1\u0007', '-c', config], 'region'],
    ['a region in markup', ['reconcile', '--region', '<script>alert(1)</script>', '-c', config], 'region'],
    ['a zero interval', ['controller', 'run', '--interval', '0'], '--interval'],
    ['an infinite interval', ['controller', 'run', '--interval', '1e999'], '--interval'],
    ['a fractional metrics port', ['controller', 'run', '--metrics-port', '1.5'], '--metrics-port'],
    ['a negative poll interval', ['agent', 'watch', '--poll-seconds', '-1'], '--poll-seconds'],
    ['a poll interval of NaN', ['agent', 'watch', '--poll-seconds', 'NaN'], '--poll-seconds'],
    ['a poll interval of zero', ['agent', 'watch', '--poll-seconds', '0'], '--poll-seconds'],
    ['a poll interval of half a second', ['agent', 'watch', '--poll-seconds', '0.5'], '--poll-seconds'],
    ['a number of changes that is no number', ['status', '--changes', 'abc', '-c', config], '--changes'],
    ['a negative number of changes', ['status', '--changes=-5', '-c', config], '--changes'],
    ['an endpoint that is not a URL', ['plan', '--endpoint', 'localhost:4566', '-c', config], '--endpoint'],
    ['an audit log that is a directory', ['reconcile', '--audit-log', tmpdir(), '-c', config], 'audit log'],
    ['a state EC2 does not have', ['inventory', '--state', 'bogus', '-c', config], '--state'],
    ['a target the configuration does not have', ['inventory', '--target', 'nope', '-c', config], '--target nope'],
    ['an audit log in a directory that does not exist', ['reconcile', '--audit-log', join(tmpdir(), 'no-such-dir-sgsync', 'audit.jsonl'), '-c', config], 'does not exist'],
    ['an endpoint of another scheme', ['agent', 'register', '--endpoint', 'ftp://127.0.0.1/'], '--endpoint'],
    ['a refresh of a day', ['dashboard', '--refresh', '86400'], '--refresh'],
    ['an IAM role that does not exist', ['iam', 'policy', '--role', 'root', '-c', config], 'root'],
    ['no IAM role at all', ['iam', 'policy', '-c', config], '--role'],
    ['an account id that is not 12 digits', ['iam', 'policy', '--role', 'agent', '--account', '12345', '-c', config], '12345'],
    ['an account id with markup', ['iam', 'policy', '--role', 'controller', '--account', '"><script>', '-c', config], 'account'],
    ['a partition with a path in it', ['iam', 'policy', '--role', 'agent', '--partition', 'aws/../../etc', '-c', config], 'partition'],
    ['a megabyte-long option value', ['sandbox', '--port', '9'.repeat(1_000_000)], '--port'],
    ['an argument with a right-to-left override', ['\u202eetadpu'], /etadpu/],
  ])('refuses %s with exit 2 and one line', async (_what, args, mention) => {
    expectUsageError(await sgsync(...args), mention);
  });

  it.each(BAD_PORTS)('refuses %j as a port with exit 2', async (port) => {
    expectUsageError(await sgsync('sandbox', '--port', port), '--port');
    expectUsageError(await sgsync('dashboard', '--port', port), '--port');
  });

  it('refuses any text that is not a port number from 0 to 65535', async () => {
    const notAPort = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !/^\d+$/.test(s) || Number(s) > 65535);
    await fc.assert(fc.asyncProperty(notAPort, async (port) => expectUsageError(await sgsync('demo', '--port', port), '--port')), { numRuns: 60 });
  });

  it('refuses any unknown option of any command', async () => {
    const commands = [['plan'], ['reconcile'], ['inventory'], ['status'], ['config', 'validate'], ['agent', 'register'], ['controller', 'run'], ['iam', 'policy', '--role', 'agent'], ['sandbox'], ['dashboard']];
    const option = fc.stringMatching(/^--[a-z][a-z-]{2,20}$/).filter((o) => !['--help', '--version', '--json', '--once', '--demo', '--wait', '--force', '--config', '--region', '--endpoint', '--profile', '--host', '--port'].some((k) => k.startsWith(o) || o.startsWith(k)));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...commands), option, async (command, opt) => expectUsageError(await sgsync(...command, opt), opt)),
      { numRuns: 60 },
    );
  });
});
