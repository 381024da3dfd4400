import type { Command } from 'commander';

/** Adds every sgsync command to the program; one file per command. */
export function registerCommands(_program: Command): void {}
