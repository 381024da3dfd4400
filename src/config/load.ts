/**
 * Finds, reads and checks sgsync.yaml. Every problem is reported at once,
 * each with file, line, column and key path, in one CONFIG_INVALID error:
 *
 *   sgsync.yaml:12:7 targets[0].ports[1]: "44x" is not a port, expected 443, ...
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlias, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { messageOf, SgsyncError } from '../core/errors.js';
import type { Target } from '../core/model.js';
import { configWarnings, portFamilyWarnings } from './checks.js';
import { DEFAULT_CONFIG_FILE, ENV_OVERRIDES } from './defaults.js';
import { explainIssues } from './issues.js';
import { configJsonSchema } from './json-schema.js';
import { formatPath, locate } from './locate.js';
import { configSchema, type SgsyncConfig } from './schema.js';
import { toSafety, toTargets, type SafetySettings } from './targets.js';

export type Env = Record<string, string | undefined>;

/** One problem in a configuration, where it is and what is wrong. */
export interface ConfigIssue {
  /** `sgsync.yaml:12:7`, or `$SGSYNC_ENDPOINT` for a value from the environment. */
  where: string;
  file: string;
  line?: number;
  column?: number;
  /** `targets[0].ports[1]`; empty for the document as a whole. */
  path: string;
  message: string;
}

export interface LoadedConfig {
  file: string;
  config: SgsyncConfig;
  targets: Target[];
  safety: SafetySettings;
  /** Valid, but worth knowing (e.g. a quota AWS must raise first). */
  warnings: string[];
}

/** The line users see and editors jump to. */
export function formatIssue(issue: ConfigIssue): string {
  return issue.path === '' ? `${issue.where} ${issue.message}` : `${issue.where} ${issue.path}: ${issue.message}`;
}

/** Problems spelled out in the message; the rest are counted (all of them are in `details.issues`). */
export const MAX_ISSUE_LINES = 50;

function invalid(file: string, issues: ConfigIssue[]): SgsyncError {
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  const shown = issues.slice(0, MAX_ISSUE_LINES).map(formatIssue);
  const more = issues.length - shown.length;
  if (more > 0) shown.push(`… and ${more} more (sgsync config validate --json lists every one)`);
  const lines = shown.join('\n');
  return new SgsyncError('CONFIG_INVALID', `${file} is not a valid configuration (${count}):\n${lines}`, {
    details: { file, issues },
  });
}

/**
 * Parses and checks the text of a configuration. `file` names it in
 * messages; `env` supplies the overrides ($SGSYNC_DEPLOYMENT,
 * $SGSYNC_ENDPOINT). Throws SgsyncError CONFIG_INVALID listing every problem.
 */
export function parseConfig(text: string, file: string, env: Env = {}): LoadedConfig {
  const counter = new LineCounter();
  // logLevel 'error': the library's own warnings (e.g. a list used as a key) would go to stderr as Node warnings; such documents are refused below anyway.
  const doc = parseDocument(text, { lineCounter: counter, keepSourceTokens: true, merge: true, prettyErrors: false, logLevel: 'error' });
  const at = (line: number, column: number) => ({ where: `${file}:${line}:${column}`, file, line, column });
  if (doc.errors.length > 0) {
    throw invalid(
      file,
      doc.errors.map((e) => {
        const { line, col } = counter.linePos(e.pos[0]);
        return { ...at(line, col), path: '', message: `YAML: ${e.message.split('\n')[0] ?? e.message}` };
      }),
    );
  }
  const data = toData(doc, counter, file);
  if (data === null || data === undefined) {
    throw invalid(file, [{ ...at(1, 1), path: '', message: `the file is empty; ${startHint()}` }]);
  }
  const fromEnv = applyEnv(data, env);
  const result = configSchema.safeParse(data);
  const problems = [
    ...(result.success ? [] : explainIssues(result.error.issues, data, configJsonSchema()).filter((i) => i.path[i.path.length - 1] !== PROTO)),
    ...protoKeyPaths(data).map((path) => ({ path, message: `the key "${PROTO}" cannot be used: JavaScript objects would silently drop it`, atKey: true })),
  ];
  if (!result.success || problems.length > 0) {
    const issues = problems.map((raw): ConfigIssue => {
      const path = formatPath(raw.path);
      const override = fromEnv.find((o) => o.path.every((seg, i) => raw.path[i] === seg));
      if (override) return { where: `$${override.variable}`, file, path, message: raw.message };
      const pos = locate(doc, counter, raw.path, raw.atKey);
      return { ...at(pos.line, pos.column), path, message: raw.message };
    });
    issues.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
    throw invalid(file, issues);
  }
  const config = result.data;
  const targets = toTargets(config);
  return { file, config, targets, safety: toSafety(config), warnings: [...configWarnings(config), ...portFamilyWarnings(targets)] };
}

/** Where the first alias (`*name`) of a document is: what an alias bomb is made of. */
function firstAlias(doc: Document): [number, number] | undefined {
  let range: [number, number] | undefined;
  visit(doc, {
    Alias(_key, node) {
      range = node.range ? [node.range[0], node.range[1]] : undefined;
      return visit.BREAK;
    },
  });
  return range;
}

/**
 * The document as plain data. The YAML library refuses to expand aliases
 * past a limit (a "billion laughs" document would otherwise take all memory);
 * that refusal, like any other, is a configuration error, not a crash.
 */
function toData(doc: Document, counter: LineCounter, file: string): unknown {
  try {
    return doc.toJS();
  } catch (e) {
    const reason = messageOf(e);
    const alias = isAlias(doc.contents) ? doc.contents.range : firstAlias(doc);
    const { line, col } = alias ? counter.linePos(alias[0]) : { line: 1, col: 1 };
    const hint = /excessive alias/i.test(reason) ? '; write the values out instead of repeating aliases (*name)' : '';
    throw invalid(file, [{ where: `${file}:${line}:${col}`, file, line, column: col, path: '', message: `YAML: ${reason}${hint}` }]);
  }
}

const PROTO = '__proto__';

/**
 * Every `__proto__` key in the document. Parsed into a plain object it would
 * vanish without a word (zod skips it in maps), so a tag condition written
 * with it would turn into no condition: a selector that admits everyone.
 */
function protoKeyPaths(data: unknown): PropertyKey[][] {
  const found: PropertyKey[][] = [];
  const stack: { value: unknown; path: PropertyKey[] }[] = [{ value: data, path: [] }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { value, path } = next;
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) value.forEach((v: unknown, i) => stack.push({ value: v, path: [...path, i] }));
    else {
      for (const [key, v] of Object.entries(value)) {
        if (key === PROTO) found.push([...path, key]);
        else stack.push({ value: v, path: [...path, key] });
      }
    }
  }
  return found;
}

function applyEnv(data: unknown, env: Env): (typeof ENV_OVERRIDES)[number][] {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return [];
  const applied: (typeof ENV_OVERRIDES)[number][] = [];
  for (const override of ENV_OVERRIDES) {
    const value = env[override.variable];
    if (value === undefined || value === '') continue;
    let node = data as Record<string, unknown>;
    for (const key of override.path.slice(0, -1)) {
      const next = node[key];
      node[key] = typeof next === 'object' && next !== null && !Array.isArray(next) ? next : {};
      node = node[key] as Record<string, unknown>;
    }
    node[override.path[override.path.length - 1] as string] = value;
    applied.push(override);
  }
  return applied;
}

function startHint(): string {
  const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
  const where = existsSync(examples) ? examples : 'the examples/ directory of sgsync';
  return `start from an example in ${where} and check it with "sgsync config validate FILE"`;
}

/**
 * Which file to read: `--config`, else `$SGSYNC_CONFIG`, else `./sgsync.yaml`.
 * An explicit choice is never second-guessed; with none, a missing
 * ./sgsync.yaml is an error that lists the places tried.
 */
export function findConfigFile(options: { configPath?: string | undefined; env?: Env; cwd?: string } = {}): string {
  const env = options.env ?? process.env;
  if (options.configPath) return options.configPath;
  const fromEnv = env.SGSYNC_CONFIG;
  if (fromEnv) return fromEnv;
  const cwd = options.cwd ?? process.cwd();
  if (existsSync(resolve(cwd, DEFAULT_CONFIG_FILE))) return DEFAULT_CONFIG_FILE;
  throw new SgsyncError(
    'CONFIG_INVALID',
    `no configuration found; tried --config (not given), $SGSYNC_CONFIG (not set) and ./${DEFAULT_CONFIG_FILE} (not found in ${cwd}).\n` +
      `Create ${DEFAULT_CONFIG_FILE} or pass --config FILE: ${startHint()}.`,
    { details: { tried: ['--config', '$SGSYNC_CONFIG', `./${DEFAULT_CONFIG_FILE}`] } },
  );
}

/**
 * Finds, reads and checks the configuration. The usual entry point for
 * commands: `await loadConfig({ configPath: opts.config })`.
 */
export async function loadConfig(options: { configPath?: string | undefined; env?: Env; cwd?: string } = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = findConfigFile({ ...options, env, cwd });
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const source = options.configPath ? '--config' : env.SGSYNC_CONFIG ? '$SGSYNC_CONFIG' : 'the default location';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : ((e as Error).message ?? String(e));
    throw new SgsyncError('CONFIG_INVALID', `cannot read configuration ${file} (from ${source}): ${why}`, { cause: e, details: { file } });
  }
  return parseConfig(text, file, env);
}
