/** Runs the sgsync command line in this process, as `node dist/bin/sgsync.js` would, and captures what it prints. */
import { Command } from 'commander';
import { vi } from 'vitest';
import { registerCommands } from '../../src/cli/commands.js';
import { runCli } from '../../src/cli/run.js';

/** A program with every command, to ask which exist. */
const everyCommand = new Command('sgsync');
await registerCommands(everyCommand);

export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export async function runInProcess(argv: string[]): Promise<CliResult> {
  const program = new Command('sgsync').exitOverride();
  await registerCommands(program, argv);
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    await runCli(program, ['node', 'sgsync', ...argv]);
    return { stdout, stderr, exitCode: Number(process.exitCode ?? 0) };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}

/** Whether a command (e.g. ['controller', 'run']) exists in this build. */
export function hasCommand(path: string[]): boolean {
  let commands = everyCommand.commands;
  for (const name of path) {
    const found = commands.find((c) => c.name() === name);
    if (!found) return false;
    commands = found.commands;
  }
  return true;
}
