/**
 * The command line, loaded by bin.ts once it has found the Node.js version
 * new enough.
 */
import { Command } from 'commander';
import { registerCommands } from './commands.js';
import { runCli } from './run.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// A reader that stops reading (`sgsync inventory | head`) is no failure of sgsync's: stop
// quietly, as other command-line tools do, rather than crash on the broken pipe. Should
// stderr go, there is nowhere left to say anything.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});
process.stderr.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
});

const program = new Command('sgsync')
  .description(
    'Keep security-group allow-lists in one AWS region in step with the EC2 instances of every other region.',
  )
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  // Before the commands are added, so that every subcommand inherits it.
  .exitOverride();

await registerCommands(program, process.argv.slice(2));
await runCli(program, process.argv);
