import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES, registerCommands } from './commands.js';

/** Every command's line in the lists `--help` prints, by its path (`sgsync agent watch`), as the program of `sgsync` lists them. */
async function helpLines(): Promise<[string, string][]> {
  const program = new Command('sgsync');
  await registerCommands(program);
  const lines: [string, string][] = [];
  const walk = (command: Command, path: string) => {
    const help = command.createHelp();
    for (const sub of help.visibleCommands(command)) {
      lines.push([`${path} ${sub.name()}`, help.subcommandDescription(sub)]);
      if (sub.commands.length > 0) walk(sub, `${path} ${sub.name()}`);
    }
  };
  walk(program, 'sgsync');
  return lines;
}

describe('the command lists of --help', () => {
  it('list every command', async () => {
    const top = (await helpLines()).filter(([path]) => path.split(' ').length === 2).map(([path]) => path.split(' ')[1]);
    expect(top).toEqual([...COMMAND_NAMES, 'help']);
  });

  it('describe every command and subcommand alike: a sentence that starts with a capital letter, without a final stop', async () => {
    const odd = (await helpLines()).filter(([, text]) => !/^\p{Lu}/u.test(text) || text.endsWith('.'));
    expect(odd).toEqual([]);
  });
});
