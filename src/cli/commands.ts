import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Every sgsync command, in the order `--help` lists them, each with a loader
 * for its module. Loading is lazy because a command's module pulls in what it
 * runs (the AWS SDK alone costs about a second of CPU): an agent started at
 * boot, or a sandbox started by a test, should not pay for the dashboard.
 */
const COMMANDS: readonly (readonly [name: string, load: () => Promise<Register>])[] = [
  ['sandbox', async () => (await import('./sandbox.js')).addSandboxCommand],
  ['demo', async () => (await import('./demo.js')).addDemoCommand],
  ['config', async () => (await import('./config.js')).addConfigCommand],
  ['agent', async () => (await import('./agent.js')).addAgentCommand],
  ['plan', async () => (await import('./plan.js')).addPlanCommand],
  ['reconcile', async () => (await import('./reconcile.js')).addReconcileCommand],
  ['iam', async () => (await import('./iam.js')).addIamCommand],
  ['deploy', async () => (await import('./deploy.js')).addDeployCommand],
  ['controller', async () => (await import('./controller.js')).addControllerCommand],
  ['inventory', async () => (await import('./inventory.js')).addInventoryCommand],
  ['status', async () => (await import('./status.js')).addStatusCommand],
  ['dashboard', async () => (await import('./dashboard.js')).addDashboardCommand],
];

/** The names of every command, in help order. */
export const COMMAND_NAMES: readonly string[] = COMMANDS.map(([name]) => name);

/**
 * Adds sgsync's commands to the program: only the one `argv` names when it
 * names one, so that starting it loads nothing else; every command otherwise
 * (for `--help`, `help`, or an unknown name, whose error lists them all);
 * none for `--version`.
 *
 * @param argv the arguments after the node binary and script, e.g. `['agent', 'register']`
 */
export async function registerCommands(program: Command, argv: readonly string[] = []): Promise<void> {
  const first = argv[0];
  if (first === '--version' || first === '-V') return;
  const named = first === undefined ? undefined : COMMANDS.find(([name]) => name === first);
  const wanted = named ? [named] : COMMANDS;
  const registers = await Promise.all(wanted.map(([, load]) => load()));
  // Before the commands are added, so that each that has subcommands lists it alike; commander's own line is not capitalized as theirs are.
  program.helpCommand('help [command]', 'Display help for a command');
  for (const register of registers) register(program);
}
