import type * as NodeFs from 'node:fs';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addControllerCommand } from '../../src/cli/controller.js';
import { addReconcileCommand } from '../../src/cli/reconcile.js';
import { runCli } from '../../src/cli/run.js';
import { createHandler } from '../../src/controller/lambda.js';
import { FaultFleet } from './fault-fleet.js';

/**
 * Each fsync the code under test makes, with what the audit file held then
 * and whether the pass had reported yet: a power loss keeps only what was
 * flushed, so every line must be on the disk before the report says the
 * pass is done.
 */
const disk = vi.hoisted(() => ({ file: '', reported: false, syncs: [] as { lines: number; reported: boolean }[] }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof NodeFs>();
  return {
    ...fs,
    fsyncSync: (fd: number) => {
      fs.fsyncSync(fd);
      if (disk.file) disk.syncs.push({ lines: fs.readFileSync(disk.file, 'utf8').split('\n').filter(Boolean).length, reported: disk.reported });
    },
  };
});

let fleet: FaultFleet | undefined;
const exitCode = process.exitCode;
afterEach(async () => {
  vi.restoreAllMocks();
  process.exitCode = exitCode;
  disk.file = '';
  await fleet?.close();
  fleet = undefined;
});

/** Runs `sgsync ARGS` in this process, noting when it first writes to stdout (its report). */
async function inProcess(add: (program: Command) => void, args: string[]): Promise<string> {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    disk.reported = true;
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const program = new Command('sgsync').exitOverride();
  add(program);
  await runCli(program, ['node', 'sgsync', ...args]);
  return out;
}

describe("a pass's audit lines are on the disk before the pass reports", () => {
  it.each([
    ['reconcile', (f: FaultFleet, audit: string) => inProcess(addReconcileCommand, ['reconcile', '-c', f.config, '--json', '--audit-log', audit])],
    ['controller run --once', (f: FaultFleet, audit: string) => inProcess(addControllerCommand, ['controller', 'run', '--once', '-c', f.config, '--json', '--audit-log', audit, '--log-level', 'error'])],
    [
      'the Lambda handler',
      async (f: FaultFleet, audit: string) => {
        // Its report is the summary it logs (CloudWatch Logs keeps it), then returns.
        const log = pino({ level: 'info' }, { write: () => void (disk.reported = true) });
        const handler = createHandler({ env: { SGSYNC_CONFIG_YAML: readFileSync(f.config, 'utf8') }, log, auditFile: audit });
        return JSON.stringify(await handler({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} }, { awsRequestId: 'req-1' }));
      },
    ],
  ])('%s: one flush, after the last line and before the report', async (_name, run) => {
    const f = await FaultFleet.start({ seed: 161 });
    fleet = f;
    process.env.AWS_ACCESS_KEY_ID = 'AKIDSANDBOX';
    process.env.AWS_SECRET_ACCESS_KEY = 'sandbox';
    await f.launch('eu-west-1', 5);
    await f.launch('ap-southeast-2', 3);
    const audit = f.auditFile('audit.jsonl');
    disk.file = audit;
    disk.reported = false;
    disk.syncs = [];

    const out = await run(f, audit);

    const changes = f.changes([audit]);
    expect(changes, out).toHaveLength(8);
    expect(disk.syncs, 'flushed once, with every line of the pass, before the report').toEqual([{ lines: 8, reported: false }]);
    expect(f.check({ changes, converged: true })).toEqual([]);
  });
});
