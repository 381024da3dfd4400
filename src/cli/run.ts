import { CommanderError, type Command } from 'commander';
import { redactSecrets } from '../aws/secrets.js';
import { isSgsyncError } from '../core/errors.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { terminalText } from './logger.js';

/**
 * Parses and runs the command line (the program must have `exitOverride()`
 * set before its commands were added), turning every failure into one clear
 * message on stderr and a documented exit code.
 */
export async function runCli(program: Command, argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander already printed the message (or the help / version).
      process.exitCode = e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      return;
    }
    if (isSgsyncError(e)) {
      // A message may quote what AWS, IMDS or a file said: its controls are written as escapes.
      process.stderr.write(`sgsync: ${terminalText(redactSecrets(e.message), { lines: true })}\n`);
      process.exitCode = exitCodeFor(e.code);
      return;
    }
    const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
    process.stderr.write(`sgsync: unexpected error: ${redactSecrets(message)}\nPlease report this with the command you ran.\n`);
    process.exitCode = EXIT.FAILURE;
  }
}
