import type { Command } from 'commander';
import { addAgentCommand } from './agent.js';
import { registerConfigCommand } from './config.js';
import { addDemoCommand } from './demo.js';
import { addSandboxCommand } from './sandbox.js';

/** Adds every sgsync command to the program; one file per command. */
export function registerCommands(program: Command): void {
  addSandboxCommand(program);
  addDemoCommand(program);
  registerConfigCommand(program);
  addAgentCommand(program);
}
