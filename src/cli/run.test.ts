import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SgsyncError } from '../core/errors.js';
import { runCli } from './run.js';

describe('a failed command', () => {
  const exitCode = process.exitCode;
  afterEach(() => {
    process.exitCode = exitCode;
    vi.restoreAllMocks();
  });

  /** What `runCli` writes on stderr for a command that throws `error`. */
  async function stderrOf(error: SgsyncError): Promise<string> {
    let err = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
    const program = new Command().exitOverride();
    program.command('go').action(() => {
      throw error;
    });
    await runCli(program, ['node', 'sgsync', 'go']);
    return err;
  }

  it("says why on one line of stderr, what it quotes (an endpoint's message) with its controls written as escapes", async () => {
    const err = await stderrOf(new SgsyncError('AWS_UNAVAILABLE', 'AWS said "busy\u001b[2J\u001b]52;c;eA==\u0007\r\u202e"'));
    expect(err).toBe('sgsync: AWS said "busy\\x1b[2J\\x1b]52;c;eA==\\x07\\x0d\\u{202e}"\n');
    expect(process.exitCode).toBe(6);
  });

  it('keeps the lines of a message of several, such as a configuration\'s problems', async () => {
    const err = await stderrOf(new SgsyncError('CONFIG_INVALID', 'x.yaml is not valid (2 problems):\nx.yaml:1:1 a\nx.yaml:2:1 b\u001b[2J'));
    expect(err).toBe('sgsync: x.yaml is not valid (2 problems):\nx.yaml:1:1 a\nx.yaml:2:1 b\\x1b[2J\n');
  });
});
