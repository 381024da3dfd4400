/**
 * `sgsync config schema` and `sgsync config validate [FILE]`: the JSON
 * Schema of sgsync.yaml, and a check that reports every problem of a file
 * with its line and column (exit 3 when there is any).
 */
import type { Command } from 'commander';
import { configJsonSchema, loadConfig, type ConfigIssue, type LoadedConfig } from '../config/index.js';
import { isSgsyncError } from '../core/errors.js';
import { EXIT } from './exit-codes.js';

interface ValidateOptions {
  config?: string;
  json?: boolean;
}

/** A one-line summary of a valid configuration: `sgsync.yaml: valid (2 targets, 5 groups, 1 retired)`; the retired groups only when there are some. */
export function summarise(loaded: LoadedConfig): { targets: number; groups: number; retiredGroups: number } {
  const pooled = new Set(loaded.targets.flatMap((t) => t.groupIds));
  return {
    targets: loaded.targets.length,
    groups: pooled.size,
    retiredGroups: new Set(loaded.targets.flatMap((t) => t.retiredGroupIds ?? []).filter((g) => !pooled.has(g))).size,
  };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

async function validate(file: string | undefined, options: ValidateOptions): Promise<void> {
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig({ configPath: file ?? options.config });
  } catch (e) {
    // With --json the verdict is data on stdout; people get the error on stderr instead.
    if (!options.json || !isSgsyncError(e) || e.code !== 'CONFIG_INVALID') throw e;
    const issues = (e.details.issues as ConfigIssue[] | undefined) ?? [];
    const out = { file: (e.details.file as string | undefined) ?? file ?? null, valid: false, message: e.message, issues };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    process.exitCode = EXIT.CONFIG;
    return;
  }
  const { targets, groups, retiredGroups } = summarise(loaded);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ file: loaded.file, valid: true, targets, groups, retiredGroups, warnings: loaded.warnings }, null, 2)}\n`);
    return;
  }
  for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
  const retired = retiredGroups > 0 ? `, ${retiredGroups} retired` : '';
  process.stdout.write(`${loaded.file}: valid (${plural(targets, 'target')}, ${plural(groups, 'group')}${retired})\n`);
}

/** Adds `sgsync config schema` and `sgsync config validate [FILE]`. */
export function addConfigCommand(program: Command): void {
  const config = program.command('config').description('Check sgsync.yaml, or print its JSON Schema');

  config
    .command('schema')
    .description('Print the JSON Schema (draft 2020-12) of sgsync.yaml, for editors and CI checks')
    .action(() => {
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });

  config
    .command('validate [file]')
    .description('Check a configuration and list every problem with its line and column (exit 3 if any)')
    .option('-c, --config <file>', 'configuration file (default: $SGSYNC_CONFIG, then ./sgsync.yaml)')
    .option('--json', 'print the verdict as JSON on stdout')
    .action(async (file: string | undefined, _opts: ValidateOptions, command: Command) => {
      await validate(file, command.optsWithGlobals<ValidateOptions>());
    });
}
